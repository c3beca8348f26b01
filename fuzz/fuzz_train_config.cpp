// libFuzzer target: training and model configurations from JSON text, as s2dm-train reads
// --config files and checkpoint metadata (TrainConfig::from_json) and s2dm-sample reads a model
// block (UNetConfig::from_json). Like the tools, nlohmann's parse errors are caught where the text
// is parsed; from_json itself must report everything else as s2dm::Error.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "diffusion/train/train_config.h"
#include "engine/error.h"
#include "models/unet_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return 0;
  }
  try {
    s2dm::TrainConfig::from_json(j);
  } catch (const s2dm::Error&) {
  }
  try {
    s2dm::UNetConfig::from_json(j.contains("model") ? j.at("model") : j);
  } catch (const s2dm::Error&) {
  }
  return 0;
}
