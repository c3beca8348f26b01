// Command-line checks shared by the programs: numeric ranges whose messages read like
// "--count: must be >= 1, got 0" (CLI11's own print the type's limits), and output paths that are
// checked before any work and may never be one of the program's inputs.
#pragma once
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/error.h"

namespace s2dm::cli {

// An integer in [lo, hi] (hi defaulting to "no upper bound").
inline CLI::Validator integer_in(int64_t lo, int64_t hi = INT64_MAX) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        long long v = 0;
        size_t used = 0;
        try {
          v = std::stoll(s, &used);
        } catch (const std::logic_error&) {
          return "must be an integer, got " + s;
        }
        if (used != s.size()) return "must be an integer, got " + s;
        if (v < lo || v > hi)
          return hi == INT64_MAX ? fmt::format("must be >= {}, got {}", lo, s)
                                 : fmt::format("must be in [{}, {}], got {}", lo, hi, s);
        return {};
      },
      hi == INT64_MAX ? fmt::format("INT >= {}", lo) : fmt::format("INT in [{} - {}]", lo, hi));
}

// A finite real number >= lo.
inline CLI::Validator real_at_least(double lo) {
  return CLI::Validator(
      [lo](std::string& s) -> std::string {
        double v = 0;
        size_t used = 0;
        try {
          v = std::stod(s, &used);
        } catch (const std::logic_error&) {
          return "must be a number, got " + s;
        }
        if (used != s.size() || !std::isfinite(v) || v < lo)
          return fmt::format("must be a finite number >= {}, got {}", lo, s);
        return {};
      },
      fmt::format("NUMBER >= {}", lo));
}

// Checks an output file path before the work: not a folder, its folder exists and is writable,
// and it is none of the inputs (which it would destroy).
inline void check_output_file(const std::string& flag, const std::string& path,
                              const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  std::error_code ec;
  S2DM_CHECK(!fs::is_directory(path, ec), "{} {} is a folder; give a file name", flag, path);
  const fs::path parent = fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
  S2DM_CHECK(fs::is_directory(parent, ec), "{} {}: the folder {} does not exist; create it first", flag,
             path, parent.string());
  S2DM_CHECK(::access(parent.c_str(), W_OK) == 0, "{} {}: the folder {} is not writable", flag, path,
             parent.string());
  for (const std::string& in : inputs)
    S2DM_CHECK(in.empty() || !fs::exists(path, ec) || !fs::equivalent(path, in, ec),
               "{} {} is one of the inputs ({}); writing it would destroy it — give another path",
               flag, path, in);
}

// The same for an output folder: it may exist (as a folder) or be created under a writable parent.
inline void check_output_folder(const std::string& flag, const std::string& path,
                                const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const std::string& in : inputs)
    S2DM_CHECK(in.empty() || !fs::exists(path, ec) || !fs::equivalent(path, in, ec),
               "{} {} is one of the inputs ({}); give another path", flag, path, in);
  if (fs::exists(path, ec)) {
    S2DM_CHECK(fs::is_directory(path, ec), "{} {} is a file; give a folder", flag, path);
    S2DM_CHECK(::access(path.c_str(), W_OK) == 0, "{} {} is not writable", flag, path);
    return;
  }
  fs::path parent = fs::path(path).parent_path();
  while (!parent.empty() && !fs::exists(parent, ec)) parent = parent.parent_path();
  if (parent.empty()) parent = ".";
  S2DM_CHECK(fs::is_directory(parent, ec) && ::access(parent.c_str(), W_OK) == 0,
             "{} {}: cannot create it under {} (not a writable folder)", flag, path, parent.string());
}

}  // namespace s2dm::cli
