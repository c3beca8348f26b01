// Catch2 main for the test binary; the SIMT backend (device "simt") is registered first so that
// tests can put tensors on it.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "engine/simt/simt_backend.h"

int main(int argc, char* argv[]) {
  s2dm::register_simt_backend();
  return Catch::Session().run(argc, argv);
}
