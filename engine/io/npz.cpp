// .npz writer/reader. The ZIP layout follows APPNOTE 6.3: per member a local header, the bytes,
// then a central directory and an end record (plus the ZIP64 end record and locator when needed).
// The .npy member header is built and parsed here (version 1.0/2.0/3.0 dict literal) because
// members live in memory, not in files of their own.
#include "engine/io/npz.h"

#include "engine/io/npy.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "engine/error.h"
#include "engine/io/atomic_file.h"

namespace s2dm {

namespace {

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kEnd64Sig = 0x06064b50;
constexpr uint32_t kLocator64Sig = 0x07064b50;
constexpr uint64_t kMax32 = 0xffffffffu;
constexpr uint64_t kMax16 = 0xffffu;
constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01, for reproducible bytes

void put16(std::string& s, uint64_t v) {
  for (int i = 0; i < 2; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}
void put32(std::string& s, uint64_t v) {
  for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}
void put64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

// Bounds-checked little-endian reads; `what` says which structure ran past the end.
class Reader {
 public:
  Reader(std::string_view bytes, const std::string& path) : b_(bytes), path_(path) {}
  uint64_t get(size_t pos, int n, const char* what) const {
    S2DM_CHECK(pos <= b_.size() && static_cast<size_t>(n) <= b_.size() - pos,
               "{}: truncated or corrupt .npz file ({} at byte {} runs past the end, {} bytes)",
               path_, what, pos, b_.size());
    uint64_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= static_cast<uint64_t>(static_cast<unsigned char>(b_[pos + static_cast<size_t>(i)]))
           << (8 * i);
    return v;
  }
  std::string_view slice(uint64_t pos, uint64_t n, const char* what) const {
    S2DM_CHECK(pos <= b_.size() && n <= b_.size() - pos,
               "{}: truncated or corrupt .npz file ({} at byte {} of {} bytes runs past the end "
               "of {} bytes)",
               path_, what, pos, n, b_.size());
    return b_.substr(static_cast<size_t>(pos), static_cast<size_t>(n));
  }
  size_t size() const { return b_.size(); }

 private:
  std::string_view b_;
  const std::string& path_;
};

uint32_t crc_of(const std::vector<std::string_view>& parts) {
  uLong crc = crc32_z(0L, Z_NULL, 0);
  for (std::string_view p : parts)
    crc = crc32_z(crc, reinterpret_cast<const Bytef*>(p.data()), p.size());
  return static_cast<uint32_t>(crc);
}

int64_t itemsize_of(const std::string& descr) {
  // numpy's simple dtype strings: byte order, kind letter, item size ("<f4", "|u1", "<i8").
  if (descr.size() >= 3 && std::strchr("<>|=", descr[0]) != nullptr) {
    int64_t n = 0;
    for (size_t i = 2; i < descr.size(); ++i) {
      if (descr[i] < '0' || descr[i] > '9' || n > 1000) return -1;
      n = n * 10 + (descr[i] - '0');
    }
    return n > 0 ? n : -1;
  }
  return -1;
}

NpzArray parse_member(std::string_view bytes, const std::string& where) {
  const NpyHeader h = parse_npy_header(bytes, where);
  S2DM_CHECK(!h.fortran_order,
             "{}: Fortran-order arrays are not supported; save np.ascontiguousarray(a) instead",
             where);
  NpzArray a;
  a.descr = h.descr;
  a.shape = h.shape;
  const int64_t item = itemsize_of(a.descr);
  S2DM_CHECK(item > 0, "{}: unsupported .npy dtype '{}'", where, a.descr);
  uint64_t need = static_cast<uint64_t>(item);
  for (int64_t d : a.shape) {
    S2DM_CHECK(d == 0 || need <= std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(d),
               "{}: .npy shape {} is too large", where, shape_str(a.shape));
    need *= static_cast<uint64_t>(d);
  }
  const size_t have = bytes.size() - h.data_offset;
  S2DM_CHECK(have == need, "{}: .npy data of shape {} '{}' needs {} bytes, the member has {}",
             where, shape_str(a.shape), a.descr, need, have);
  a.data.assign(bytes.substr(h.data_offset));
  return a;
}

// Deflate cannot expand data by more than this: a 258-byte match costs at least two bits.
constexpr uint64_t kMaxDeflateRatio = 1032;

std::string inflate_raw(std::string_view in, uint64_t size, const std::string& where) {
  // The output buffer is sized from the directory's claim, so the claim is checked against what
  // the compressed bytes can hold before anything is allocated.
  S2DM_CHECK(size <= (in.size() + 1) * kMaxDeflateRatio,
             "{}: corrupt .npz file (the member claims {} bytes uncompressed, more than its {} "
             "compressed bytes can hold)",
             where, size, in.size());
  std::string out(static_cast<size_t>(size), '\0');
  z_stream zs{};
  S2DM_CHECK(inflateInit2(&zs, -MAX_WBITS) == Z_OK, "{}: cannot initialise zlib", where);
  // zlib counts in uInt; feed and drain in chunks so members past 4 GiB work.
  constexpr size_t kChunk = size_t{1} << 30;
  size_t in_pos = 0, out_pos = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (zs.avail_in == 0 && in_pos < in.size()) {
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + in_pos));
      zs.avail_in = static_cast<uInt>(std::min(kChunk, in.size() - in_pos));
      in_pos += zs.avail_in;
    }
    if (zs.avail_out == 0 && out_pos < out.size()) {
      zs.next_out = reinterpret_cast<Bytef*>(out.data() + out_pos);
      zs.avail_out = static_cast<uInt>(std::min(kChunk, out.size() - out_pos));
      out_pos += zs.avail_out;
    }
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_BUF_ERROR && (zs.avail_in > 0 || in_pos < in.size()) &&
        (zs.avail_out > 0 || out_pos < out.size()))
      rc = Z_OK;
  }
  const uint64_t produced = zs.total_out;
  inflateEnd(&zs);
  S2DM_CHECK(rc == Z_STREAM_END && produced == size,
             "{}: corrupt deflated data (zlib status {}, {} of {} bytes)", where, rc, produced,
             size);
  return out;
}

}  // namespace

namespace detail {

void save_npz(const std::string& path, const std::vector<NpzEntry>& entries, bool force_zip64) {
  std::vector<std::string> headers;  // per member: local header + .npy header
  std::string central;
  uint64_t offset = 0;
  headers.reserve(entries.size());
  for (size_t k = 0; k < entries.size(); ++k) {
    const NpzEntry& e = entries[k];
    S2DM_CHECK(!e.name.empty() && e.name.find('\0') == std::string::npos,
               "save_npz {}: array {} has an empty or invalid name", path, k);
    for (size_t j = 0; j < k; ++j)
      S2DM_CHECK(entries[j].name != e.name, "save_npz {}: two arrays are named '{}'", path, e.name);
    const int64_t item = itemsize_of(e.descr);
    S2DM_CHECK(item > 0, "save_npz {}: array '{}' has unsupported dtype '{}'", path, e.name,
               e.descr);
    for (int64_t d : e.shape)
      S2DM_CHECK(d >= 0, "save_npz {}: array '{}' has a negative dimension in {}", path, e.name,
                 shape_str(e.shape));
    S2DM_CHECK(static_cast<uint64_t>(e.data.size()) ==
                   static_cast<uint64_t>(shape_numel(e.shape)) * static_cast<uint64_t>(item),
               "save_npz {}: array '{}' has {} bytes, shape {} of '{}' needs {}", path, e.name,
               e.data.size(), shape_str(e.shape), e.descr, shape_numel(e.shape) * item);
    const std::string member = e.name + ".npy";
    S2DM_CHECK(member.size() < kMax16, "save_npz {}: array name '{}' is too long", path, e.name);
    const std::string npy = npy_header(e.descr, e.shape);
    const uint64_t size = npy.size() + e.data.size();
    const uint32_t crc = crc_of({npy, e.data});
    const bool utf8 = std::any_of(member.begin(), member.end(),
                                  [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    const uint64_t flags = utf8 ? (1u << 11) : 0u;
    const bool local64 = force_zip64 || size >= kMax32;
    const bool offset64 = force_zip64 || offset >= kMax32;

    std::string local;
    put32(local, kLocalSig);
    put16(local, local64 ? 45 : 20);
    put16(local, flags);
    put16(local, 0);  // stored
    put16(local, 0);  // time 00:00
    put16(local, kDosDate);
    put32(local, crc);
    put32(local, local64 ? kMax32 : size);
    put32(local, local64 ? kMax32 : size);
    put16(local, member.size());
    put16(local, local64 ? 20 : 0);
    local += member;
    if (local64) {
      put16(local, 0x0001);
      put16(local, 16);
      put64(local, size);
      put64(local, size);
    }

    std::string extra;
    if (local64 || offset64) {
      put16(extra, 0x0001);
      put16(extra, (local64 ? 16 : 0) + (offset64 ? 8 : 0));
      if (local64) {
        put64(extra, size);
        put64(extra, size);
      }
      if (offset64) put64(extra, offset);
    }
    put32(central, kCentralSig);
    put16(central, (3 << 8) | 45);  // made by: Unix, spec 4.5
    put16(central, local64 || offset64 ? 45 : 20);
    put16(central, flags);
    put16(central, 0);
    put16(central, 0);
    put16(central, kDosDate);
    put32(central, crc);
    put32(central, local64 ? kMax32 : size);
    put32(central, local64 ? kMax32 : size);
    put16(central, member.size());
    put16(central, extra.size());
    put16(central, 0);                        // comment
    put16(central, 0);                        // disk
    put16(central, 0);                        // internal attributes
    put32(central, uint64_t{0100644} << 16);  // regular file, rw-r--r--
    put32(central, offset64 ? kMax32 : offset);
    central += member;
    central += extra;

    offset += local.size() + size;
    headers.push_back(local + npy);
  }

  const uint64_t n = entries.size();
  const uint64_t cd_offset = offset;
  const uint64_t cd_size = central.size();
  std::string tail = central;
  const bool end64 = force_zip64 || n >= kMax16 || cd_offset >= kMax32 || cd_size >= kMax32;
  if (end64) {
    const uint64_t end64_offset = cd_offset + cd_size;
    put32(tail, kEnd64Sig);
    put64(tail, 44);  // size of the rest of this record
    put16(tail, (3 << 8) | 45);
    put16(tail, 45);
    put32(tail, 0);
    put32(tail, 0);
    put64(tail, n);
    put64(tail, n);
    put64(tail, cd_size);
    put64(tail, cd_offset);
    put32(tail, kLocator64Sig);
    put32(tail, 0);
    put64(tail, end64_offset);
    put32(tail, 1);
  }
  put32(tail, kEndSig);
  put16(tail, 0);
  put16(tail, 0);
  put16(tail, end64 ? kMax16 : n);
  put16(tail, end64 ? kMax16 : n);
  put32(tail, end64 ? kMax32 : cd_size);
  put32(tail, end64 ? kMax32 : cd_offset);
  put16(tail, 0);  // comment

  // One buffer, one atomic write: readers never see a half-written archive.
  std::string file;
  file.reserve(static_cast<size_t>(cd_offset) + tail.size());
  for (size_t k = 0; k < entries.size(); ++k) {
    file += headers[k];
    file += entries[k].data;
  }
  file += tail;
  write_file_atomic(path, file);
}

}  // namespace detail

void save_npz(const std::string& path, const std::vector<NpzEntry>& entries) {
  detail::save_npz(path, entries, false);
}

void save_npz_u8(const std::string& path, const std::vector<uint8_t>& data, const Shape& shape) {
  save_npz(path,
           {NpzEntry{"arr_0", "|u1", shape,
                     std::string_view(reinterpret_cast<const char*>(data.data()), data.size())}});
}

void save_npz(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& arrays) {
  std::vector<Tensor> host;
  std::vector<NpzEntry> entries;
  for (const auto& [name, t] : arrays) {
    S2DM_CHECK(t.defined(), "save_npz {}: tensor '{}' is undefined", path, name);
    Tensor h = t.detach().to(Device::cpu());
    if (h.dtype() == DType::BF16) h = h.to(DType::F32);
    host.push_back(h.contiguous());
  }
  for (size_t k = 0; k < arrays.size(); ++k)
    entries.push_back(
        NpzEntry{arrays[k].first, host[k].dtype() == DType::F64 ? "<f8" : "<f4", host[k].shape(),
                 std::string_view(static_cast<const char*>(host[k].raw()), host[k].nbytes())});
  save_npz(path, entries);
}

int64_t NpzArray::itemsize() const { return itemsize_of(descr); }

Tensor NpzArray::to_tensor() const {
  const int64_t n = shape_numel(shape);
  if (descr == "|u1" || descr == "<u1") {
    Tensor t = Tensor::empty(shape, DType::F32);
    float* p = t.data<float>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>(data[static_cast<size_t>(i)]);
    return t;
  }
  S2DM_CHECK(descr == "<f4" || descr == "<f8",
             "npz array '{}' has dtype '{}'; s2dm converts '|u1', '<f4' and '<f8' to tensors", name,
             descr);
  Tensor t = Tensor::empty(shape, descr == "<f8" ? DType::F64 : DType::F32);
  if (!data.empty()) std::memcpy(t.raw(), data.data(), data.size());
  return t;
}

std::vector<NpzArray> load_npz(const std::string& path) {
  const std::string bytes = read_file(path);
  const Reader r(bytes, path);
  S2DM_CHECK(bytes.size() >= 22 && r.get(0, 4, "signature") == kLocalSig,
             "{} is not an .npz file (no ZIP signature at the start; was it written by "
             "np.savez?)",
             path);
  // The end record is the last 22 bytes unless the archive has a comment (at most 64 KiB).
  size_t end = std::string::npos;
  const size_t lowest = bytes.size() >= 22 + kMax16 ? bytes.size() - 22 - kMax16 : 0;
  for (size_t pos = bytes.size() - 22 + 1; pos-- > lowest;) {
    if (r.get(pos, 4, "end record") == kEndSig &&
        pos + 22 + r.get(pos + 20, 2, "end record") == bytes.size()) {
      end = pos;
      break;
    }
  }
  S2DM_CHECK(end != std::string::npos,
             "{}: truncated or corrupt .npz file (no ZIP end record; re-create the file)", path);
  uint64_t n = r.get(end + 10, 2, "end record");
  uint64_t cd_size = r.get(end + 12, 4, "end record");
  uint64_t cd_offset = r.get(end + 16, 4, "end record");
  if (end >= 20 && r.get(end - 20, 4, "ZIP64 locator") == kLocator64Sig) {
    const uint64_t e64 = r.get(end - 12, 8, "ZIP64 locator");
    S2DM_CHECK(r.get(static_cast<size_t>(std::min<uint64_t>(e64, bytes.size())), 4,
                     "ZIP64 end record") == kEnd64Sig,
               "{}: corrupt .npz file (bad ZIP64 end record)", path);
    n = r.get(static_cast<size_t>(e64) + 32, 8, "ZIP64 end record");
    cd_size = r.get(static_cast<size_t>(e64) + 40, 8, "ZIP64 end record");
    cd_offset = r.get(static_cast<size_t>(e64) + 48, 8, "ZIP64 end record");
  }
  r.slice(cd_offset, cd_size, "central directory");

  std::vector<NpzArray> out;
  size_t pos = static_cast<size_t>(cd_offset);
  for (uint64_t k = 0; k < n; ++k) {
    S2DM_CHECK(r.get(pos, 4, "central directory") == kCentralSig,
               "{}: corrupt .npz file (central directory entry {} has a bad signature)", path, k);
    const uint64_t flags = r.get(pos + 8, 2, "central directory");
    const uint64_t method = r.get(pos + 10, 2, "central directory");
    const uint64_t crc = r.get(pos + 16, 4, "central directory");
    uint64_t csize = r.get(pos + 20, 4, "central directory");
    uint64_t usize = r.get(pos + 24, 4, "central directory");
    const uint64_t nlen = r.get(pos + 28, 2, "central directory");
    const uint64_t xlen = r.get(pos + 30, 2, "central directory");
    const uint64_t clen = r.get(pos + 32, 2, "central directory");
    uint64_t local = r.get(pos + 42, 4, "central directory");
    const std::string member(r.slice(pos + 46, nlen, "member name"));
    const std::string where = path + " member " + member;
    // ZIP64 extra field: the 64-bit values of whichever fixed fields hold 0xffffffff, in order.
    std::string_view extra = r.slice(pos + 46 + nlen, xlen, "extra field");
    for (size_t x = 0; x + 4 <= extra.size();) {
      const Reader er(extra, path);
      const uint64_t id = er.get(x, 2, "extra field");
      const uint64_t len = er.get(x + 2, 2, "extra field");
      if (id == 0x0001) {
        size_t f = x + 4;
        if (usize == kMax32) {
          usize = er.get(f, 8, "ZIP64 extra");
          f += 8;
        }
        if (csize == kMax32) {
          csize = er.get(f, 8, "ZIP64 extra");
          f += 8;
        }
        if (local == kMax32) {
          local = er.get(f, 8, "ZIP64 extra");
          f += 8;
        }
      }
      x += 4 + static_cast<size_t>(len);
    }
    pos += 46 + nlen + xlen + clen;

    S2DM_CHECK((flags & 1) == 0, "{}: encrypted members are not supported", where);
    S2DM_CHECK(method == 0 || method == 8,
               "{}: compression method {} is not supported (only stored and deflate, as written "
               "by np.savez and np.savez_compressed)",
               where, method);
    S2DM_CHECK(r.get(static_cast<size_t>(std::min<uint64_t>(local, bytes.size())), 4,
                     "local header") == kLocalSig,
               "{}: corrupt .npz file (bad local header)", where);
    const uint64_t data_at = local + 30 +
                             r.get(static_cast<size_t>(local) + 26, 2, "local header") +
                             r.get(static_cast<size_t>(local) + 28, 2, "local header");
    const std::string_view raw = r.slice(data_at, csize, "member data");
    std::string inflated;
    std::string_view content = raw;
    if (method == 8) {
      inflated = inflate_raw(raw, usize, where);
      content = inflated;
    } else {
      S2DM_CHECK(csize == usize, "{}: stored member sizes disagree ({} vs {})", where, csize,
                 usize);
    }
    S2DM_CHECK(crc_of({content}) == crc, "{}: CRC-32 mismatch (the file is corrupt; re-create it)",
               where);
    NpzArray a = parse_member(content, where);
    a.name = member.size() > 4 && member.ends_with(".npy") ? member.substr(0, member.size() - 4)
                                                           : member;
    out.push_back(std::move(a));
  }
  return out;
}

const NpzArray& find_npz_array(const std::vector<NpzArray>& arrays, const std::string& name,
                               const std::string& path) {
  std::string names;
  for (const NpzArray& a : arrays) {
    if (a.name == name) return a;
    names += (names.empty() ? "" : ", ") + a.name;
  }
  fail("{} has no array '{}' (it holds: {})", path, name, names.empty() ? "nothing" : names);
}

}  // namespace s2dm
