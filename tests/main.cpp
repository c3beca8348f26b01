// Catch2 main for the test binary; the SIMT backend (device "simt") is registered first so that
// tests can put tensors on it.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "engine/cpu/runtime_env.h"
#include "engine/simt/simt_backend.h"

int main(int argc, char* argv[]) {
  s2dm::apply_runtime_env(argv);  // OpenBLAS kernels and OpenMP waiting (re-executes once)
  s2dm::register_simt_backend();
  return Catch::Session().run(argc, argv);
}
