// Every op family of engine/backend_ops.h is found under its one name in every layer, so grep for a
// family name finds all of its code (docs/adding-an-op.md).
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <string>

#include "engine/backend.h"

using namespace s2dm;

namespace {

std::set<std::string> families(bool library) {
  std::set<std::string> out;
  if (library) {
    for (const char* f : {S2DM_LIBRARY_OPS(S2DM_OP_FAMILY)}) out.insert(f);
  } else {
    for (const char* f : {S2DM_KERNEL_OPS(S2DM_OP_FAMILY)}) out.insert(f);
  }
  return out;
}

bool exists(const std::string& relative) {
  return std::filesystem::exists(std::filesystem::path(S2DM_SOURCE_DIR) / relative);
}

}  // namespace

TEST_CASE("op families: one name per family in every layer", "[op_families]") {
  std::set<std::string> all = families(false);
  for (const std::string& f : families(true)) all.insert(f);
  REQUIRE(all.size() >= 14);
  for (const std::string& f : all) {
    INFO("family " << f);
    CHECK(exists("engine/cpu/cpu_" + f + ".cpp"));
    CHECK(exists("tests/backend_ops/cases_" + f + ".cpp"));
    CHECK(exists("tests/test_" + f + ".cpp"));
    // Tensor views and copies are Tensor methods, and the optimizers live in engine/optim/.
    if (f != "layout" && f != "optim") CHECK(exists("engine/ops/" + f + ".h"));
  }
  // Our own kernels, and the code between a Tensor and their launch.
  for (const std::string& f : families(false)) {
    INFO("family " << f);
    CHECK(exists("kernels/" + f + ".cu"));
    CHECK(exists("kernels/" + f + ".cuh"));
    CHECK(exists("engine/kernel_backend/" + f + ".cpp"));
  }
  // Library ops: each device backend calls its library; 1x1 convolutions by products are ours.
  CHECK(exists("engine/kernel_backend/conv.cpp"));
  CHECK(exists("engine/optim/adam.h"));
}
