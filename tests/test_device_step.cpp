// Whole training steps on the device backends match the CPU backend for the same seed: the SIMT
// emulator here (every handwritten kernel and all of KernelBackend, with the CPU's gemm and
// convolutions), and each CUDA device on a GPU machine (cuBLAS and cuDNN too). Random streams
// are bit-identical across backends, so initial weights, noise and dropout masks agree exactly
// and only summation order separates the results.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "diffusion/s2dm_loss.h"
#include "diffusion/schedule.h"
#include "diffusion/train/trainer.h"
#include "engine/io/safetensors.h"
#include "engine/nn/flat_parameters.h"
#include "engine/op_profile.h"
#include "engine/ops/random.h"
#include "engine/simt/simt_backend.h"
#include "models/unet.h"
#include "tests/backend_ops/backends.h"
#include "tests/hashed_values.h"
#include "tests/temp_dir.h"
#include "tests/train_fixtures.h"

using namespace s2dm;
namespace fs = std::filesystem;

namespace {

double nmse(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  double err = 0, ref = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    err += (got[i] - want[i]) * (got[i] - want[i]);
    ref += want[i] * want[i];
  }
  return err / std::max(ref, 1e-300);  // NaN anywhere fails the callers' comparisons
}

struct StepResult {
  std::vector<double> init, out, grads;
  double loss = 0;
};

// Builds the tiny UNet on `device` from a fixed seed and runs forward, S²-DM loss and backward.
StepResult forward_backward(const UNetConfig& cfg, Device device) {
  Generator init(17), dropout(99);
  UNet model(cfg, init, LayerOptions{DType::F32, device});
  FlatParameters params(model);
  StepResult r;
  r.init = params.values().to_vector();
  const Shape xs{4, cfg.in_channels, cfg.resolution, cfg.resolution};
  const std::vector<int64_t> t{0, 5, 400, 999};  // both sides of skip = 9
  NoiseSchedule schedule;
  const Tensor x0 = test::hashed_f32(xs, 3, 0.9, 0.0).to(device);
  const Tensor eps1 = test::hashed_f32(xs, 4, 1.0, 0.0).to(device);
  const Tensor eps2 = test::hashed_f32(xs, 5, 1.0, 0.0).to(device);
  const Tensor xt = q_sample(schedule, x0, t, eps1);
  model.train(true);
  const Tensor out = model.forward(xt, time_tensor(t, DType::F32, device), dropout);
  const S2dmLoss loss = s2dm_loss(schedule, out, eps1, eps2, t, {});
  params.zero_grad();
  loss.loss.backward();
  r.out = out.to_vector();
  r.loss = loss.loss.item();
  r.grads = params.grads().to_vector();
  return r;
}

// Turns TF32 products off for a scope, so a GPU's cuBLAS and cuDNN compute in full float32 and
// differ from the CPU only in summation order, like the SIMT device.
struct FullFloat32 {
  bool was = tf32_enabled();
  FullFloat32() { set_tf32_enabled(false); }
  ~FullFloat32() { set_tf32_enabled(was); }
};

std::vector<Device> devices_under_test() {
  std::vector<Device> d;
  for (Backend* b : backend_ops::backends_under_test()) d.push_back(b->device());
  return d;
}

}  // namespace

TEST_CASE("device: a UNet forward, S2-DM loss and backward match the CPU", "[device]") {
  const TrainConfig cfg = test::tiny_config("unused");
  const StepResult cpu = forward_backward(cfg.model, Device::cpu());
  for (Device d : devices_under_test()) {
    INFO(d.str());
    {
      FullFloat32 fp32;
      const StepResult dev = forward_backward(cfg.model, d);
      CHECK(dev.init == cpu.init);  // Philox initialisation, bit for bit
      CHECK(nmse(dev.out, cpu.out) < 1e-10);
      CHECK(dev.loss == Approx(cpu.loss).epsilon(1e-5));
      CHECK(nmse(dev.grads, cpu.grads) < 1e-9);
    }
    if (d.type == DeviceType::CUDA) {
      // The GPU default: TF32 rounds the products' inputs to 10-bit mantissas (about 5e-4).
      INFO("TF32");
      const StepResult dev = forward_backward(cfg.model, d);
      CHECK(nmse(dev.out, cpu.out) < 1e-6);
      CHECK(dev.loss == Approx(cpu.loss).epsilon(1e-3));
      CHECK(nmse(dev.grads, cpu.grads) < 1e-5);
    }
  }
}

TEST_CASE("device: training steps with checkpoints match the CPU", "[device]") {
  test::TempDir tmp("device_step");
  auto data = std::make_shared<test::StripeData>();
  TrainConfig base = test::tiny_config((fs::path(tmp.dir) / "cpu").string());
  base.steps = 3;
  const TrainResult cpu = train(base, test::quiet_with(data));
  const auto want = load_safetensors(checkpoint_path(base)).tensors;
  FullFloat32 fp32;  // the TF32 default is covered by the single-step test above
  for (Device d : devices_under_test()) {
    INFO(d.str());
    TrainConfig cfg = base;
    cfg.device = d.str();
    cfg.out_dir = (fs::path(tmp.dir) / d.str()).string();
    const TrainResult dev = train(cfg, test::quiet_with(data));
    CHECK(dev.step == 3);
    CHECK(dev.last_loss == Approx(cpu.last_loss).epsilon(1e-4));
    const auto got = load_safetensors(checkpoint_path(cfg)).tensors;
    REQUIRE(got.size() == want.size());
    for (const auto& [name, t] : want) {
      INFO(name);
      REQUIRE(got.count(name) == 1);
      // The attention's key bias adds the same q·b to every score of a query, which softmax
      // cancels: its true gradient is zero and both backends accumulate only rounding noise into
      // its Adam moments. The weights themselves are still compared.
      if (name.rfind("adam.", 0) == 0 && name.find(".k.bias") != std::string::npos) continue;
      // Adam divides by √v, so near-zero gradients amplify rounding differences in the update:
      // compare the whole tensor's error rather than each element.
      CHECK(nmse(got.at(name).to_vector(), t.to_vector()) < 1e-6);
    }
  }
}

namespace {

// Host-to-device and device-to-host copies so far, from the op profiler's rows.
std::pair<int64_t, int64_t> host_transfers() {
  std::pair<int64_t, int64_t> n{0, 0};
  for (const OpProfileRow& r : op_profile_rows()) {
    if (r.key.rfind("copy_from_host", 0) == 0) n.first += r.calls;
    if (r.key.rfind("copy_to_host", 0) == 0) n.second += r.calls;
  }
  return n;
}

struct CountingOps {
  CountingOps() {
    clear_op_profile();
    enable_op_profile({/*timing=*/false, /*nvtx=*/false});
  }
  ~CountingOps() {
    disable_op_profile();
    clear_op_profile();
  }
};

}  // namespace

TEST_CASE("device: a training step uploads two tensors and reads nothing back", "[device]") {
  // On the SIMT device every host transfer goes through the backend as on a GPU, where each one
  // waits for the stream. A step uploads its images and its one table of per-sample coefficients
  // and reads nothing; a log line reads the values of the steps since the last one in one copy.
  register_simt_backend();
  test::TempDir tmp("device_transfers");
  TrainConfig cfg = test::tiny_config(tmp.dir.string());
  cfg.device = "simt";
  cfg.steps = 9;
  cfg.log_every = 4;
  cfg.ckpt_every = 1000;  // the last step's checkpoint and grid come after the last count
  std::vector<std::pair<int64_t, int64_t>> after;  // counts after each step
  TrainOptions o = test::quiet_with(std::make_shared<test::StripeData>());
  o.after_step = [&](int64_t, FlatParameters&) { after.push_back(host_transfers()); };
  {
    CountingOps counting;
    const TrainResult r = train(cfg, o);
    CHECK(r.step == 9);
    CHECK(std::isfinite(r.last_loss));
  }
  REQUIRE(after.size() == 9);
  for (size_t i = 1; i < after.size(); ++i) {
    // From the end of step i to the end of step i + 1: step i's log line when i is a multiple
    // of 4, then step i + 1.
    INFO("from step " << i << " to step " << i + 1);
    CHECK(after[i].first - after[i - 1].first == 2);
    CHECK(after[i].second - after[i - 1].second == (i % 4 == 0 ? 1 : 0));
  }
}
