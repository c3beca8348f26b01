// NumPy .npy arrays (format version 1.0/2.0/3.0, little-endian, C order).
#pragma once
#include <map>
#include <string>

#include "engine/tensor.h"

namespace s2dm {

// Reads '<f4', '<f8' (as F32/F64) and '|u1' (converted to F32); errors name the file.
Tensor load_npy(const std::string& path);
// Writes a CPU-or-device tensor as '<f4' or '<f8' (BF16 is widened to '<f4'); atomic.
void save_npy(const std::string& path, const Tensor& t);
// Writes uint8 data with the given shape as '|u1'; atomic.
void save_npy_u8(const std::string& path, const std::vector<uint8_t>& data, const Shape& shape);

}  // namespace s2dm
