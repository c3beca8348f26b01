// The backend-ops harness under Catch2: every case on every backend under test (the SIMT
// emulator here; CUDA devices too on a GPU machine) against the CPU backend, and a check that
// every Backend op has cases.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "tests/backend_ops/backends.h"
#include "tests/backend_ops/harness.h"

using namespace s2dm;
using namespace s2dm::backend_ops;

TEST_CASE("backend ops: every Backend op has parity cases", "[backend_ops]") {
  std::set<std::string> covered, known(std::begin(kBackendOpNames), std::end(kBackendOpNames));
  for (const OpCase& c : all_cases()) {
    INFO(c.op << " " << c.desc);
    CHECK(known.count(c.op) == 1);  // a case names a real op
    covered.insert(c.op);
  }
  for (const std::string& op : known) {
    INFO("no harness case for " << op);
    CHECK(covered.count(op) == 1);
  }
}

TEST_CASE("backend ops: every backend matches the CPU backend", "[backend_ops]") {
  const auto cases = all_cases();
  for (Backend* b : backends_under_test()) {
    for (const OpCase& c : cases) {
      for (DType dt : c.dtypes) {
        INFO(b->device().str() << " " << c.op << " " << c.desc << " " << dtype_name(dt));
        const CheckResult r = check_case(c, *b, dt);
        INFO(r.message);
        CHECK(r.ok);
      }
    }
  }
}
