// The random family: the Philox stream's known-answer vectors, and the uniform and normal fills
// (reproducible, offset-addressable, well distributed).
#include <catch2/catch.hpp>
#include <cmath>

#include "engine/ops.h"
#include "kernels/philox.h"

using namespace s2dm;

TEST_CASE("philox4x32-10 matches the Random123 known-answer vectors", "[philox]") {
  const philox::Words zero = philox::philox4x32_10_full({{0, 0, 0, 0}}, 0, 0);
  CHECK(zero.w[0] == 0x6627e8d5u);
  CHECK(zero.w[1] == 0xe169c58du);
  CHECK(zero.w[2] == 0xbc57ac4cu);
  CHECK(zero.w[3] == 0x9b00dbd8u);
  const philox::Words ones =
      philox::philox4x32_10_full({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu);
  CHECK(ones.w[0] == 0x408f276du);
  CHECK(ones.w[1] == 0x41c83b0eu);
  CHECK(ones.w[2] == 0xa20bc7c6u);
  CHECK(ones.w[3] == 0x6d5451fdu);
  const philox::Words pi = philox::philox4x32_10_full(
      {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u);
  CHECK(pi.w[0] == 0xd16cfe09u);
  CHECK(pi.w[1] == 0x94fdccebu);
  CHECK(pi.w[2] == 0x5001e420u);
  CHECK(pi.w[3] == 0x24126ea1u);
}

TEST_CASE("random draws are reproducible, offset-addressable and well distributed", "[philox]") {
  Generator g1(7), g2(7);
  Tensor a = randn({1001}, g1), b = randn({1001}, g2);
  CHECK(a.to_vector() == b.to_vector());
  CHECK(g1.offset == 251);  // ceil(1001 / 4) counters consumed

  // A draw at a later offset continues the same stream: element 4k at offset o is element 0 at o+k.
  Generator g3(7, 10);
  Tensor c = randn({4}, g3);
  CHECK(c.to_vector()[0] == a.to_vector()[40]);
  CHECK(c.to_vector()[3] == a.to_vector()[43]);

  Generator g(3);
  Tensor n = randn({200000}, g, DType::F64);
  const auto v = n.to_vector();
  double m = 0, m2 = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  for (double x : v) m2 += (x - m) * (x - m);
  m2 /= static_cast<double>(v.size());
  CHECK(std::abs(m) < 0.01);
  CHECK(std::abs(m2 - 1.0) < 0.02);

  Tensor u = rand({100000}, g);
  const auto uv = u.to_vector();
  double um = 0;
  for (double x : uv) {
    REQUIRE(x > 0.0);
    REQUIRE(x < 1.0);
    um += x;
  }
  CHECK(std::abs(um / static_cast<double>(uv.size()) - 0.5) < 0.01);
}
