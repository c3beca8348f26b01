// NumPy .npz archives: a ZIP file with one .npy member per array, as np.savez writes them.
//
// Writing: members are "stored" (uncompressed), CRC-32 from zlib, in the given order, with ZIP64
// records only where a size or offset needs them (so archives past 4 GiB still open in numpy);
// timestamps are fixed (1980-01-01), so equal arrays give byte-identical files; the whole file is
// written atomically. Reading accepts stored and deflated members (np.savez and
// np.savez_compressed), ZIP64, and checks every CRC and every .npy header; errors name the file
// and the member.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace s2dm {

// One array to write. `data` holds numel x itemsize little-endian bytes in C order and is not
// owned: it must stay valid during the call. np.load(path)[name] returns the array.
struct NpzEntry {
  std::string name;   // without ".npy"; np.savez names positional arrays arr_0, arr_1, ...
  std::string descr;  // numpy dtype string: "|u1", "<f4", "<f8", ...
  Shape shape;
  std::string_view data;
};

void save_npz(const std::string& path, const std::vector<NpzEntry>& entries);
// uint8 data of the given shape as the single member "arr_0" (sample images: N x H x W x C).
void save_npz_u8(const std::string& path, const std::vector<uint8_t>& data, const Shape& shape);
// Tensors (any device/layout; F32 and BF16 as "<f4", F64 as "<f8") under their names.
void save_npz(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& arrays);

// One array read back.
struct NpzArray {
  std::string name;   // member name without ".npy"
  std::string descr;  // as stored, e.g. "|u1"
  Shape shape;
  std::string data;  // numel x itemsize bytes, C order

  int64_t itemsize() const;
  // "|u1" (as F32 values 0..255), "<f4" (F32) and "<f8" (F64) as a contiguous CPU tensor.
  Tensor to_tensor() const;
};

// All members in archive order.
std::vector<NpzArray> load_npz(const std::string& path);
// The member named `name`; the error lists the names present.
const NpzArray& find_npz_array(const std::vector<NpzArray>& arrays, const std::string& name,
                               const std::string& path);

namespace detail {
// save_npz with ZIP64 records on every member and the end record, which numpy must also accept;
// lets tests cover the > 4 GiB layout without writing 4 GiB.
void save_npz(const std::string& path, const std::vector<NpzEntry>& entries, bool force_zip64);
}  // namespace detail

}  // namespace s2dm
