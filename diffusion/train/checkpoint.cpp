// Saving and restoring training state through safetensors.
#include "diffusion/train/checkpoint.h"

#include "engine/autograd.h"
#include "engine/error.h"

namespace s2dm {

namespace {
constexpr const char* kFormat = "s2dm-train-checkpoint-1";

const std::string& meta(const SafetensorsFile& f, const std::string& key, const std::string& path) {
  auto it = f.metadata.find(key);
  S2DM_CHECK(it != f.metadata.end(), "{}: checkpoint metadata has no '{}' (not an s2dm training checkpoint?)",
             path, key);
  return it->second;
}

int64_t meta_int(const SafetensorsFile& f, const std::string& key, const std::string& path) {
  const std::string& v = meta(f, key, path);
  try {
    size_t used = 0;
    const long long r = std::stoll(v, &used);
    S2DM_CHECK(used == v.size(), "{}: metadata '{}' = '{}' is not an integer", path, key, v);
    return r;
  } catch (const std::logic_error&) {
    fail("{}: metadata '{}' = '{}' is not an integer", path, key, v);
  }
}
// Steps, offsets and positions count up from 0.
int64_t meta_count(const SafetensorsFile& f, const std::string& key, const std::string& path) {
  const int64_t v = meta_int(f, key, path);
  S2DM_CHECK(v >= 0, "{}: metadata '{}' = {} is negative; the checkpoint is corrupt", path, key, v);
  return v;
}
}  // namespace

void save_checkpoint(const std::string& path, const TrainConfig& config, const TrainingState& state,
                     const FlatParameters& params, Ema& ema, Adam& adam) {
  std::map<std::string, Tensor> tensors;
  for (size_t i = 0; i < params.named().size(); ++i) {
    const std::string& name = params.named()[i].first;
    tensors["model." + name] = params.view_of(params.values(), i);
    tensors["ema." + name] = params.view_of(ema.values(), i);
    tensors["adam.exp_avg." + name] = params.view_of(adam.exp_avg(), i);
    tensors["adam.exp_avg_sq." + name] = params.view_of(adam.exp_avg_sq(), i);
  }
  const std::map<std::string, std::string> metadata = {
      {"format", kFormat},
      {"config", config.to_json().dump()},
      {"step", std::to_string(state.step)},
      {"adam_step", std::to_string(adam.steps())},
      {"noise_offset", std::to_string(state.noise_offset)},
      {"data_epoch", std::to_string(state.data_epoch)},
      {"data_position", std::to_string(state.data_position)},
      {"loss", fmt::format("{:.9g}", state.last_loss)}};
  save_safetensors(path, tensors, metadata);
}

Checkpoint load_checkpoint(const std::string& path) {
  Checkpoint c;
  c.file = load_safetensors(path);
  S2DM_CHECK(meta(c.file, "format", path) == kFormat, "{}: unknown checkpoint format '{}'", path,
             meta(c.file, "format", path));
  try {
    c.config = TrainConfig::from_json(nlohmann::json::parse(meta(c.file, "config", path)));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: the config in the metadata is not valid JSON: {}", path, e.what());
  }
  c.state.step = meta_count(c.file, "step", path);
  c.adam_step = meta_count(c.file, "adam_step", path);
  c.state.noise_offset = static_cast<uint64_t>(meta_count(c.file, "noise_offset", path));
  c.state.data_epoch = meta_count(c.file, "data_epoch", path);
  c.state.data_position = meta_count(c.file, "data_position", path);
  try {
    c.state.last_loss = std::stod(meta(c.file, "loss", path));
  } catch (const std::logic_error&) {
    fail("{}: metadata 'loss' = '{}' is not a number", path, meta(c.file, "loss", path));
  }
  return c;
}

std::map<std::string, Tensor> weights_from(const SafetensorsFile& file, const std::string& which,
                                           const std::string& path) {
  S2DM_CHECK(which == "ema" || which == "model", "weights must be 'ema' or 'model', got '{}'", which);
  const std::string prefix = which + ".";
  std::map<std::string, Tensor> out;
  bool prefixed = false;
  for (const auto& [name, t] : file.tensors) {
    if (name.rfind("model.", 0) == 0 || name.rfind("ema.", 0) == 0) prefixed = true;
    if (name.rfind(prefix, 0) == 0) out[name.substr(prefix.size())] = t;
  }
  if (!prefixed) return file.tensors;  // a plain state dict
  S2DM_CHECK(!out.empty(), "{}: no '{}' weights in this checkpoint", path, which);
  return out;
}

void restore_checkpoint(const Checkpoint& ckpt, FlatParameters& params, Ema& ema, Adam& adam) {
  NoGradGuard no_grad;
  const auto& t = ckpt.file.tensors;
  for (size_t i = 0; i < params.named().size(); ++i) {
    const std::string& name = params.named()[i].first;
    auto load = [&](const std::string& key, const Tensor& flat) {
      auto it = t.find(key);
      S2DM_CHECK(it != t.end(), "checkpoint has no tensor '{}' (a different model config?)", key);
      Tensor dst = params.view_of(flat, i);
      S2DM_CHECK(it->second.shape() == dst.shape(), "checkpoint tensor '{}' has shape {}, the model expects {}",
                 key, shape_str(it->second.shape()), shape_str(dst.shape()));
      dst.copy_(it->second);
    };
    load("model." + name, params.values());
    load("ema." + name, ema.values());
    load("adam.exp_avg." + name, adam.exp_avg());
    load("adam.exp_avg_sq." + name, adam.exp_avg_sq());
  }
  adam.set_steps(ckpt.adam_step);
}

}  // namespace s2dm
