// File formats: safetensors and .npy round trips, interop with files written by Python's
// `safetensors` package and numpy (tests/golden/gen_io.py), corrupt inputs, and atomic writes.
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <unistd.h>

#include "engine/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/npy.h"
#include "engine/io/safetensors.h"

#include "tests/temp_dir.h"

using namespace s2dm;
namespace fs = std::filesystem;
using Catch::Contains;

using test::TempDir;

namespace {


std::string golden(const std::string& name) {
  return std::string(S2DM_GOLDEN_DIR) + "/io/" + name;
}

// Written with plain iostreams so corrupt fixtures do not depend on the code under test.
void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

std::string le64(uint64_t v) {
  std::string out(8, '\0');
  for (size_t i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

uint64_t header_length(const std::string& bytes) {
  uint64_t n = 0;
  for (size_t i = 0; i < 8; ++i) n |= uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
  return n;
}

std::string st_bytes(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

std::string f32_bytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

std::string raw_bytes(const Tensor& t) {
  return std::string(static_cast<const char*>(t.raw()), t.nbytes());
}

// Element-wise equality that treats NaN as equal to NaN and tells -0 from +0.
bool same_values(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    if (a[i] != b[i] || std::signbit(a[i]) != std::signbit(b[i])) return false;
  }
  return true;
}

std::vector<std::string> temp_leftovers(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp.") != std::string::npos) out.push_back(name);
  }
  return out;
}

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

}  // namespace

// ------------------------------------------------------------------------------------------------
// safetensors

TEST_CASE("safetensors round trip keeps dtype, shape, bits and metadata", "[io]") {
  TempDir tmp;
  const std::string path = tmp.file("model.safetensors");
  std::map<std::string, Tensor> in;
  in["f32"] = Tensor::from_vector(std::vector<float>{1.5f, -0.0f, kInf, -kInf, 1e-40f, 3.25f},
                                  {2, 3});
  in["f64"] = Tensor::from_vector(std::vector<double>{0.1, -1e300, 1e-310, 2.0}, {4});
  in["bf16"] = Tensor::from_vector(std::vector<float>{1.0f, -3.140625f, 256.0f}, {3}, DType::BF16);
  in["scalar"] = Tensor::from_vector(std::vector<float>{42.5f}, {});
  in["empty_1d"] = Tensor::zeros({0});
  in["empty_3d"] = Tensor::empty({2, 0, 3}, DType::F64);
  const std::map<std::string, std::string> meta{
      {"epoch", "12"}, {"note", "p\xc3\xa4per \xe2\x9c\x93"}, {"blank", ""}};
  save_safetensors(path, in, meta);

  const SafetensorsFile out = load_safetensors(path);
  CHECK(out.metadata == meta);
  REQUIRE(out.tensors.size() == in.size());
  for (const auto& [name, t] : in) {
    INFO(name);
    const Tensor& u = out.tensors.at(name);
    CHECK(u.dtype() == t.dtype());
    CHECK(u.shape() == t.shape());
    CHECK(u.device().is_cpu());
    CHECK(raw_bytes(u) == raw_bytes(t));
  }
  CHECK(out.tensors.at("scalar").dim() == 0);
  CHECK(out.tensors.at("scalar").item() == 42.5);
  CHECK(out.tensors.at("bf16").to_vector() == std::vector<double>{1.0, -3.140625, 256.0});
  CHECK(out.tensors.at("f64").to_vector() == std::vector<double>{0.1, -1e300, 1e-310, 2.0});

  // `as` converts every tensor after loading.
  const SafetensorsFile widened = load_safetensors(path, DType::F64);
  for (const auto& [name, t] : widened.tensors) CHECK(t.dtype() == DType::F64);
  CHECK(widened.tensors.at("bf16").to_vector() == std::vector<double>{1.0, -3.140625, 256.0});
  CHECK(widened.tensors.at("f32").to_vector()[0] == 1.5);

  // No tensors at all is still a valid file.
  save_safetensors(tmp.file("none.safetensors"), {});
  const SafetensorsFile none = load_safetensors(tmp.file("none.safetensors"));
  CHECK(none.tensors.empty());
  CHECK(none.metadata.empty());
}

TEST_CASE("safetensors writes views and non-contiguous tensors by logical value", "[io]") {
  TempDir tmp;
  Tensor base = Tensor::from_vector(std::vector<float>{0, 1, 2, 3, 4, 5}, {2, 3});
  std::map<std::string, Tensor> in{{"t", base.permute({1, 0})}, {"s", base.slice(1, 1, 3)}};
  save_safetensors(tmp.file("views.safetensors"), in);
  const auto out = load_safetensors(tmp.file("views.safetensors")).tensors;
  CHECK(out.at("t").shape() == Shape{3, 2});
  CHECK(out.at("t").to_vector() == std::vector<double>{0, 3, 1, 4, 2, 5});
  CHECK(out.at("s").to_vector() == std::vector<double>{1, 2, 4, 5});
}

TEST_CASE("safetensors layout: names sorted, data contiguous, header padded", "[io]") {
  TempDir tmp;
  const std::string path = tmp.file("many.safetensors");
  std::map<std::string, Tensor> in;
  for (int i = 0; i < 150; ++i) {
    const DType dt = i % 3 == 0 ? DType::F32 : i % 3 == 1 ? DType::F64 : DType::BF16;
    const int64_t n = i % 7;  // includes empty tensors
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) v[static_cast<size_t>(k)] = static_cast<float>(i * 10 + k);
    in[fmt::format("layer.{}.w", i)] = Tensor::from_vector(v, {n}, dt);
  }
  save_safetensors(path, in, {{"k", "v"}});

  const std::string bytes = read_file(path);
  const uint64_t n = header_length(bytes);
  CHECK(n % 8 == 0);
  const std::string text = bytes.substr(8, n);
  CHECK(text.front() == '{');
  CHECK(text.find_last_not_of(' ') == text.rfind('}'));
  const auto header = nlohmann::json::parse(text);
  CHECK(header.at("__metadata__") == nlohmann::json{{"k", "v"}});
  uint64_t cursor = 0;
  for (const auto& [name, t] : in) {  // std::map order: the order the data must follow
    INFO(name);
    const auto& e = header.at(name);
    CHECK(e.at("data_offsets")[0].get<uint64_t>() == cursor);
    cursor += t.nbytes();
    CHECK(e.at("data_offsets")[1].get<uint64_t>() == cursor);
    CHECK(e.at("shape").get<Shape>() == t.shape());
  }
  CHECK(bytes.size() == 8 + n + cursor);

  const auto out = load_safetensors(path).tensors;
  REQUIRE(out.size() == in.size());
  for (const auto& [name, t] : in) {
    INFO(name);
    CHECK(out.at(name).dtype() == t.dtype());
    CHECK(out.at(name).to_vector() == t.to_vector());
  }
}

TEST_CASE("safetensors writer output is byte-identical to the Python-verified reference", "[io]") {
  // tests/golden/gen_io.py wrote these files with the same tensors and checked that the
  // `safetensors` package and an independent reader load them with these values.
  TempDir tmp;
  std::map<std::string, Tensor> in;
  in["a"] = Tensor::from_vector(std::vector<float>{1, -2, 0.5f, 3.25f}, {2, 2});
  in["b"] = Tensor::from_vector(std::vector<double>{0.1, -1e300, 2}, {3});
  in["c"] = Tensor::from_vector(std::vector<float>{1.5f, -0.125f}, {2}, DType::BF16);
  in["d"] = Tensor::from_vector(std::vector<float>{7}, {});
  in["e"] = Tensor::zeros({0, 3}, DType::F64);
  save_safetensors(tmp.file("native.safetensors"), in, {{"epoch", "3"}, {"name", "s2dm test"}});
  CHECK(read_file(tmp.file("native.safetensors")) == read_file(golden("s2dm_native.safetensors")));

  const std::vector<float> h{1.0f, -0.333f, 65519.0f, 65520.0f, 1e-6f, 2.98e-8f, 3.0e-8f};
  save_safetensors(tmp.file("f16.safetensors"),
                   {{"h", Tensor::from_vector(h, {static_cast<int64_t>(h.size())})}}, {},
                   SafetensorsStore::F16);
  CHECK(read_file(tmp.file("f16.safetensors")) == read_file(golden("s2dm_f16.safetensors")));

  // Loaded back, F16 becomes F32 holding the rounded values.
  const Tensor back = load_safetensors(tmp.file("f16.safetensors")).tensors.at("h");
  CHECK(back.dtype() == DType::F32);
  const auto v = back.to_vector();
  CHECK(v[0] == 1.0);
  CHECK(v[1] == -0.3330078125);    // nearest half to -0.333: 1364 * 2^-12
  CHECK(v[2] == 65504.0);          // below the 65520 midpoint: largest finite half
  CHECK(std::isinf(v[3]));         // the midpoint rounds to even, which is infinity
  CHECK(v[4] == std::ldexp(17.0, -24));
  CHECK(v[5] == 0.0);
  CHECK(v[6] == std::ldexp(1.0, -24));
}

TEST_CASE("safetensors files written by Python load with the right values", "[io]") {
  const SafetensorsFile mixed = load_safetensors(golden("py_mixed.safetensors"));
  CHECK(mixed.metadata == std::map<std::string, std::string>{
                              {"format", "np"}, {"note", "p\xc3\xa4per \xe2\x9c\x93"}});
  REQUIRE(mixed.tensors.size() == 4);
  const Tensor& w = mixed.tensors.at("weight");
  CHECK(w.dtype() == DType::F32);
  CHECK(w.shape() == Shape{2, 3});
  CHECK(w.to_vector() == std::vector<double>{-1, -0.5, 0, 0.5, 1, 1.5});
  const Tensor& b = mixed.tensors.at("bias");
  CHECK(b.dtype() == DType::F64);
  CHECK(b.to_vector() == std::vector<double>{0.1, -2.25, 1e-300});
  CHECK(mixed.tensors.at("scalar").shape() == Shape{});
  CHECK(mixed.tensors.at("scalar").item() == 3.5);
  CHECK(mixed.tensors.at("empty").shape() == Shape{0, 4});

  // F16 values cover zeros, extremes, subnormals, infinities and NaN; "expected" holds numpy's
  // own float32 widening of the same halves.
  const SafetensorsFile f16 = load_safetensors(golden("py_f16.safetensors"));
  const Tensor& hv = f16.tensors.at("values");
  CHECK(hv.dtype() == DType::F32);
  const auto got = hv.to_vector();
  CHECK(same_values(got, f16.tensors.at("expected").to_vector()));
  REQUIRE(got.size() == 15);
  CHECK(std::signbit(got[1]));
  CHECK(got[4] == 65504.0);
  CHECK(got[6] == std::ldexp(1.0, -14));
  CHECK(got[7] == std::ldexp(1.0, -24));
  CHECK(got[8] == std::ldexp(3.0, -24));
  CHECK(got[9] == std::ldexp(1000.0, -24));
  CHECK(got[10] == std::numeric_limits<double>::infinity());
  CHECK(got[11] == -std::numeric_limits<double>::infinity());
  CHECK(std::isnan(got[12]));
  CHECK(got[13] == 0.333251953125);

  const SafetensorsFile bf = load_safetensors(golden("py_bf16.safetensors"));
  const Tensor& bv = bf.tensors.at("values");
  CHECK(bv.dtype() == DType::BF16);
  CHECK(same_values(bv.to_vector(), bf.tensors.at("expected").to_vector()));
  CHECK(bv.to_vector()[1] == -3.140625);
  const Tensor bv32 =
      load_safetensors(golden("py_bf16.safetensors"), DType::F32).tensors.at("values");
  CHECK(bv32.dtype() == DType::F32);
  CHECK(same_values(bv32.to_vector(), bf.tensors.at("expected").to_vector()));
}

TEST_CASE("binary16 conversion is exact one way and rounds to nearest even the other", "[io]") {
  CHECK(f16_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(f16_to_float(0x03ff) == std::ldexp(1023.0f, -24));
  CHECK(f16_to_float(0x0400) == std::ldexp(1.0f, -14));
  CHECK(f16_to_float(0x3c00) == 1.0f);
  CHECK(f16_to_float(0xc100) == -2.5f);
  CHECK(f16_to_float(0x7bff) == 65504.0f);
  CHECK(f16_to_float(0x7c00) == kInf);
  CHECK(f16_to_float(0xfc00) == -kInf);
  CHECK(std::isnan(f16_to_float(0x7e00)));
  CHECK(std::isnan(f16_to_float(0x7c01)));  // signalling NaN stays a NaN
  CHECK(std::signbit(f16_to_float(0x8000)));
  CHECK(f16_to_float(0x8000) == 0.0f);

  CHECK(float_to_f16(65519.0f) == 0x7bff);
  CHECK(float_to_f16(65520.0f) == 0x7c00);
  CHECK(float_to_f16(-1e10f) == 0xfc00);
  CHECK(float_to_f16(kInf) == 0x7c00);
  CHECK((float_to_f16(kNaN) & 0x7c00) == 0x7c00);
  CHECK((float_to_f16(kNaN) & 0x03ff) != 0);
  CHECK(float_to_f16(-0.0f) == 0x8000);
  CHECK(float_to_f16(1e-40f) == 0x0000);                   // float subnormal
  CHECK(float_to_f16(std::ldexp(1.0f, -25)) == 0x0000);    // tie between 0 and 2^-24: even
  CHECK(float_to_f16(std::ldexp(3.0f, -26)) == 0x0001);    // 0.75 ulp rounds up
  CHECK(float_to_f16(std::ldexp(3.0f, -25)) == 0x0002);    // tie between 1 and 2 ulp: even
  CHECK(float_to_f16(std::ldexp(1023.5f, -24)) == 0x0400); // subnormal rounds up into normal

  // Every finite half survives a round trip, and every midpoint between neighbours rounds to
  // the one with an even mantissa (nudged either way, to the nearer one).
  int bad_round_trip = 0, bad_midpoint = 0;
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const auto x = static_cast<uint16_t>(h);
    const float f = f16_to_float(x);
    if (std::isnan(f)) {
      bad_round_trip += !std::isnan(f16_to_float(float_to_f16(f)));
      continue;
    }
    bad_round_trip += float_to_f16(f) != x;
    if ((h & 0x7fff) >= 0x7bff) continue;  // no finite neighbour above
    const float g = f16_to_float(static_cast<uint16_t>(x + 1));
    const float mid = (f + g) / 2;  // exact: halves have 11 significant bits
    const uint16_t even = (x & 1) ? static_cast<uint16_t>(x + 1) : x;
    bad_midpoint += float_to_f16(mid) != even;
    bad_midpoint += float_to_f16(std::nextafter(mid, f)) != x;
    bad_midpoint += float_to_f16(std::nextafter(mid, g)) != static_cast<uint16_t>(x + 1);
  }
  CHECK(bad_round_trip == 0);
  CHECK(bad_midpoint == 0);
}

TEST_CASE("corrupt safetensors files fail with the file name and the problem", "[io]") {
  TempDir tmp;
  const std::string good = tmp.file("good.safetensors");
  save_safetensors(good,
                   {{"a", Tensor::from_vector(std::vector<float>{1, 2, 3}, {3})},
                    {"b", Tensor::from_vector(std::vector<double>{4, 5}, {2})}},
                   {{"k", "v"}});
  const std::string bytes = read_file(good);
  REQUIRE(load_safetensors(good).tensors.size() == 2);
  const uint64_t n = header_length(bytes);

  SECTION("truncated at several points") {
    const std::vector<std::pair<size_t, std::string>> cuts{
        {0, "too short"},
        {5, "too short"},
        {7, "too short"},
        {8, "extends beyond the end"},
        {8 + n / 2, "extends beyond the end"},
        {8 + n - 1, "extends beyond the end"},
        {8 + n, "truncated file?"},
        {8 + n + 7, "truncated file?"},
        {bytes.size() - 1, "truncated file?"}};
    for (const auto& [cut, why] : cuts) {
      const std::string name = fmt::format("cut_at_{}.safetensors", cut);
      INFO(name);
      write_raw(tmp.file(name), bytes.substr(0, cut));
      CHECK_THROWS_WITH(load_safetensors(tmp.file(name)), Contains(name) && Contains(why));
    }
  }

  SECTION("header length and header text") {
    write_raw(tmp.file("len_past_end.safetensors"), le64(bytes.size()) + bytes.substr(8));
    CHECK_THROWS_WITH(load_safetensors(tmp.file("len_past_end.safetensors")),
                      Contains("len_past_end.safetensors") && Contains("extends beyond the end"));
    write_raw(tmp.file("oversized.safetensors"), le64(uint64_t{1} << 40) + bytes.substr(8));
    CHECK_THROWS_WITH(load_safetensors(tmp.file("oversized.safetensors")),
                      Contains("oversized.safetensors") && Contains("oversized header"));
    write_raw(tmp.file("not_json.safetensors"), st_bytes("this is not json", ""));
    CHECK_THROWS_WITH(load_safetensors(tmp.file("not_json.safetensors")),
                      Contains("not_json.safetensors") && Contains("not valid JSON"));
    write_raw(tmp.file("empty_header.safetensors"), st_bytes("", ""));
    CHECK_THROWS_WITH(load_safetensors(tmp.file("empty_header.safetensors")),
                      Contains("empty_header.safetensors") && Contains("not valid JSON"));
    write_raw(tmp.file("bad_utf8.safetensors"), st_bytes("{\"\xff\":1}", ""));
    CHECK_THROWS_WITH(load_safetensors(tmp.file("bad_utf8.safetensors")),
                      Contains("bad_utf8.safetensors") && Contains("not valid JSON"));
    write_raw(tmp.file("array.safetensors"), st_bytes("[1, 2]", ""));
    CHECK_THROWS_WITH(load_safetensors(tmp.file("array.safetensors")),
                      Contains("array.safetensors") && Contains("expected an object"));
    // Trailing spaces are the format's padding and are accepted.
    write_raw(tmp.file("padded.safetensors"),
              st_bytes(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}       )",
                       f32_bytes({2.5f})));
    CHECK(load_safetensors(tmp.file("padded.safetensors")).tensors.at("x").item() == 2.5);
  }

  SECTION("bad entries") {
    const std::string four = f32_bytes({1, 2, 3, 4});
    struct Case {
      const char* file;
      std::string header;
      std::string data;
      const char* why;
    };
    const std::vector<Case> cases{
        {"unknown_dtype", R"({"x":{"dtype":"F33","shape":[4],"data_offsets":[0,16]}})", four,
         "unknown dtype 'F33'"},
        {"int_dtype", R"({"x":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})", four,
         "dtype 'I64', which s2dm cannot load"},
        {"no_dtype", R"({"x":{"shape":[4],"data_offsets":[0,16]}})", four, "no string \"dtype\""},
        {"num_dtype", R"({"x":{"dtype":4,"shape":[4],"data_offsets":[0,16]}})", four,
         "no string \"dtype\""},
        {"no_shape", R"({"x":{"dtype":"F32","data_offsets":[0,16]}})", four, "no \"shape\""},
        {"neg_shape", R"({"x":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", four,
         "non-negative integers"},
        {"float_shape", R"({"x":{"dtype":"F32","shape":[4.0],"data_offsets":[0,16]}})", four,
         "non-negative integers"},
        {"huge_shape",
         R"({"x":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,16]}})",
         four, "too large"},
        {"no_offsets", R"({"x":{"dtype":"F32","shape":[4]}})", four, "data_offsets"},
        {"one_offset", R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[16]}})", four,
         "data_offsets"},
        {"reversed", R"({"x":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", four,
         "end before they begin"},
        {"size_mismatch", R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", four,
         "needs 12"},
        {"out_of_range", R"({"x":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", four,
         "reach beyond the 16-byte data buffer"},
        {"overlap",
         R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
         R"("y":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
         four, "'x' and 'y' overlap"},
        {"hole",
         R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
         R"("y":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
         four, "bytes [4, 8) of the data buffer belong to no tensor"},
        {"trailing", R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", four,
         "8 trailing bytes"},
        {"duplicate",
         R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
         R"("x":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
         four, "lists 'x' twice"},
        {"entry_not_object", R"({"x":[1,2,3]})", "", "must be an object"},
        {"meta_not_string",
         R"({"__metadata__":{"step":12},"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
         four, "__metadata__ value for 'step' must be a string"},
        {"meta_not_object",
         R"({"__metadata__":"v","x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", four,
         "__metadata__ must be an object"},
    };
    for (const Case& c : cases) {
      const std::string name = fmt::format("{}.safetensors", c.file);
      INFO(name);
      write_raw(tmp.file(name), st_bytes(c.header, c.data));
      CHECK_THROWS_WITH(load_safetensors(tmp.file(name)), Contains(name) && Contains(c.why));
    }
  }

  SECTION("missing file and directory") {
    CHECK_THROWS_WITH(load_safetensors(tmp.file("absent.safetensors")),
                      Contains("absent.safetensors") && Contains("cannot open"));
    fs::create_directory(tmp.dir / "dir.safetensors");
    CHECK_THROWS_WITH(load_safetensors(tmp.file("dir.safetensors")),
                      Contains("dir.safetensors") && Contains("not a regular file"));
  }
}

TEST_CASE("save_safetensors refuses bad input and leaves the destination alone", "[io]") {
  TempDir tmp;
  const std::string path = tmp.file("ckpt.safetensors");
  const Tensor x = Tensor::from_vector(std::vector<float>{1, 2}, {2});
  save_safetensors(path, {{"x", x}});
  const std::string before = read_file(path);

  CHECK_THROWS_WITH(save_safetensors(path, {{"x", x}, {"y", Tensor()}}),
                    Contains("ckpt.safetensors") && Contains("'y' is undefined"));
  CHECK_THROWS_WITH(save_safetensors(path, {{"__metadata__", x}}),
                    Contains("ckpt.safetensors") && Contains("reserved"));
  CHECK_THROWS_WITH(save_safetensors(path, {{"bad\xff", x}}),
                    Contains("ckpt.safetensors") && Contains("not valid UTF-8"));
  CHECK_THROWS_WITH(save_safetensors(path, {{"x", x}}, {{"k", "\xc3"}}),
                    Contains("ckpt.safetensors") && Contains("not valid UTF-8"));
  CHECK_THROWS_WITH(save_safetensors(tmp.file("no/such/dir/ckpt.safetensors"), {{"x", x}}),
                    Contains("no/such/dir/ckpt.safetensors"));
  CHECK(read_file(path) == before);
  CHECK(temp_leftovers(tmp.dir).empty());
}

// ------------------------------------------------------------------------------------------------
// npy

namespace {

std::string npy_bytes(const std::string& dict, const std::string& data, int version = 1) {
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(version);
  out += '\0';
  const int len_bytes = version == 1 ? 2 : 4;
  for (int i = 0; i < len_bytes; ++i) out += static_cast<char>((dict.size() >> (8 * i)) & 0xff);
  return out + dict + data;
}

}  // namespace

TEST_CASE("npy round trip for every supported dtype and rank", "[io]") {
  TempDir tmp;
  const std::vector<Tensor> cases{
      Tensor::from_vector(std::vector<float>{1.5f, -2, 3, kInf, -0.0f, 6}, {2, 3}),
      Tensor::from_vector(std::vector<double>{3.25}, {}),
      Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5}, {5}),
      Tensor::zeros({0, 3}, DType::F64),
      Tensor::from_vector(std::vector<double>{0.1, 1e-300, -7}, {1, 3, 1}),
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Tensor& t = cases[i];
    INFO(t.str());
    const std::string path = tmp.file(fmt::format("a{}.npy", i));
    save_npy(path, t);
    const std::string bytes = read_file(path);
    CHECK((bytes.size() - t.nbytes()) % 64 == 0);  // data starts on a 64-byte boundary
    const Tensor u = load_npy(path);
    CHECK(u.dtype() == t.dtype());
    CHECK(u.shape() == t.shape());
    CHECK(raw_bytes(u) == raw_bytes(t));
  }
  // BF16 is widened to '<f4'.
  save_npy(tmp.file("bf16.npy"),
           Tensor::from_vector(std::vector<float>{1.0f, -0.5f}, {2}, DType::BF16));
  const Tensor w = load_npy(tmp.file("bf16.npy"));
  CHECK(w.dtype() == DType::F32);
  CHECK(w.to_vector() == std::vector<double>{1.0, -0.5});
  // Non-contiguous input is written in logical order.
  Tensor m = Tensor::from_vector(std::vector<float>{0, 1, 2, 3, 4, 5}, {2, 3});
  save_npy(tmp.file("perm.npy"), m.permute({1, 0}));
  CHECK(load_npy(tmp.file("perm.npy")).to_vector() == std::vector<double>{0, 3, 1, 4, 2, 5});
  // uint8 comes back as float values.
  save_npy_u8(tmp.file("u8.npy"), {0, 7, 128, 255}, {2, 2});
  const Tensor u8 = load_npy(tmp.file("u8.npy"));
  CHECK(u8.dtype() == DType::F32);
  CHECK(u8.shape() == Shape{2, 2});
  CHECK(u8.to_vector() == std::vector<double>{0, 7, 128, 255});
  CHECK_THROWS_WITH(save_npy_u8(tmp.file("bad.npy"), {1, 2, 3}, {2, 2}),
                    Contains("bad.npy") && Contains("do not fill shape [2, 2]"));
  CHECK_FALSE(fs::exists(tmp.file("bad.npy")));
  CHECK(temp_leftovers(tmp.dir).empty());
}

TEST_CASE("npy files written by numpy load with the right values", "[io]") {
  const Tensor a = load_npy(golden("np_f4_2d.npy"));
  CHECK(a.dtype() == DType::F32);
  CHECK(a.shape() == Shape{2, 3});
  CHECK(a.to_vector() == std::vector<double>{-2.5, -1.5, -0.5, 0.5, 1.5, 2.5});
  const Tensor s = load_npy(golden("np_f8_scalar.npy"));
  CHECK(s.dtype() == DType::F64);
  CHECK(s.shape() == Shape{});
  CHECK(s.item() == 3.25);
  const Tensor v = load_npy(golden("np_f4_1d.npy"));
  CHECK(v.shape() == Shape{4});
  CHECK(v.to_vector() == std::vector<double>{0.25, 0.5, 0.75, 1.0});
  const Tensor u = load_npy(golden("np_u1.npy"));
  CHECK(u.shape() == Shape{2, 2});
  CHECK(u.to_vector() == std::vector<double>{0, 1, 128, 255});
  const Tensor f = load_npy(golden("np_f8_fortran.npy"));
  CHECK(f.shape() == Shape{2, 3});
  CHECK(f.is_contiguous());
  CHECK(f.to_vector() == std::vector<double>{0, 1, 2, 3, 4, 5});
  const Tensor v2 = load_npy(golden("np_f4_v2.npy"));
  CHECK(v2.to_vector() == std::vector<double>{1.5, -1.5, 8.0});
  const Tensor e = load_npy(golden("np_f4_empty.npy"));
  CHECK(e.shape() == Shape{0, 3});
  CHECK(e.numel() == 0);

  CHECK_THROWS_WITH(load_npy(golden("np_f4_big_endian.npy")),
                    Contains("np_f4_big_endian.npy") && Contains("big-endian") &&
                        Contains("'>f4'"));
  CHECK_THROWS_WITH(load_npy(golden("np_i8.npy")),
                    Contains("np_i8.npy") && Contains("unsupported .npy dtype '<i8'"));
}

TEST_CASE("corrupt npy files fail with the file name and the problem", "[io]") {
  TempDir tmp;
  const std::string good = tmp.file("good.npy");
  save_npy(good, Tensor::from_vector(std::vector<float>{1, 2, 3, 4}, {2, 2}));
  const std::string bytes = read_file(good);
  const size_t data_start = bytes.size() - 16;

  SECTION("truncated at several points") {
    const std::vector<std::pair<size_t, std::string>> cuts{
        {0, "bad magic"},         {3, "truncated .npy file"},
        {9, "truncated .npy file"}, {30, "truncated .npy header"},
        {data_start - 1, "truncated .npy header"}, {data_start, "truncated .npy data"},
        {bytes.size() - 1, "truncated .npy data"}};
    for (const auto& [cut, why] : cuts) {
      const std::string name = fmt::format("cut_at_{}.npy", cut);
      INFO(name);
      write_raw(tmp.file(name), bytes.substr(0, cut));
      CHECK_THROWS_WITH(load_npy(tmp.file(name)), Contains(name) && Contains(why));
    }
  }

  SECTION("bad headers and sizes") {
    const std::string d16 = f32_bytes({1, 2, 3, 4});
    struct Case {
      const char* file;
      std::string bytes;
      const char* why;
    };
    const std::string ok_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n";
    const std::vector<Case> cases{
        {"magic", "PK\x03\x04 not numpy at all", "bad magic"},
        {"version", npy_bytes(ok_dict, d16, 9), "unsupported .npy format version 9"},
        {"huge_header", npy_bytes(ok_dict, d16, 2).replace(8, 4, "\x00\x00\x00\x40", 4),
         "too large"},
        {"header_past_end", npy_bytes(ok_dict, "").replace(8, 2, "\xff\x7f", 2),
         "truncated .npy header"},
        {"extra_data", npy_bytes(ok_dict, d16 + "xx"), "2 unexpected bytes"},
        {"short_data", npy_bytes(ok_dict, d16.substr(0, 12)), "needs 16 bytes, file has 12"},
        {"i8", npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", d16),
         "unsupported .npy dtype '<i8'"},
        {"f8_be", npy_bytes("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", d16),
         "big-endian"},
        {"structured",
         npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }", d16),
         "structured arrays"},
        {"neg_shape", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -2), }",
                                d16),
         "non-negative integer"},
        {"int_shape", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4), }", d16),
         "(n,)"},
        {"no_shape", npy_bytes("{'descr': '<f4', 'fortran_order': False}", d16),
         "missing 'shape'"},
        {"bad_bool", npy_bytes("{'descr': '<f4', 'fortran_order': maybe, 'shape': (4,)}", d16),
         "expected True or False"},
        {"extra_key",
         npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}", d16),
         "unexpected key 'x'"},
        {"dup_key",
         npy_bytes("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (4,)}", d16),
         "duplicate key 'descr'"},
        {"unclosed", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,)", d16),
         "expected '}'"},
        {"overflow",
         npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
                   d16),
         "too large"},
    };
    for (const Case& c : cases) {
      const std::string name = fmt::format("{}.npy", c.file);
      INFO(name);
      write_raw(tmp.file(name), c.bytes);
      CHECK_THROWS_WITH(load_npy(tmp.file(name)), Contains(name) && Contains(c.why));
    }
    // Python 2 era long suffixes and double quotes are still accepted.
    write_raw(tmp.file("py2.npy"),
              npy_bytes(R"({"descr": "<f4", "fortran_order": False, "shape": (2L, 2L)})", d16));
    CHECK(load_npy(tmp.file("py2.npy")).shape() == Shape{2, 2});
    CHECK_THROWS_WITH(load_npy(tmp.file("absent.npy")),
                      Contains("absent.npy") && Contains("cannot open"));
  }
}

// ------------------------------------------------------------------------------------------------
// atomic files

TEST_CASE("atomic writes never leave partial or temporary files", "[io]") {
  TempDir tmp;
  const std::string good = tmp.file("good.bin");
  write_file_atomic(good, "first version");
  CHECK(read_file(good) == "first version");

  // A destination whose directory does not exist fails cleanly and touches nothing.
  const std::string nowhere = tmp.file("missing_dir/out.bin");
  CHECK_THROWS_WITH(write_file_atomic(nowhere, "data"),
                    Contains("missing_dir/out.bin") && Contains("does the directory exist"));
  CHECK_FALSE(fs::exists(tmp.dir / "missing_dir"));
  CHECK(read_file(good) == "first version");

  // Renaming over a directory fails; the directory survives and the temporary file is removed.
  fs::create_directory(tmp.dir / "a_dir");
  CHECK_THROWS_WITH(write_file_atomic(tmp.file("a_dir"), "data"), Contains("a_dir"));
  CHECK(fs::is_directory(tmp.dir / "a_dir"));
  CHECK(temp_leftovers(tmp.dir).empty());

  write_file_atomic(good, "second, longer version");
  CHECK(read_file(good) == "second, longer version");
  write_file_atomic(good, "");
  CHECK(read_file(good).empty());
  write_file_atomic_parts(good, {"ab", "", std::string_view("c\0d", 3)});
  CHECK(read_file(good) == std::string("abc\0d", 5));
  CHECK(temp_leftovers(tmp.dir).empty());

  // Concurrent writers to one path: the result is one complete version, nothing is left over.
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w)
    writers.emplace_back([&good, w] {
      const std::string content(1000, static_cast<char>('a' + w));
      for (int i = 0; i < 25; ++i) write_file_atomic(good, content);
    });
  for (auto& t : writers) t.join();
  const std::string last = read_file(good);
  REQUIRE(last.size() == 1000);
  CHECK(last == std::string(1000, last[0]));
  CHECK(temp_leftovers(tmp.dir).empty());

  CHECK_THROWS_WITH(read_file(tmp.file("absent.bin")),
                    Contains("absent.bin") && Contains("cannot open"));
  CHECK_THROWS_WITH(read_file(tmp.file("a_dir")), Contains("a_dir") && Contains("directory"));
}
