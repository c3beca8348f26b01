// s2dm-fuzz-seeds OUT_DIR [FASHION_MNIST_DIR]: writes the seed corpus of every fuzz target into
// OUT_DIR/<target>/, made by the engine's own writers (and zlib) rather than downloaded, so the
// seeds are valid files of exactly the layouts s2dm reads. Each seed is small: libFuzzer's default
// maximum input length is the largest seed's size, and short inputs run fast.
//
// Fashion-MNIST seeds are the first images of Debian's dataset-fashion-mnist, cut to a few images
// with the header's count rewritten to match; without that package they are fabricated.
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "diffusion/train/train_config.h"
#include "engine/data/mnist.h"
#include "engine/error.h"
#include "engine/io/image.h"
#include "engine/io/npy.h"
#include "engine/io/npz.h"
#include "engine/io/safetensors.h"
#include "engine/tensor.h"
#include "models/unet_config.h"

namespace fs = std::filesystem;
using namespace s2dm;

namespace {

void write_raw(const fs::path& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  S2DM_CHECK(f.good(), "cannot write seed {}", path.string());
}

std::string read_raw(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  S2DM_CHECK(f.good(), "cannot read {}", path.string());
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void write_gzip(const fs::path& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb9");
  S2DM_CHECK(f != nullptr, "cannot write seed {}", path.string());
  const int n = gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  S2DM_CHECK(gzclose(f) == Z_OK && n == static_cast<int>(bytes.size()), "cannot write seed {}",
             path.string());
}

// Deterministic values that are not all alike, so converted dtypes keep distinct bits.
Tensor ramp(const Shape& shape, DType dtype, double scale) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = scale * (static_cast<double>(i) - 1.5);
  return Tensor::from_vector(v, shape, dtype);
}

void put_le(std::string& s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xffu);
}

// --------------------------------------------------------------------------------------------

void safetensors_seeds(const fs::path& dir) {
  const std::map<std::string, Tensor> mixed = {{"a", ramp({2, 3}, DType::F32, 0.25)},
                                               {"b", ramp({4}, DType::F64, -1.0)},
                                               {"c", ramp({2, 2}, DType::BF16, 3.0)}};
  save_safetensors((dir / "mixed.safetensors").string(), mixed, {{"format", "pt"}});
  save_safetensors((dir / "f16.safetensors").string(), mixed, {},
                   SafetensorsStore::F16);
  // What a checkpoint looks like: UNet parameter names and the run's settings in the metadata.
  const std::map<std::string, Tensor> ckpt = {
      {"model.temb.dense.0.weight", ramp({4, 2}, DType::F32, 0.01)},
      {"model.conv_in.bias", ramp({2}, DType::F32, 0.5)},
      {"ema.conv_in.bias", ramp({2}, DType::F32, 0.5)},
      {"optim.step", ramp({}, DType::F64, 1.0)},
      {"empty", Tensor::empty({0, 3}, DType::F32)}};
  save_safetensors((dir / "checkpoint.safetensors").string(), ckpt,
                   {{"config", TrainConfig().to_json().dump()}, {"step", "1"}});
}

void npy_seeds(const fs::path& dir) {
  save_npy((dir / "f32.npy").string(), ramp({2, 3}, DType::F32, 0.5));
  save_npy((dir / "f64_scalar.npy").string(), ramp({}, DType::F64, 2.0));
  save_npy((dir / "f32_empty.npy").string(), Tensor::empty({0, 4}, DType::F32));
  save_npy_u8((dir / "u8.npy").string(), {0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255},
              {2, 2, 3});
  // Fortran order: the same header with the flag set (padded to keep the header length).
  std::string fortran = read_raw(dir / "f32.npy");
  const size_t at = fortran.find("False");
  fortran.replace(at, 5, "True ");
  write_raw(dir / "f32_fortran.npy", fortran);
  // Format version 2.0: a 4-byte header length.
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  dict.append((64 - (12 + dict.size() + 1) % 64) % 64, ' ');
  dict += '\n';
  std::string v2 = std::string("\x93NUMPY\x02\x00", 8);
  put_le(v2, dict.size(), 4);
  v2 += dict;
  put_le(v2, 0x3f800000u, 4);  // 1.0f
  put_le(v2, 0x40000000u, 4);  // 2.0f
  write_raw(dir / "v2.npy", v2);
}

// An archive with one deflated member, as np.savez_compressed writes it (save_npz only stores).
std::string deflated_npz(const std::string& name, const std::string& npy) {
  z_stream zs{};
  S2DM_CHECK(deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK,
             "zlib deflateInit2 failed");
  std::string packed(deflateBound(&zs, static_cast<uLong>(npy.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(npy.data()));
  zs.avail_in = static_cast<uInt>(npy.size());
  zs.next_out = reinterpret_cast<Bytef*>(packed.data());
  zs.avail_out = static_cast<uInt>(packed.size());
  S2DM_CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END, "zlib deflate failed");
  packed.resize(zs.total_out);
  deflateEnd(&zs);
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(npy.data()), static_cast<uInt>(npy.size())));

  std::string local;
  put_le(local, 0x04034b50u, 4);
  put_le(local, 20, 2);  // version needed
  put_le(local, 0, 2);   // flags
  put_le(local, 8, 2);   // deflate
  put_le(local, 0, 2);
  put_le(local, 0x21, 2);  // 1980-01-01
  put_le(local, crc, 4);
  put_le(local, packed.size(), 4);
  put_le(local, npy.size(), 4);
  put_le(local, name.size(), 2);
  put_le(local, 0, 2);
  local += name;

  std::string central;
  put_le(central, 0x02014b50u, 4);
  put_le(central, 20, 2);  // made by
  put_le(central, 20, 2);  // needed
  put_le(central, 0, 2);
  put_le(central, 8, 2);
  put_le(central, 0, 2);
  put_le(central, 0x21, 2);
  put_le(central, crc, 4);
  put_le(central, packed.size(), 4);
  put_le(central, npy.size(), 4);
  put_le(central, name.size(), 2);
  put_le(central, 0, 2);  // extra
  put_le(central, 0, 2);  // comment
  put_le(central, 0, 2);  // disk
  put_le(central, 0, 2);  // internal attributes
  put_le(central, 0, 4);  // external attributes
  put_le(central, 0, 4);  // local header offset
  central += name;

  std::string out = local + packed;
  const size_t cd_offset = out.size();
  out += central;
  put_le(out, 0x06054b50u, 4);
  put_le(out, 0, 2);
  put_le(out, 0, 2);
  put_le(out, 1, 2);
  put_le(out, 1, 2);
  put_le(out, central.size(), 4);
  put_le(out, cd_offset, 4);
  put_le(out, 0, 2);
  return out;
}

void npz_seeds(const fs::path& dir) {
  std::vector<uint8_t> images(2 * 4 * 4);
  for (size_t i = 0; i < images.size(); ++i) images[i] = static_cast<uint8_t>(i * 8);
  save_npz_u8((dir / "samples_u8.npz").string(), images, {2, 4, 4, 1});
  save_npz((dir / "tensors.npz").string(),
           std::vector<std::pair<std::string, Tensor>>{{"x", ramp({3}, DType::F32, 1.0)},
                                                       {"y", ramp({2, 2}, DType::F64, 0.5)}});
  const std::string f4("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);  // 1.0f, 2.0f
  detail::save_npz((dir / "zip64.npz").string(),
                   {NpzEntry{"arr_0", "<f4", {2}, std::string_view(f4.data(), 8)}}, true);
  write_raw(dir / "deflated.npz",
            deflated_npz("arr_0.npy", npy_header("|u1", {2, 4, 4, 1}) +
                                          std::string(reinterpret_cast<const char*>(images.data()),
                                                      images.size())));
}

// IDX header (magic, then big-endian dimensions) with the count rewritten to `count`.
std::string cut_idx(const std::string& whole, size_t header, uint32_t count, size_t per_item) {
  S2DM_CHECK(whole.size() >= header + count * per_item, "IDX file too short for {} items", count);
  std::string out = whole.substr(0, header + count * per_item);
  for (size_t i = 0; i < 4; ++i) out[4 + i] = static_cast<char>(count >> (24 - 8 * i));
  return out;
}

void idx_seeds(const fs::path& dir, const fs::path& fmnist) {
  constexpr uint32_t kImages = 3;
  std::string images, labels;
  const fs::path img = fmnist / "t10k-images-idx3-ubyte.gz";
  const fs::path lab = fmnist / "t10k-labels-idx1-ubyte.gz";
  if (fs::is_regular_file(img) && fs::is_regular_file(lab)) {
    images = cut_idx(read_maybe_gzip(img.string()), 16, kImages, 28 * 28);
    labels = cut_idx(read_maybe_gzip(lab.string()), 8, kImages, 1);
  } else {
    std::fprintf(stderr, "s2dm-fuzz-seeds: no Fashion-MNIST in %s; fabricating IDX seeds\n",
                 fmnist.c_str());
    images = std::string("\x00\x00\x08\x03", 4);
    for (uint32_t v : {kImages, 28u, 28u})
      for (int i = 0; i < 4; ++i) images += static_cast<char>(v >> (24 - 8 * i));
    for (uint32_t p = 0; p < kImages * 28 * 28; ++p) images += static_cast<char>(p * 7);
    labels = std::string("\x00\x00\x08\x01\x00\x00\x00\x03\x09\x02\x01", 11);
  }
  write_raw(dir / "images-idx3-ubyte", images);
  write_gzip(dir / "images-idx3-ubyte.gz", images);
  write_raw(dir / "labels-idx1-ubyte", labels);
  write_gzip(dir / "labels-idx1-ubyte.gz", labels);
}

void cifar10_seeds(const fs::path& dir) {
  std::string batch;
  for (int r = 0; r < 2; ++r) {
    batch += static_cast<char>(r == 0 ? 3 : 7);  // label
    for (int p = 0; p < 3 * 32 * 32; ++p) batch += static_cast<char>((p * (r + 3)) & 0xff);
  }
  write_raw(dir / "two_records.bin", batch);
}

ImageU8 pattern(int64_t h, int64_t w, int64_t c) {
  ImageU8 img;
  img.height = h;
  img.width = w;
  img.channels = c;
  img.pixels.resize(static_cast<size_t>(h * w * c));
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>(i * 37);
  return img;
}

void image_seeds(const fs::path& dir) {
  save_image_grid((dir / "grid_rgb.png").string(), ramp({2, 3, 8, 8}, DType::F32, 0.01), 2);
  write_png((dir / "gray.png").string(), pattern(8, 8, 1));
  write_png((dir / "gray_alpha.png").string(), pattern(4, 5, 2));
  write_png((dir / "rgba.png").string(), pattern(4, 4, 4));
  write_jpeg((dir / "rgb.jpg").string(), pattern(16, 16, 3), 90);
  write_jpeg((dir / "gray.jpg").string(), pattern(8, 8, 1), 75);
}

void train_config_seeds(const fs::path& dir) {
  const TrainConfig defaults;
  write_raw(dir / "default.json", defaults.to_json().dump(2));
  write_raw(dir / "default_compact.json", defaults.to_json().dump());
  TrainConfig cifar;
  cifar.preset = "cifar10";
  cifar.model = unet_preset("cifar10");
  cifar.data.kind = "cifar10";
  cifar.data.path = "/data/cifar-10-batches-bin";
  cifar.data.random_flip = true;
  cifar.device = "cuda:0";
  cifar.batch = 128;
  write_raw(dir / "cifar10.json", cifar.to_json().dump(1));
  TrainConfig folder;
  folder.preset = "celeba";
  folder.model = unet_preset("celeba");
  folder.data.kind = "folder";
  folder.data.path = "/data/celeba";
  folder.data.crop_size = 128;
  folder.data.crop_top = 57;
  folder.data.crop_left = 25;
  folder.loss.tau = 1.0;
  folder.loss.same_noise = true;
  folder.dtype = "float64";
  folder.sample_sampler = "ddim";
  write_raw(dir / "folder.json", folder.to_json().dump());
  // Partial files: what people write by hand.
  write_raw(dir / "steps.json", R"({"preset": "fmnist", "steps": 10, "loss": {"tau": 0.5}})");
  write_raw(dir / "model_only.json", unet_preset("fmnist-small").to_json().dump());
  write_raw(dir / "empty.json", "{}");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR [FASHION_MNIST_DIR]\n", argv[0]);
    return 2;
  }
  const fs::path out = argv[1];
  const fs::path fmnist = argc > 2 ? argv[2] : "/usr/share/datasets/fashion-mnist";
  try {
    const std::vector<std::pair<const char*, void (*)(const fs::path&)>> plain = {
        {"fuzz_safetensors", safetensors_seeds}, {"fuzz_npy", npy_seeds},
        {"fuzz_npz", npz_seeds},                 {"fuzz_cifar10", cifar10_seeds},
        {"fuzz_image", image_seeds},             {"fuzz_train_config", train_config_seeds}};
    for (const auto& [name, make] : plain) {
      fs::create_directories(out / name);
      make(out / name);
    }
    fs::create_directories(out / "fuzz_idx");
    idx_seeds(out / "fuzz_idx", fmnist);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "s2dm-fuzz-seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
