// Crash-safe whole-file writes and checked whole-file reads.
//
// Invariant: a write goes to a uniquely named sibling "<path>.tmp.<pid>.<n>", is fsync'ed, then
// renamed over <path> (and the directory fsync'ed). Readers therefore see either the old file or
// the complete new one; on any failure the temporary file is removed and <path> is untouched.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace s2dm {

void write_file_atomic(const std::string& path, std::string_view bytes);
// Same, writing the concatenation of parts, so large buffers (tensor data) need not be copied
// into one string first.
void write_file_atomic_parts(const std::string& path, const std::vector<std::string_view>& parts);

// Whole file into memory; a clear error names the file when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace s2dm
