// s2dm-compare-checkpoints A B TOL: exits 0 when two training checkpoints hold the same run state:
// every tensor (model, EMA, Adam moments) within normalised MSE TOL, the loss too, and the step,
// optimizer step, noise offset and data position equal. Prints the largest NMSE per group.
//
// NMSE = Σ(a−b)² / max(Σb², n·r²) with r the RMS of B's whole group (all Adam first moments, say):
// a tensor whose values are rounding noise is judged on its group's scale. The attention key
// bias is one: softmax ignores a shift shared by all keys, so its exact gradient is zero and its
// Adam moments hold only the rounding of sums, which differ with the order of the sum.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include "engine/error.h"
#include "engine/io/safetensors.h"

using namespace s2dm;

namespace {

double nmse(const std::vector<double>& a, const std::vector<double>& b, double floor) {
  double err = 0, ref = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    err += (a[i] - b[i]) * (a[i] - b[i]);
    ref += b[i] * b[i];
  }
  return err / std::max({ref, floor, 1e-300});
}

int run(int argc, char** argv) {
  S2DM_CHECK(argc == 4, "usage: s2dm-compare-checkpoints A.safetensors B.safetensors TOL");
  const SafetensorsFile a = load_safetensors(argv[1], DType::F64), b = load_safetensors(argv[2], DType::F64);
  const double tol = std::stod(argv[3]);
  int bad = 0;
  S2DM_CHECK(a.tensors.size() == b.tensors.size(), "{} holds {} tensors, {} holds {}", argv[1],
             a.tensors.size(), argv[2], b.tensors.size());
  auto group_of = [](const std::string& name) {
    return name.rfind("adam.", 0) == 0 ? name.substr(0, name.find('.', 5)) : name.substr(0, name.find('.'));
  };
  std::map<std::string, double> energy, count;  // per group: Σb², elements
  for (const auto& [name, tb] : b.tensors) {
    for (double v : tb.to_vector()) energy[group_of(name)] += v * v;
    count[group_of(name)] += static_cast<double>(tb.numel());
  }
  std::map<std::string, double> worst;  // by group: model, ema, adam.exp_avg, adam.exp_avg_sq
  for (const auto& [name, ta] : a.tensors) {
    auto it = b.tensors.find(name);
    S2DM_CHECK(it != b.tensors.end(), "{} has no tensor {}", argv[2], name);
    S2DM_CHECK(ta.shape() == it->second.shape(), "{}: shapes differ", name);
    const std::string key = group_of(name);
    const double floor = static_cast<double>(ta.numel()) * energy[key] / std::max(count[key], 1.0);
    const double e = nmse(ta.to_vector(), it->second.to_vector(), floor);
    worst[key] = std::max(worst[key], e);
    if (!(e <= tol)) {
      std::printf("tensor %s: NMSE %.3g > %.3g\n", name.c_str(), e, tol);
      ++bad;
    }
  }
  for (const auto& [group, e] : worst) std::printf("%-16s max NMSE %.3g\n", group.c_str(), e);
  for (const char* key : {"step", "adam_step", "noise_offset", "data_epoch", "data_position"}) {
    if (a.metadata.at(key) != b.metadata.at(key)) {
      std::printf("metadata %s: %s vs %s\n", key, a.metadata.at(key).c_str(), b.metadata.at(key).c_str());
      ++bad;
    }
  }
  const double la = std::stod(a.metadata.at("loss")), lb = std::stod(b.metadata.at("loss"));
  const double loss_nmse = (la - lb) * (la - lb) / std::max(lb * lb, 1e-300);
  std::printf("loss %.9g vs %.9g (NMSE %.3g)\n", la, lb, loss_nmse);
  // The checkpoint stores the loss with 9 significant digits.
  if (!(loss_nmse <= std::max(tol, 1e-16))) ++bad;
  std::printf("%s\n", bad == 0 ? "same run state" : "DIFFERENT");
  return bad == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "s2dm-compare-checkpoints: error: %s\n", e.what());
    return 2;
  }
}
