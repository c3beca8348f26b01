// Crash-safe file writes: data goes to "<path>.tmp.<pid>", is fsync'ed, then renamed over <path>
// (and the directory fsync'ed), so readers see either the old file or the complete new one.
#pragma once
#include <string>
#include <string_view>

namespace s2dm {

void write_file_atomic(const std::string& path, std::string_view bytes);
// Whole file into memory; a clear error names the file when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace s2dm
