// Optimizers: Adam + gradient clipping + EMA against PyTorch over three steps, the fused
// Adam + EMA step against the two separate updates bit for bit, and clipping by a norm left on
// the device against the host's clip_coefficient.
#include <catch2/catch.hpp>
#include <cmath>

#include "engine/error.h"
#include "engine/io/npy.h"
#include "engine/nn/flat_parameters.h"
#include "engine/nn/layers.h"
#include "engine/ops.h"
#include "engine/optim/adam.h"
#include "tests/gradcheck.h"
#include "tests/hashed_values.h"

using namespace s2dm;

namespace {

struct AOnly : Module {
  Tensor weight;
  explicit AOnly(const Tensor& w) { weight = register_parameter("weight", w); }
};

struct Golden2 : Module {
  std::shared_ptr<AOnly> a;
  Tensor b;
  Golden2(const Tensor& aw, const Tensor& bv) {
    a = register_module("a", std::make_shared<AOnly>(aw));
    b = register_parameter("b", bv);
  }
};

Tensor golden(const std::string& name) { return load_npy(test::golden_path("optim/" + name)); }

}  // namespace

TEST_CASE("Adam + clip_grad_norm + EMA match PyTorch over three steps", "[nn][optim]") {
  Golden2 model(golden("init_a.weight.npy"), golden("init_b.npy"));
  FlatParameters flat(model);
  Adam adam(flat, AdamConfig{0.01, 0.9, 0.999, 1e-8, 0.0});
  Ema ema(flat, 0.9);
  // Own parameters come before submodules' (PyTorch order): b first, then a.weight.
  REQUIRE(flat.named()[0].first == "b");
  const size_t ia = 1, ib = 0;
  for (int step = 0; step < 3; ++step) {
    const std::string s = std::to_string(step);
    flat.view_of(flat.grads(), ia).copy_(golden("grad" + s + "_a.weight.npy"));
    flat.view_of(flat.grads(), ib).copy_(golden("grad" + s + "_b.npy"));
    const double norm = flat.grad_norm();
    CHECK(norm == Approx(golden("norm" + s + ".npy").item()).epsilon(1e-12));
    if (step == 0) CHECK(clip_coefficient(norm, 1.0) < 1.0);  // this step is clipped
    adam.step(clip_coefficient(norm, 1.0));
    ema.update();
    test::require_close("param a", model.a->weight, golden("param" + s + "_a.weight.npy"), 1e-12, 1e-10);
    test::require_close("param b", model.b, golden("param" + s + "_b.npy"), 1e-12, 1e-10);
    test::require_close("exp_avg", flat.view_of(adam.exp_avg(), ia), golden("m" + s + "_a.weight.npy"), 1e-12, 1e-10);
    test::require_close("exp_avg_sq", flat.view_of(adam.exp_avg_sq(), ib), golden("v" + s + "_b.npy"), 1e-14, 1e-10);
    test::require_close("ema a", ema.state_dict().at("a.weight"), golden("ema" + s + "_a.weight.npy"), 1e-12, 1e-10);
    test::require_close("ema b", ema.state_dict().at("b"), golden("ema" + s + "_b.npy"), 1e-12, 1e-10);
  }
  CHECK(adam.steps() == 3);
  CHECK(clip_coefficient(0.5, 1.0) == 1.0);
  CHECK(clip_coefficient(10.0, 0.0) == 1.0);  // disabled
}

TEST_CASE("the fused Adam + EMA step equals adam_step then ema_update bit for bit", "[nn][optim]") {
  Backend& cpu = backend_for(Device::cpu());
  const int64_t n = 100003;  // odd, and past the OpenMP threshold
  const struct {
    int64_t step;
    double weight_decay, grad_scale;
  } settings[] = {{1, 0.0, 1.0}, {1, 0.01, 0.37}, {1000, 0.0, 0.37}, {1000, 0.01, 1.0}};
  for (DType dt : {DType::F32, DType::F64}) {
    auto values = [&](uint64_t seed, double scale, double shift) {
      return Tensor::from_vector(test::hashed_values(n, seed, scale, shift), {n}, dt);
    };
    for (const auto& set : settings) {
      INFO(dtype_name(dt) << " step " << set.step << " weight_decay " << set.weight_decay
                          << " grad_scale " << set.grad_scale);
      AdamParams p;
      p.step = set.step;
      p.weight_decay = set.weight_decay;
      p.grad_scale = set.grad_scale;
      const Tensor grad = values(2, 0.02, 0.003);
      Tensor param = values(1, 1.0, 0.0), m = values(3, 0.005, 0.0), v = values(4, 2e-5, 2e-5);
      Tensor ema = values(5, 1.0, 0.0);
      Tensor fparam = param.clone(), fm = m.clone(), fv = v.clone(), fema = ema.clone();
      cpu.adam_step(param, grad, m, v, Tensor(), p);
      cpu.ema_update(ema, param, 0.9999);
      cpu.adam_ema_step(fparam, grad, fm, fv, fema, Tensor(), p, 0.9999);
      CHECK(fparam.to_vector() == param.to_vector());
      CHECK(fm.to_vector() == m.to_vector());
      CHECK(fv.to_vector() == v.to_vector());
      CHECK(fema.to_vector() == ema.to_vector());
    }
  }

  // Through the optimizer, as the trainer steps (float32).
  AOnly a(Tensor::from_vector(test::hashed_values(1001, 7, 1.0, 0.0), {7, 143}, DType::F32));
  AOnly b(a.weight.clone());
  FlatParameters fa(a), fb(b);
  Adam adam_a(fa, AdamConfig{0.01, 0.9, 0.999, 1e-8, 0.001});
  Adam adam_b(fb, AdamConfig{0.01, 0.9, 0.999, 1e-8, 0.001});
  Ema ema_a(fa, 0.9), ema_b(fb, 0.9);
  for (uint64_t step = 0; step < 3; ++step) {
    const Tensor g = test::hashed_f32({1001}, 10 + step, 0.1, 0.0);
    fa.grads().copy_(g);
    fb.grads().copy_(g);
    adam_a.step(0.5);
    ema_a.update();
    adam_b.step(0.5, ema_b);
  }
  CHECK(adam_b.steps() == 3);
  CHECK(fb.values().to_vector() == fa.values().to_vector());
  CHECK(ema_b.values().to_vector() == ema_a.values().to_vector());
  CHECK(adam_b.exp_avg_sq().to_vector() == adam_a.exp_avg_sq().to_vector());
  CHECK_THROWS_WITH(adam_b.step(1.0, ema_a), Catch::Contains("other parameters"));
}

TEST_CASE("clipping by the device-side squared norm equals the host's clip_coefficient",
          "[nn][optim]") {
  // Three models stepped alike: the host path (norm read, clip_coefficient), the device path
  // (grad_sq passed to the step) and the device path fed a NaN norm on the second step.
  auto make = [] {
    return AOnly(Tensor::from_vector(test::hashed_values(1001, 7, 1.0, 0.0), {7, 143}, DType::F32));
  };
  AOnly a = make(), b = make(), c = make();
  FlatParameters fa(a), fb(b), fc(c);
  const AdamConfig config{0.01, 0.9, 0.999, 1e-8, 0.0};
  Adam adam_a(fa, config), adam_b(fb, config), adam_c(fc, config);
  Ema ema_a(fa, 0.9), ema_b(fb, 0.9), ema_c(fc, 0.9);
  for (uint64_t step = 0; step < 3; ++step) {
    INFO("step " << step);
    // The first gradient is clipped (norm about 3.2 > 1), the others are not (norm about 0.3).
    const Tensor g = test::hashed_f32({1001}, 20 + step, step == 0 ? 0.17 : 0.017, 0.0);
    for (FlatParameters* f : {&fa, &fb, &fc}) f->grads().copy_(g);
    const double norm = fa.grad_norm();
    CHECK((step == 0) == (clip_coefficient(norm, 1.0) < 1.0));
    adam_a.step(clip_coefficient(norm, 1.0), ema_a);
    adam_b.step(fb.grad_sq(), 1.0, ema_b);
    Tensor sq = fc.grad_sq();
    if (step == 1) sq.fill_(std::nan(""));
    const std::vector<double> before = fc.values().to_vector(), ema_before = ema_c.values().to_vector();
    adam_c.step(sq, 1.0, ema_c);
    CHECK(fb.values().to_vector() == fa.values().to_vector());
    CHECK(ema_b.values().to_vector() == ema_a.values().to_vector());
    CHECK(adam_b.exp_avg_sq().to_vector() == adam_a.exp_avg_sq().to_vector());
    // A NaN norm changes nothing; the other steps change every parameter.
    CHECK((fc.values().to_vector() == before) == (step == 1));
    CHECK((ema_c.values().to_vector() == ema_before) == (step == 1));
  }
  CHECK(adam_c.steps() == 3);
  Tensor wrong = Tensor::zeros({1}, DType::F32);
  CHECK_THROWS_WITH(adam_b.step(wrong, 1.0, ema_b), Catch::Contains("one float64 element"));
}
