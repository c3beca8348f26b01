// .npy reader/writer. The header is a Python dict literal; a small recursive-descent parser accepts
// exactly the subset numpy writes (string keys; string, bool and int-tuple values), so malformed
// headers fail with a message instead of being half-understood.
#include "engine/io/npy.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <string_view>

#include "engine/error.h"
#include "engine/io/atomic_file.h"

namespace s2dm {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr size_t kMaxHeader = 1 << 20;  // numpy's own headers are < 1 KiB; refuse absurd ones

class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : s_(text), path_(path) {}

  NpyHeader parse() {
    NpyHeader h;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    skip_ws();
    expect('{');
    for (;;) {
      skip_ws();
      if (consume('}')) break;
      const std::string key = parse_string();
      skip_ws();
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (seen_descr) error("duplicate key 'descr'");
        if (peek() != '\'' && peek() != '"')
          error("'descr' is not a plain dtype string (structured arrays are not supported)");
        h.descr = parse_string();
        seen_descr = true;
      } else if (key == "fortran_order") {
        if (seen_order) error("duplicate key 'fortran_order'");
        h.fortran_order = parse_bool();
        seen_order = true;
      } else if (key == "shape") {
        if (seen_shape) error("duplicate key 'shape'");
        h.shape = parse_shape();
        seen_shape = true;
      } else {
        error("unexpected key '" + key + "'");
      }
      skip_ws();
      if (consume(',')) continue;
      expect('}');
      break;
    }
    skip_ws();
    if (i_ != s_.size()) error("text after the closing '}'");
    if (!seen_descr) error("missing 'descr'");
    if (!seen_order) error("missing 'fortran_order'");
    if (!seen_shape) error("missing 'shape'");
    return h;
  }

 private:
  [[noreturn]] void error(const std::string& what) const {
    constexpr size_t kShown = 200;
    std::string shown(s_.substr(0, kShown));
    if (s_.size() > kShown) shown += "...";
    fail("{}: malformed .npy header: {} at offset {} in {}", path_, what, i_, shown);
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool consume(char c) {
    if (i_ >= s_.size() || s_[i_] != c) return false;
    ++i_;
    return true;
  }
  void expect(char c) {
    if (!consume(c)) error(std::string("expected '") + c + "'");
  }
  std::string parse_string() {
    const char q = peek();
    if (q != '\'' && q != '"') error("expected a quoted string");
    const size_t end = s_.find(q, i_ + 1);
    if (end == std::string_view::npos) error("unterminated string");
    std::string out(s_.substr(i_ + 1, end - i_ - 1));
    i_ = end + 1;
    return out;
  }
  bool parse_bool() {
    if (s_.substr(i_, 4) == "True") {
      i_ += 4;
      return true;
    }
    if (s_.substr(i_, 5) == "False") {
      i_ += 5;
      return false;
    }
    error("expected True or False");
  }
  int64_t parse_dim() {
    if (peek() < '0' || peek() > '9') error("expected a non-negative integer dimension");
    int64_t v = 0;
    while (peek() >= '0' && peek() <= '9') {
      if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) error("dimension too large");
      v = v * 10 + (s_[i_++] - '0');
    }
    consume('L');  // Python 2 era files wrote longs as "3L"
    return v;
  }
  // "()", "(n,)" or "(a, b, ...)" with an optional trailing comma; "(n)" is an int, not a tuple.
  Shape parse_shape() {
    expect('(');
    skip_ws();
    Shape shape;
    if (consume(')')) return shape;
    for (;;) {
      shape.push_back(parse_dim());
      skip_ws();
      if (consume(',')) {
        skip_ws();
        if (consume(')')) return shape;
        continue;
      }
      if (shape.size() == 1) error("a one-element shape must be written (n,)");
      expect(')');
      return shape;
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  const std::string& path_;
};

uint64_t read_le(std::string_view b, size_t pos, int nbytes) {
  uint64_t v = 0;
  for (int i = 0; i < nbytes; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(b[pos + static_cast<size_t>(i)]))
         << (8 * i);
  return v;
}


}  // namespace

std::string npy_header(const std::string& descr, const Shape& shape) {
  std::string dims;
  for (int64_t d : shape) dims += std::to_string(d) + ", ";
  if (!dims.empty()) dims.resize(dims.size() - 2);
  if (shape.size() == 1) dims += ",";
  std::string dict =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Version 1.0 stores the header length in 16 bits; only absurd ranks need 2.0.
  const bool v2 = dict.size() + 64 > 0xffff;
  const size_t prefix = kMagicLen + 2 + (v2 ? 4 : 2);
  // numpy pads with spaces so the data starts on a 64-byte boundary.
  const size_t total = prefix + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string out(kMagic, kMagicLen);
  out += static_cast<char>(v2 ? 2 : 1);
  out += '\0';
  for (int i = 0; i < (v2 ? 4 : 2); ++i) out += static_cast<char>((dict.size() >> (8 * i)) & 0xff);
  return out + dict;
}

NpyHeader parse_npy_header(std::string_view bytes, const std::string& path) {
  const size_t probe = std::min(bytes.size(), kMagicLen);
  S2DM_CHECK(probe > 0 && std::memcmp(bytes.data(), kMagic, probe) == 0,
             "{} is not a .npy file (bad magic; expected \\x93NUMPY)", path);
  S2DM_CHECK(bytes.size() >= 10, "{}: truncated .npy file ({} bytes)", path, bytes.size());
  const int major = static_cast<unsigned char>(bytes[6]);
  S2DM_CHECK(major >= 1 && major <= 3, "{}: unsupported .npy format version {}.{}", path, major,
             static_cast<int>(static_cast<unsigned char>(bytes[7])));
  const int len_bytes = major == 1 ? 2 : 4;
  const size_t hstart = 8 + static_cast<size_t>(len_bytes);
  S2DM_CHECK(bytes.size() >= hstart, "{}: truncated .npy file ({} bytes)", path, bytes.size());
  const uint64_t hlen = read_le(bytes, 8, len_bytes);
  S2DM_CHECK(hlen <= kMaxHeader, "{}: .npy header of {} bytes is too large (corrupt file?)", path,
             hlen);
  S2DM_CHECK(hstart + hlen <= bytes.size(),
             "{}: truncated .npy header (header says {} bytes, only {} follow)", path, hlen,
             bytes.size() - hstart);
  NpyHeader h = HeaderParser(bytes.substr(hstart, static_cast<size_t>(hlen)), path).parse();
  h.data_offset = hstart + static_cast<size_t>(hlen);
  // A zero dimension makes the data empty whatever the others say, but tensors still compute
  // strides from the other dimensions (zeros counted as one), so their product must fit int64:
  // "(0, 2**62, 2**62)" would otherwise overflow there.
  int64_t extent = 1;
  for (int64_t d : h.shape)
    S2DM_CHECK(!__builtin_mul_overflow(extent, std::max<int64_t>(d, 1), &extent),
               "{}: .npy shape {} is too large (corrupt header?)", path, shape_str(h.shape));
  return h;
}

Tensor load_npy(const std::string& path) {
  const std::string bytes = read_file(path);
  const NpyHeader h = parse_npy_header(bytes, path);
  const size_t pos = h.data_offset;

  size_t elem = 0;
  DType dtype = DType::F32;
  if (h.descr == "<f4") {
    elem = 4;
  } else if (h.descr == "<f8") {
    elem = 8;
    dtype = DType::F64;
  } else if (h.descr == "|u1") {
    elem = 1;
  } else if (h.descr == ">f4" || h.descr == ">f8") {
    fail("{}: big-endian .npy dtype '{}' is not supported; convert with arr.astype('<{}')", path,
         h.descr, h.descr.substr(1));
  } else {
    fail("{}: unsupported .npy dtype '{}' (s2dm reads '<f4', '<f8' and '|u1')", path, h.descr);
  }

  // Checked product: a corrupt shape must not wrap around to a size that happens to match.
  uint64_t numel = 1;
  for (int64_t d : h.shape) {
    const auto ud = static_cast<uint64_t>(d);
    S2DM_CHECK(ud == 0 || numel <= std::numeric_limits<uint64_t>::max() / elem / ud,
               "{}: .npy shape {} is too large (corrupt header?)", path, shape_str(h.shape));
    numel *= ud;
  }
  const uint64_t need = numel * elem;
  const size_t have = bytes.size() - pos;
  S2DM_CHECK(have >= need, "{}: truncated .npy data: shape {} of '{}' needs {} bytes, file has {}",
             path, shape_str(h.shape), h.descr, need, have);
  S2DM_CHECK(have == need, "{}: {} unexpected bytes after the .npy data for shape {} of '{}'", path,
             have - need, shape_str(h.shape), h.descr);

  // Fortran order is C order of the reversed shape; load that and transpose back.
  Shape stored = h.shape;
  if (h.fortran_order) std::reverse(stored.begin(), stored.end());
  Tensor t = Tensor::empty(stored, dtype);
  const char* src = bytes.data() + pos;
  if (elem == 1) {
    float* p = t.data<float>();
    for (uint64_t i = 0; i < numel; ++i) p[i] = static_cast<unsigned char>(src[i]);
  } else if (need > 0) {
    std::memcpy(t.raw(), src, static_cast<size_t>(need));
  }
  if (h.fortran_order && h.shape.size() > 1) {
    std::vector<int64_t> perm(h.shape.size());
    std::iota(perm.rbegin(), perm.rend(), int64_t{0});
    t = t.permute(perm).contiguous();
  }
  return t;
}

void save_npy(const std::string& path, const Tensor& t) {
  S2DM_CHECK(t.defined(), "save_npy {}: the tensor is undefined", path);
  Tensor h = t.detach().to(Device::cpu());
  if (h.dtype() == DType::BF16) h = h.to(DType::F32);
  h = h.contiguous();
  const std::string header = npy_header(h.dtype() == DType::F64 ? "<f8" : "<f4", h.shape());
  write_file_atomic_parts(path, {header, std::string_view(static_cast<const char*>(h.raw()),
                                                          h.nbytes())});
}

void save_npy_u8(const std::string& path, const std::vector<uint8_t>& data, const Shape& shape) {
  for (int64_t d : shape)
    S2DM_CHECK(d >= 0, "save_npy_u8 {}: negative dimension in shape {}", path, shape_str(shape));
  S2DM_CHECK(static_cast<int64_t>(data.size()) == shape_numel(shape),
             "save_npy_u8 {}: {} bytes do not fill shape {}", path, data.size(), shape_str(shape));
  const std::string header = npy_header("|u1", shape);
  write_file_atomic_parts(
      path, {header, std::string_view(reinterpret_cast<const char*>(data.data()), data.size())});
}

}  // namespace s2dm
