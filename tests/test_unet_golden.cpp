// UNet against a PyTorch transcription of the reference model (tests/golden/gen_unet.py), in
// float64: the output, the S²-DM loss, and every parameter gradient of both.
#include <catch2/catch.hpp>

#include "diffusion/s2dm_loss.h"
#include "diffusion/schedule.h"
#include "engine/io/npy.h"
#include "engine/ops.h"
#include "models/unet.h"
#include "tests/gradcheck.h"

using namespace s2dm;

namespace {

UNetConfig golden_config() {
  UNetConfig c;
  c.ch = 8;
  c.ch_mult = {1, 2};
  c.num_res_blocks = 1;
  c.attn_resolutions = {4};
  c.resolution = 8;
  c.in_channels = c.out_channels = 1;
  c.groups = 4;
  c.dropout = 0.0;
  return c;
}

Tensor golden(const std::string& name) { return load_npy(test::golden_path("unet/" + name)); }

std::unique_ptr<UNet> golden_model() {
  Generator g(0);
  auto net = std::make_unique<UNet>(golden_config(), g, LayerOptions{DType::F64, Device::cpu()});
  std::map<std::string, Tensor> sd;
  for (const auto& [name, p] : net->named_parameters()) sd[name] = golden("params/" + name + ".npy");
  net->load_state_dict(sd);
  net->train(false);
  return net;
}

}  // namespace

TEST_CASE("UNet output and parameter gradients match PyTorch", "[unet][golden]") {
  auto net = golden_model();
  Tensor x = golden("x.npy"), t = golden("t.npy");
  Tensor out = net->forward(x, t);
  test::require_close("UNet output", out, golden("out.npy"), 1e-10, 1e-8);
  sum(mul(out, golden("w.npy"))).backward();
  for (const auto& [name, p] : net->named_parameters()) {
    test::require_close("grad " + name, p.grad(), golden("params/" + name + ".grad_out.npy"), 1e-9, 1e-7);
  }
}

TEST_CASE("S²-DM loss through the UNet matches PyTorch, with every parameter gradient", "[unet][golden][loss]") {
  auto net = golden_model();
  const auto tv = golden("t_int.npy").to_vector();
  std::vector<int64_t> t(tv.begin(), tv.end());
  REQUIRE(t == std::vector<int64_t>{2, 400, 999});  // one sample below skip = 9
  Tensor out = net->forward(golden("x.npy"), time_tensor(t, DType::F64));
  S2dmLossOptions opt;
  opt.skip = 9;
  opt.tau = 0.5;  // weights the skip term heavily so its gradient is visible
  NoiseSchedule schedule;
  S2dmLoss loss = s2dm_loss(schedule, out, golden("eps1.npy"), golden("eps2.npy"), t, opt);
  CHECK(loss.loss.item() == Approx(golden("loss.npy").item()).epsilon(1e-10));
  loss.loss.backward();
  for (const auto& [name, p] : net->named_parameters()) {
    test::require_close("loss grad " + name, p.grad(), golden("params/" + name + ".grad_loss.npy"), 1e-10, 1e-7);
  }
}
