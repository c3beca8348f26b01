// The per-op profiler at backend_for: rows per op, elementwise op and shape, and nothing recorded
// once it is off.
#include <catch2/catch.hpp>

#include <algorithm>

#include "engine/op_profile.h"
#include "engine/ops.h"

using namespace s2dm;

namespace {
const OpProfileRow* find_row(const std::vector<OpProfileRow>& rows, const std::string& key) {
  auto it = std::find_if(rows.begin(), rows.end(), [&](const auto& r) { return r.key == key; });
  return it == rows.end() ? nullptr : &*it;
}
}  // namespace

TEST_CASE("op profile: every op through backend_for is counted by name, op and shape", "[op_profile]") {
  Tensor x = Tensor::from_vector(std::vector<double>{-1, 0, 2, 3}, {2, 2}, DType::F32);
  clear_op_profile();
  enable_op_profile();
  Tensor y = silu(x);
  y = silu(y);
  Tensor z = clamp(add(y, y), -1, 1);
  disable_op_profile();
  (void)silu(x);  // not recorded

  const auto rows = op_profile_rows();
  const OpProfileRow* s = find_row(rows, "unary silu  float32[2, 2] cpu");
  REQUIRE(s != nullptr);
  CHECK(s->calls == 2);
  CHECK(s->seconds >= 0);
  const OpProfileRow* b = find_row(rows, "binary add  float32[2, 2] cpu");
  REQUIRE(b != nullptr);
  CHECK(b->calls == 1);
  CHECK(find_row(rows, "clamp  float32[2, 2] cpu") != nullptr);
  const std::string table = format_op_profile(1);
  CHECK_THAT(table, Catch::Contains("op profile:") && Catch::Contains("unary silu"));
  // The results are the plain backend's.
  CHECK(z.to_vector() == clamp(add(silu(silu(x)), silu(silu(x))), -1, 1).to_vector());
  clear_op_profile();
  CHECK(op_profile_rows().empty());
}
