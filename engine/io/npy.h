// NumPy .npy arrays: format versions 1.0, 2.0 and 3.0, little-endian data.
//
// Reading is strict: the header must be the dict literal numpy writes (keys 'descr',
// 'fortran_order', 'shape'), and the data must be exactly shape x itemsize bytes, so truncated or
// padded files are rejected rather than half-read. Every error names the file.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tensor.h"

namespace s2dm {

// The fields of a .npy header and where the array data starts.
struct NpyHeader {
  std::string descr;  // numpy dtype string, e.g. "<f4", "|u1"
  bool fortran_order = false;
  Shape shape;
  size_t data_offset = 0;  // bytes from the start of the file (or archive member)
};

// Parses magic, version (1.0–3.0) and header dict at the start of `bytes`; errors name `where`
// (a file, or an archive member). The data's size is not checked here.
NpyHeader parse_npy_header(std::string_view bytes, const std::string& where);
// Magic, version and the padded header dict for C-order data (the data then starts 64-aligned).
std::string npy_header(const std::string& descr, const Shape& shape);

// Reads '<f4' and '<f8' as F32/F64 and '|u1' converted to F32, into a contiguous CPU tensor.
// Shapes "()" (a 0-d scalar), "(n,)" and higher ranks are accepted; Fortran-order arrays are
// returned in C order with the same logical values.
Tensor load_npy(const std::string& path);
// Writes a tensor from any device as '<f4' or '<f8' (BF16 is widened to '<f4'); atomic.
void save_npy(const std::string& path, const Tensor& t);
// Writes uint8 data with the given shape as '|u1'; atomic.
void save_npy_u8(const std::string& path, const std::vector<uint8_t>& data, const Shape& shape);

}  // namespace s2dm
