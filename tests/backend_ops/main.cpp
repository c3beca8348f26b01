// s2dm-backend-ops: the backend-ops harness as a program. Check mode compares every op on every
// backend under test (the SIMT emulator; CUDA devices when present) with the CPU backend; perf
// mode times each case on each backend and on the CPU.
//   s2dm-backend-ops                         check everything
//   s2dm-backend-ops --mode perf --backend cuda --op conv2d_forward
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "engine/cpu/runtime_env.h"
#include "engine/error.h"
#include "tests/backend_ops/backends.h"
#include "tests/backend_ops/harness.h"

using namespace s2dm;
using namespace s2dm::backend_ops;

int main(int argc, char** argv) {
  s2dm::apply_runtime_env(argv);  // OpenBLAS kernels and OpenMP waiting (re-executes once)
  CLI::App app{"Checks (or times) every backend op against the CPU backend"};
  std::string mode = "check", backend_filter = "all", op_filter, dtype_filter = "all";
  int runs = 20;
  app.add_option("--mode", mode, "check or perf")->check(CLI::IsMember({"check", "perf"}));
  app.add_option("--backend", backend_filter, "simt, cuda or all")
      ->check(CLI::IsMember({"simt", "cuda", "all"}));
  app.add_option("--op", op_filter, "only cases of this Backend op (e.g. attention_forward)");
  app.add_option("--dtype", dtype_filter, "float32, float64 or all")
      ->check(CLI::IsMember({"float32", "float64", "all"}));
  app.add_option("--runs", runs, "perf mode: timed runs per case (median reported)")
      ->check(CLI::Range(1, 100000));
  CLI11_PARSE(app, argc, argv);

  try {
    int failed = 0, passed = 0;
    const auto cases = all_cases();
    for (Backend* b : backends_under_test()) {
      const Device d = b->device();
      const bool is_simt = d.type == DeviceType::SIMT;
      if (backend_filter != "all" && (backend_filter == "simt") != is_simt) continue;
      for (const OpCase& c : cases) {
        if (!op_filter.empty() && c.op != op_filter) continue;
        for (DType dt : c.dtypes) {
          const std::string dts = dtype_name(dt);
          if (dtype_filter != "all" && dtype_filter != dts) continue;
          const std::string name = fmt::format("{} {} {} {}", d.str(), c.op, c.desc, dts);
          if (mode == "check") {
            const CheckResult r = check_case(c, *b, dt);
            (r.ok ? passed : failed)++;
            fmt::print("{} {} (NMSE {:.2g}){}{}\n", r.ok ? "ok  " : "FAIL", name, r.worst_nmse,
                       r.ok ? "" : ": ", r.message);
          } else {
            double bytes = 0;
            const double t = time_case(c, *b, dt, 3, runs, &bytes);
            const double t_cpu = time_case(c, backend_for(Device::cpu()), dt, 1, 3, nullptr);
            fmt::print("{:10.1f} us {:8.1f} GB/s  cpu {:10.1f} us  {}\n", t * 1e6,
                       bytes / t * 1e-9, t_cpu * 1e6, name);
          }
          std::fflush(stdout);
        }
      }
    }
    if (mode == "check") fmt::print("{} passed, {} failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
  } catch (const Error& e) {
    fmt::print(stderr, "s2dm-backend-ops: {}\n", e.what());
    return 1;
  }
}
