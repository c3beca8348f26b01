// .npy reader/writer. The header is a Python dict literal; we parse the three keys we need.
#include "engine/io/npy.h"

#include <cstring>
#include <regex>

#include "engine/error.h"
#include "engine/io/atomic_file.h"

namespace s2dm {

namespace {
constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMaxHeader = 1 << 20;  // real headers are < 1 KiB; refuse absurd ones

std::string header_field(const std::string& h, const std::string& key, const std::string& path) {
  const std::regex re("['\"]" + key + "['\"]\\s*:\\s*('[^']*'|\"[^\"]*\"|True|False|\\([^)]*\\))");
  std::smatch m;
  S2DM_CHECK(std::regex_search(h, m, re), "{}: .npy header has no '{}' field: {}", path, key, h);
  return m[1].str();
}

std::string make_header(const std::string& descr, const Shape& shape) {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += std::to_string(shape[i]) + ",";
  if (shape.size() > 1) dims.pop_back();
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Pad with spaces so magic + 2 + 2 + header + '\n' is a multiple of 64.
  const size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string out(kMagic, 6);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>((dict.size() >> 8) & 0xff);
  return out + dict;
}
}  // namespace

Tensor load_npy(const std::string& path) {
  const std::string bytes = read_file(path);
  S2DM_CHECK(bytes.size() >= 10 && std::memcmp(bytes.data(), kMagic, 6) == 0,
             "{} is not a .npy file (bad magic)", path);
  const int major = static_cast<unsigned char>(bytes[6]);
  S2DM_CHECK(major >= 1 && major <= 3, "{}: unsupported .npy version {}", path, major);
  size_t hlen, pos;
  if (major == 1) {
    hlen = static_cast<unsigned char>(bytes[8]) | (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    pos = 10;
  } else {
    S2DM_CHECK(bytes.size() >= 12, "{}: truncated .npy header", path);
    hlen = 0;
    for (int i = 0; i < 4; ++i) hlen |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    pos = 12;
  }
  S2DM_CHECK(hlen <= kMaxHeader, "{}: .npy header of {} bytes is too large (corrupt file?)", path, hlen);
  S2DM_CHECK(pos + hlen <= bytes.size(), "{}: truncated .npy header", path);
  const std::string h = bytes.substr(pos, hlen);
  pos += hlen;
  const std::string descr = header_field(h, "descr", path);
  S2DM_CHECK(header_field(h, "fortran_order", path) == "False",
             "{}: Fortran-order arrays are not supported; save with np.ascontiguousarray", path);
  std::string dims = header_field(h, "shape", path);
  Shape shape;
  const std::regex num("\\d+");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num); it != std::sregex_iterator(); ++it)
    shape.push_back(std::stoll(it->str()));
  const int64_t n = shape_numel(shape);
  size_t elem;
  DType dtype = DType::F32;
  if (descr == "'<f4'") elem = 4;
  else if (descr == "'<f8'") { elem = 8; dtype = DType::F64; }
  else if (descr == "'|u1'") elem = 1;
  else fail("{}: unsupported .npy dtype {} (expected <f4, <f8 or |u1)", path, descr);
  S2DM_CHECK(bytes.size() - pos == static_cast<size_t>(n) * elem,
             "{}: data is {} bytes but shape {} of {} needs {} (truncated or corrupt)", path,
             bytes.size() - pos, shape_str(shape), descr, static_cast<size_t>(n) * elem);
  Tensor t = Tensor::empty(shape, dtype);
  if (elem == 1) {
    float* p = t.data<float>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>(bytes[pos + static_cast<size_t>(i)]);
  } else {
    std::memcpy(t.raw(), bytes.data() + pos, static_cast<size_t>(n) * elem);
  }
  return t;
}

void save_npy(const std::string& path, const Tensor& t) {
  Tensor h = t.detach().to(Device::cpu());
  if (h.dtype() == DType::BF16) h = h.to(DType::F32);
  h = h.contiguous();
  std::string out = make_header(h.dtype() == DType::F64 ? "<f8" : "<f4", h.shape());
  out.append(static_cast<const char*>(h.raw()), h.nbytes());
  write_file_atomic(path, out);
}

void save_npy_u8(const std::string& path, const std::vector<uint8_t>& data, const Shape& shape) {
  S2DM_CHECK(static_cast<int64_t>(data.size()) == shape_numel(shape), "save_npy_u8: {} bytes for shape {}",
             data.size(), shape_str(shape));
  std::string out = make_header("|u1", shape);
  out.append(reinterpret_cast<const char*>(data.data()), data.size());
  write_file_atomic(path, out);
}

}  // namespace s2dm
