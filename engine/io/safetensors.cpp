// safetensors reader/writer and binary16 conversion.
//
// The reader validates the whole header (dtypes, shapes, offsets, exact tiling of the buffer)
// against the file size before allocating anything, then reads each tensor straight into its
// storage with pread, so a checkpoint is never held in memory twice.
#include "engine/io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "engine/error.h"
#include "engine/io/atomic_file.h"

namespace s2dm {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian and is copied without byte swapping");

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// binary16

float f16_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // infinity, or NaN with its payload kept
  } else if (exp != 0) {
    bits = sign | ((exp + (127 - 15)) << 23) | (mant << 13);
  } else {
    // Zero or subnormal: mant * 2^-24 is exact in float.
    const float mag = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -mag : mag;
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

uint16_t float_to_f16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const auto sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) {
    // Keep the top payload bits and force the quiet bit so the result cannot become infinity.
    return static_cast<uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
  }
  // 65520 is halfway between 65504 (odd mantissa) and 65536, so it and anything above round to
  // infinity under round-to-nearest-even.
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);
  const uint32_t exp = a >> 23;
  if (a >= 0x38800000u) {  // normal in half precision (>= 2^-14)
    const uint32_t mant = a & 0x7fffffu;
    uint32_t out = ((exp - (127 - 15)) << 10) | (mant >> 13);
    const uint32_t rem = mant & 0x1fffu;
    // A carry out of the mantissa correctly bumps the exponent.
    if (rem > 0x1000u || (rem == 0x1000u && (out & 1u))) ++out;
    return static_cast<uint16_t>(sign | out);
  }
  // Half subnormal or zero: the result is round(|f| * 2^24). Float subnormals are far below
  // half's smallest subnormal and give zero.
  if (exp == 0) return sign;
  const uint32_t m = (a & 0x7fffffu) | 0x800000u;  // |f| = m * 2^(exp - 150)
  const uint32_t shift = 126 - exp;                // >= 14 here
  if (shift >= 32) return sign;
  uint32_t q = m >> shift;
  const uint32_t rem = m & ((1u << shift) - 1u);
  const uint32_t halfway = 1u << (shift - 1);
  if (rem > halfway || (rem == halfway && (q & 1u))) ++q;  // q may reach 0x400: the smallest normal
  return static_cast<uint16_t>(sign | q);
}

namespace {

// ---------------------------------------------------------------------------------------------
// reading

// The reference implementation's cap; real headers are kilobytes, so a larger length is corrupt.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// Dimensions beyond this cannot describe data that fits in a file; refusing them early keeps the
// int64 shape arithmetic safe even when another dimension is zero.
constexpr uint64_t kMaxDim = uint64_t{1} << 62;

struct StDtype {
  std::string_view name;
  size_t size;
  bool loadable;
};

constexpr StDtype kDtypes[] = {
    {"F32", 4, true},       {"F64", 8, true},       {"BF16", 2, true},  {"F16", 2, true},
    {"BOOL", 1, false},     {"U8", 1, false},       {"I8", 1, false},   {"I16", 2, false},
    {"U16", 2, false},      {"I32", 4, false},      {"U32", 4, false},  {"I64", 8, false},
    {"U64", 8, false},      {"F8_E4M3", 1, false},  {"F8_E5M2", 1, false},
};

const StDtype* find_dtype(std::string_view name) {
  for (const StDtype& d : kDtypes)
    if (d.name == name) return &d;
  return nullptr;
}

struct Entry {
  std::string name;
  const StDtype* dtype = nullptr;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

// Nesting depth up to `limit`: stops descending there, so it is cheap and shallow itself.
size_t nesting(const json& v, size_t limit) {
  if (limit == 0 || !v.is_structured()) return 0;
  size_t deepest = 0;
  for (const json& child : v) deepest = std::max(deepest, nesting(child, limit - 1));
  return deepest + 1;
}

// JSON fragments quoted in messages are cut short so a corrupt header cannot flood the output.
// nlohmann's dump recurses once per nesting level, so a value nested thousands deep (a header of
// "[[[[...") would overflow the stack: those are described instead of printed.
std::string excerpt(const json& v) {
  constexpr size_t kMaxNesting = 16;
  if (nesting(v, kMaxNesting + 1) > kMaxNesting)
    return fmt::format("a JSON {} nested more than {} levels deep", v.type_name(), kMaxNesting);
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  constexpr size_t kShown = 80;
  if (s.size() > kShown) s = s.substr(0, kShown) + "...";
  return s;
}

class InputFile {
 public:
  explicit InputFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not hang the open
    S2DM_CHECK(fd_ >= 0, "cannot open {}: {}", path, std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      const int err = errno;
      ::close(fd_);
      fail("cannot stat {}: {}", path, std::strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd_);
      fail("cannot read {}: not a regular file", path);
    }
    size_ = static_cast<uint64_t>(st.st_size);
  }
  ~InputFile() { ::close(fd_); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  uint64_t size() const { return size_; }

  void read_at(uint64_t off, void* dst, size_t n) const {
    auto* p = static_cast<char*>(dst);
    while (n > 0) {
      const ssize_t r = ::pread(fd_, p, n, static_cast<off_t>(off));
      if (r < 0 && errno == EINTR) continue;
      S2DM_CHECK(r >= 0, "error reading {}: {}", path_, std::strerror(errno));
      S2DM_CHECK(r > 0, "{}: file ended early (was it truncated while being read?)", path_);
      p += r;
      off += static_cast<uint64_t>(r);
      n -= static_cast<size_t>(r);
    }
  }

 private:
  const std::string& path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

json parse_header(const std::string& path, const std::string& text) {
  // nlohmann keeps the last of duplicate keys silently; two entries with one name would make the
  // file ambiguous, so they are refused.
  std::set<std::string> seen;
  auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1) {
      const auto& key = parsed.get_ref<const std::string&>();
      S2DM_CHECK(seen.insert(key).second, "{}: header lists '{}' twice", path, key);
    }
    return true;
  };
  json header;
  try {
    header = json::parse(text, on_event);
  } catch (const json::exception& e) {
    fail("{}: safetensors header is not valid JSON: {}", path, e.what());
  }
  S2DM_CHECK(header.is_object(), "{}: safetensors header is a JSON {}, expected an object", path,
             header.type_name());
  return header;
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const json& m) {
  std::map<std::string, std::string> out;
  if (m.is_null()) return out;
  S2DM_CHECK(m.is_object(), "{}: __metadata__ must be an object of strings, got {}", path,
             excerpt(m));
  for (const auto& [k, v] : m.items()) {
    S2DM_CHECK(v.is_string(), "{}: __metadata__ value for '{}' must be a string, got {}", path, k,
               excerpt(v));
    out[k] = v.get<std::string>();
  }
  return out;
}

Entry parse_entry(const std::string& path, const std::string& name, const json& v,
                  uint64_t buffer_size) {
  Entry e;
  e.name = name;
  S2DM_CHECK(v.is_object(), "{}: tensor '{}': header entry must be an object, got {}", path, name,
             excerpt(v));

  const auto dt = v.find("dtype");
  S2DM_CHECK(dt != v.end() && dt->is_string(), "{}: tensor '{}' has no string \"dtype\"", path,
             name);
  const auto& dtype_name = dt->get_ref<const std::string&>();
  e.dtype = find_dtype(dtype_name);
  S2DM_CHECK(e.dtype != nullptr, "{}: tensor '{}' has unknown dtype '{}'", path, name, dtype_name);
  S2DM_CHECK(e.dtype->loadable,
             "{}: tensor '{}' has dtype '{}', which s2dm cannot load (supported: F32, F64, BF16, "
             "F16)",
             path, name, dtype_name);

  const auto sh = v.find("shape");
  S2DM_CHECK(sh != v.end() && sh->is_array(), "{}: tensor '{}' has no \"shape\" array", path,
             name);
  uint64_t nbytes = e.dtype->size;
  // Strides multiply every dimension (zeros counted as one), so that product must fit int64
  // even when a zero dimension makes the tensor empty.
  int64_t extent = 1;
  for (const json& d : *sh) {
    S2DM_CHECK(d.is_number_unsigned() && d.get<uint64_t>() <= kMaxDim,
               "{}: tensor '{}': shape must hold non-negative integers, got {}", path, name,
               excerpt(*sh));
    const auto ud = d.get<uint64_t>();
    S2DM_CHECK(ud == 0 || nbytes <= std::numeric_limits<uint64_t>::max() / ud,
               "{}: tensor '{}': shape {} is too large", path, name, excerpt(*sh));
    nbytes *= ud;
    S2DM_CHECK(!__builtin_mul_overflow(extent, std::max<int64_t>(static_cast<int64_t>(ud), 1),
                                       &extent),
               "{}: tensor '{}': shape {} is too large", path, name, excerpt(*sh));
    e.shape.push_back(static_cast<int64_t>(ud));
  }

  const auto off = v.find("data_offsets");
  S2DM_CHECK(off != v.end() && off->is_array() && off->size() == 2 &&
                 (*off)[0].is_number_unsigned() && (*off)[1].is_number_unsigned(),
             "{}: tensor '{}': \"data_offsets\" must be [begin, end] with non-negative integers",
             path, name);
  e.begin = (*off)[0].get<uint64_t>();
  e.end = (*off)[1].get<uint64_t>();
  S2DM_CHECK(e.begin <= e.end, "{}: tensor '{}': data_offsets [{}, {}] end before they begin",
             path, name, e.begin, e.end);
  S2DM_CHECK(e.end <= buffer_size,
             "{}: tensor '{}': data_offsets [{}, {}] reach beyond the {}-byte data buffer "
             "(truncated file?)",
             path, name, e.begin, e.end, buffer_size);
  S2DM_CHECK(e.end - e.begin == nbytes,
             "{}: tensor '{}': data_offsets [{}, {}] span {} bytes but {} of shape {} needs {}",
             path, name, e.begin, e.end, e.end - e.begin, dtype_name, shape_str(e.shape), nbytes);
  return e;
}

// Offsets sorted by position must cover [0, buffer_size) exactly once.
void check_tiling(const std::string& path, std::vector<const Entry*> order, uint64_t buffer_size) {
  std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t cursor = 0;
  const Entry* prev = nullptr;
  for (const Entry* e : order) {
    S2DM_CHECK(e->begin >= cursor, "{}: tensors '{}' and '{}' overlap in the data buffer", path,
               prev ? prev->name : "", e->name);
    S2DM_CHECK(e->begin == cursor,
               "{}: bytes [{}, {}) of the data buffer belong to no tensor (corrupt header?)", path,
               cursor, e->begin);
    cursor = e->end;
    prev = e;
  }
  S2DM_CHECK(cursor == buffer_size,
             "{}: {} trailing bytes after the last tensor's data (corrupt or concatenated file?)",
             path, buffer_size - cursor);
}

Tensor read_tensor(const InputFile& file, uint64_t data_start, const Entry& e) {
  const bool f16 = e.dtype->name == "F16";
  const DType dtype = e.dtype->name == "F64"    ? DType::F64
                      : e.dtype->name == "BF16" ? DType::BF16
                                                : DType::F32;
  Tensor t = Tensor::empty(e.shape, dtype);
  const auto nbytes = static_cast<size_t>(e.end - e.begin);
  if (nbytes == 0) return t;
  if (f16) {
    std::vector<uint16_t> raw(nbytes / 2);
    file.read_at(data_start + e.begin, raw.data(), nbytes);
    float* dst = t.data<float>();
    for (size_t i = 0; i < raw.size(); ++i) dst[i] = f16_to_float(raw[i]);
  } else {
    file.read_at(data_start + e.begin, t.raw(), nbytes);
  }
  return t;
}

}  // namespace

SafetensorsFile load_safetensors(const std::string& path, std::optional<DType> as) {
  const InputFile file(path);
  S2DM_CHECK(file.size() >= 8,
             "{}: file is {} bytes, too short for a safetensors header length (truncated?)", path,
             file.size());
  unsigned char len_bytes[8];
  file.read_at(0, len_bytes, 8);
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= static_cast<uint64_t>(len_bytes[i]) << (8 * i);
  S2DM_CHECK(header_len <= kMaxHeaderBytes,
             "{}: oversized header: length field says {} bytes (limit {}); not a safetensors "
             "file, or corrupt",
             path, header_len, kMaxHeaderBytes);
  S2DM_CHECK(header_len <= file.size() - 8,
             "{}: header length {} extends beyond the end of the {}-byte file (truncated?)", path,
             header_len, file.size());
  std::string text(static_cast<size_t>(header_len), '\0');
  file.read_at(8, text.data(), text.size());
  const json header = parse_header(path, text);

  const uint64_t data_start = 8 + header_len;
  const uint64_t buffer_size = file.size() - data_start;
  SafetensorsFile out;
  std::vector<Entry> entries;
  entries.reserve(header.size());
  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") {
      out.metadata = parse_metadata(path, v);
      continue;
    }
    entries.push_back(parse_entry(path, name, v, buffer_size));
  }
  std::vector<const Entry*> order;
  for (const Entry& e : entries) order.push_back(&e);
  check_tiling(path, order, buffer_size);

  for (const Entry& e : entries) {
    Tensor t = read_tensor(file, data_start, e);
    if (as && t.dtype() != *as) t = t.to(*as);
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata, SafetensorsStore store) {
  json header = json::object();
  if (!metadata.empty()) {
    json m = json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = std::move(m);
  }
  // Host copies and converted buffers stay alive until the file is written; views into them are
  // taken only after both vectors stop growing.
  std::vector<Tensor> hosts;
  std::vector<std::vector<uint16_t>> halves;
  hosts.reserve(tensors.size());
  halves.reserve(tensors.size());
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    S2DM_CHECK(name != "__metadata__",
               "save_safetensors {}: '__metadata__' is reserved and cannot name a tensor", path);
    S2DM_CHECK(t.defined(), "save_safetensors {}: tensor '{}' is undefined", path, name);
    Tensor h = t.detach().to(Device::cpu()).contiguous();
    std::string dtype;
    uint64_t nbytes = h.nbytes();
    if (store == SafetensorsStore::F16) {
      if (h.dtype() != DType::F32) h = h.to(DType::F32).contiguous();
      const float* src = h.data<float>();
      std::vector<uint16_t> buf(static_cast<size_t>(h.numel()));
      for (size_t i = 0; i < buf.size(); ++i) buf[i] = float_to_f16(src[i]);
      nbytes = buf.size() * 2;
      halves.push_back(std::move(buf));
      dtype = "F16";
    } else {
      dtype = h.dtype() == DType::F32 ? "F32" : h.dtype() == DType::F64 ? "F64" : "BF16";
    }
    header[name] = {{"dtype", dtype},
                    {"shape", h.shape()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    hosts.push_back(std::move(h));
  }

  std::string head;
  try {
    head = header.dump();
  } catch (const json::exception& e) {
    fail("save_safetensors {}: a tensor name or metadata entry is not valid UTF-8 ({})", path,
         e.what());
  }
  // Padding keeps the data buffer 8-byte aligned for readers that map the file.
  head.append((8 - head.size() % 8) % 8, ' ');
  std::string prefix(8, '\0');
  for (int i = 0; i < 8; ++i) prefix[i] = static_cast<char>((head.size() >> (8 * i)) & 0xffu);
  prefix += head;

  std::vector<std::string_view> parts{prefix};
  if (store == SafetensorsStore::F16) {
    for (const auto& b : halves)
      parts.emplace_back(reinterpret_cast<const char*>(b.data()), b.size() * 2);
  } else {
    for (const Tensor& h : hosts)
      parts.emplace_back(static_cast<const char*>(h.raw()), h.nbytes());
  }
  write_file_atomic_parts(path, parts);
}

}  // namespace s2dm
