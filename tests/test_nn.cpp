// Modules (names, state dicts), layer initialisation and flat parameter buffers.
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

struct Block : Module {
  std::shared_ptr<Linear> fc;
  std::shared_ptr<GroupNorm> norm1;
  Block(Generator& g) {
    fc = register_module("fc", std::make_shared<Linear>(4, 8, g));
    norm1 = register_module("norm1", std::make_shared<GroupNorm>(2, 8));
  }
};

struct Net : Module {
  std::shared_ptr<ModuleList> down;
  Tensor scale;
  Net(Generator& g) {
    scale = register_parameter("scale", Tensor::ones({1}));
    down = register_module("down", std::make_shared<ModuleList>());
    down->push_back(std::make_shared<Block>(g));
    down->push_back(std::make_shared<Block>(g));
  }
};

}  // namespace

TEST_CASE("modules name parameters with dotted paths in registration order", "[nn]") {
  Generator g(1);
  Net net(g);
  std::vector<std::string> names;
  for (auto& [n, p] : net.named_parameters()) names.push_back(n);
  const std::vector<std::string> want = {"scale",
                                         "down.0.fc.weight", "down.0.fc.bias",
                                         "down.0.norm1.weight", "down.0.norm1.bias",
                                         "down.1.fc.weight", "down.1.fc.bias",
                                         "down.1.norm1.weight", "down.1.norm1.bias"};
  CHECK(names == want);
  CHECK(net.num_parameters() == 1 + 2 * (32 + 8 + 8 + 8));
  for (auto& p : net.parameters()) CHECK(p.requires_grad());
  net.train(false);
  CHECK_FALSE(net.down->at<Block>(1).is_training());
}

TEST_CASE("state dicts load by name and reject mismatches clearly", "[nn]") {
  Generator g1(1), g2(2);
  Net a(g1), b(g2);
  CHECK(a.down->at<Block>(0).fc->weight.to_vector() != b.down->at<Block>(0).fc->weight.to_vector());
  b.load_state_dict(a.state_dict());
  CHECK(a.down->at<Block>(0).fc->weight.to_vector() == b.down->at<Block>(0).fc->weight.to_vector());

  auto sd = a.state_dict();
  sd.erase("down.1.fc.bias");
  sd["extra.weight"] = Tensor::zeros({1});
  CHECK_THROWS_WITH(b.load_state_dict(sd),
                    Catch::Contains("missing [down.1.fc.bias]") && Catch::Contains("unexpected [extra.weight]"));
  auto bad = a.state_dict();
  bad["scale"] = Tensor::zeros({2});
  CHECK_THROWS_WITH(b.load_state_dict(bad), Catch::Contains("scale has shape [2]"));
}

TEST_CASE("layers: PyTorch default init bounds and forward values", "[nn]") {
  Generator g(3);
  Linear fc(100, 50, g);
  const double bound = 1.0 / std::sqrt(100.0);
  double lo = 1, hi = -1;
  for (double v : fc.weight.to_vector()) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  CHECK(lo >= -bound);
  CHECK(hi <= bound);
  CHECK(lo < -0.9 * bound);  // actually spans the range
  CHECK(hi > 0.9 * bound);

  Linear small(2, 1, g);
  small.weight.copy_(Tensor::from_vector(std::vector<float>{2, 3}, {1, 2}));
  small.bias.copy_(Tensor::from_vector(std::vector<float>{1}, {1}));
  Tensor y = small.forward(Tensor::from_vector(std::vector<float>{1, 1, 2, -1}, {2, 2}));
  CHECK(y.to_vector() == std::vector<double>{6, 2});
  CHECK_THROWS_AS(GroupNorm(3, 8), Error);
}

TEST_CASE("layers: Conv2d with a non-square kernel and padding on H and W", "[nn]") {
  Generator g(5);
  Conv2d conv(3, 4, {1, 7}, 1, {0, 3}, g);
  CHECK(conv.weight.shape() == Shape{4, 3, 1, 7});
  CHECK(conv.pad_h == 0);
  CHECK(conv.pad_w == 3);
  const double bound = 1.0 / std::sqrt(21.0);  // fan_in = 3·1·7
  for (double v : conv.weight.to_vector()) CHECK(std::abs(v) <= bound);
  Tensor x = test::randn64({2, 3, 5, 9}, 6, 1.0, 0.0, false).to(DType::F32);
  Tensor y = conv.forward(x);
  REQUIRE(y.shape() == Shape{2, 4, 5, 9});  // 1x7 padded (0, 3) keeps the size
  CHECK(y.to_vector() == conv2d(x, conv.weight, conv.bias, 1, 0, 3).to_vector());

  // The square constructor is the same layer with kernel (k, k) and padding (p, p).
  Generator g1(9), g2(9);
  Conv2d square(2, 3, 3, 2, 1, g1), pair(2, 3, {3, 3}, 2, {1, 1}, g2);
  CHECK(square.weight.to_vector() == pair.weight.to_vector());
  CHECK(square.bias.to_vector() == pair.bias.to_vector());
  CHECK(square.pad_h == 1);
  CHECK(square.pad_w == 1);
  CHECK_THROWS_WITH(Conv2d(3, 4, {0, 7}, 1, {0, 3}, g), Catch::Contains("sizes must be positive"));
}

TEST_CASE("flat parameters: views, in-place gradient accumulation, zero_grad", "[nn]") {
  Generator g(4);
  Net net(g);
  const auto before = net.down->at<Block>(1).fc->weight.to_vector();
  FlatParameters flat(net);
  CHECK(flat.numel() == net.num_parameters());
  // Values survived the move and now live in the flat buffer.
  Tensor w = net.down->at<Block>(1).fc->weight;
  CHECK(w.to_vector() == before);
  CHECK(w.impl()->storage == flat.values().impl()->storage);

  Tensor x = Tensor::ones({3, 4});
  sum(net.down->at<Block>(0).fc->forward(x)).backward();
  sum(net.down->at<Block>(0).fc->forward(x)).backward();  // accumulates
  Tensor gb = net.down->at<Block>(0).fc->bias.grad();
  CHECK(gb.impl()->storage == flat.grads().impl()->storage);
  CHECK(gb.to_vector() == std::vector<double>(8, 6.0));  // 2 passes × batch 3
  CHECK(flat.grad_norm() > 0);
  flat.zero_grad();
  CHECK(flat.grad_norm() == 0);
  CHECK(net.down->at<Block>(0).fc->bias.grad().defined());
}

