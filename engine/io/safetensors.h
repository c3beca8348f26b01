// safetensors checkpoints: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
// ({"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}, ...}),
// then the data buffer that the offsets index.
//
// Reading is strict, like the reference implementation: the tensors must tile the data buffer
// exactly (no overlaps, no holes, no trailing bytes), so truncation and most corruption are caught
// before any value is trusted. Every error names the file and the problem.
//
// Writing is deterministic: tensors in name order, their data contiguous in that order, the header
// compact JSON with sorted keys padded with spaces to a multiple of 8 bytes, the whole file written
// atomically (write_file_atomic).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "engine/tensor.h"

namespace s2dm {

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Reads every tensor into a contiguous CPU tensor. F32, F64 and BF16 keep their dtype and F16 is
// widened to F32 exactly; with `as`, every tensor is then converted to that dtype. Other dtypes
// (integers, F8) are refused with an error naming the tensor and its dtype.
SafetensorsFile load_safetensors(const std::string& path, std::optional<DType> as = std::nullopt);

// How floating-point tensors are stored: in their own dtype (F32, F64, BF16), or all rounded to
// IEEE half precision (round to nearest even; beyond +-65504 becomes infinity). F64 values are
// rounded to float first on the way to F16.
enum class SafetensorsStore { Native, F16 };

// Tensors may live on any device and have any layout. Names must be valid UTF-8 and not
// "__metadata__"; metadata keys and values must be valid UTF-8.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {},
                      SafetensorsStore store = SafetensorsStore::Native);

// IEEE 754 binary16 <-> float. f16_to_float is exact (subnormals, signed zeros, infinities, NaN
// payloads); float_to_f16 rounds to nearest even, overflows to infinity and keeps NaN a NaN.
float f16_to_float(uint16_t h);
uint16_t float_to_f16(float f);

}  // namespace s2dm
