// Image-folder dataset: file discovery, per-image decode/crop/resize, optional parallel preload.
#include "engine/data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <limits>

#include "engine/error.h"

namespace s2dm {

namespace fs = std::filesystem;

namespace {

bool is_image_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

bool is_hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

// Sorted by relative path so indices are the same on every file system.
std::vector<std::string> list_images(const std::string& dir, bool recursive) {
  S2DM_CHECK(fs::is_directory(dir), "image folder {} does not exist or is not a directory", dir);
  std::vector<std::pair<std::string, std::string>> found;  // (relative, full)
  bool has_subdirs = false;
  auto consider = [&](const fs::directory_entry& e) {
    if (e.is_regular_file() && !is_hidden(e.path()) && is_image_name(e.path()))
      found.emplace_back(fs::relative(e.path(), dir).generic_string(), e.path().string());
  };
  if (recursive) {
    for (auto it =
             fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink);
         it != fs::recursive_directory_iterator(); ++it) {
      if (it->is_directory() && is_hidden(it->path())) {
        it.disable_recursion_pending();
        continue;
      }
      consider(*it);
    }
  } else {
    for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
      has_subdirs = has_subdirs || (e.is_directory() && !is_hidden(e.path()));
      consider(e);
    }
  }
  S2DM_CHECK(!found.empty(), "image folder {} contains no .png, .jpg or .jpeg files{}", dir,
             has_subdirs ? " (it has subfolders: enable recursive search to include them)" : "");
  std::sort(found.begin(), found.end());
  std::vector<std::string> files;
  files.reserve(found.size());
  for (auto& f : found) files.push_back(std::move(f.second));
  return files;
}

// H x W x C bytes to C x H x W floats.
void hwc_to_chw_unit(const ImageU8& img, float* out) {
  const int64_t hw = img.height * img.width;
  for (int64_t c = 0; c < img.channels; ++c)
    for (int64_t p = 0; p < hw; ++p)
      out[c * hw + p] = u8_to_unit(img.pixels[static_cast<size_t>(p * img.channels + c)]);
}

}  // namespace

ImageFolderDataset::ImageFolderDataset(ImageFolderOptions options) : options_(std::move(options)) {
  const ImageFolderOptions& o = options_;
  S2DM_CHECK(o.crop_size >= 0 && o.resolution >= 0 && o.crop_top >= -1 && o.crop_left >= -1,
             "image folder {}: crop_size and resolution must be >= 0 and crop offsets >= -1 (got "
             "crop {} at ({}, {}), resolution {})",
             o.dir, o.crop_size, o.crop_top, o.crop_left, o.resolution);
  files_ = list_images(o.dir, o.recursive);
  channels_ = o.grayscale ? 1 : 3;
  // The first image fixes the size when the options do not; load() checks every later one.
  const ImageU8 first = load(0);
  height_ = first.height;
  width_ = first.width;
  if (!o.preload) return;

  const int64_t n = size(), per_image = image_numel();
  S2DM_CHECK(n <= std::numeric_limits<int64_t>::max() / per_image,
             "image folder {}: too many images to preload", o.dir);
  pixels_.resize(static_cast<size_t>(n * per_image));
  // Exceptions cannot leave an OpenMP region: keep the lowest-index failure and rethrow it.
  int64_t bad = n;
  std::string message;
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < n; ++i) {
    try {
      const ImageU8 img = load(i);
      const int64_t hw = img.height * img.width;
      uint8_t* dst = pixels_.data() + i * per_image;
      for (int64_t c = 0; c < img.channels; ++c)
        for (int64_t p = 0; p < hw; ++p)
          dst[c * hw + p] = img.pixels[static_cast<size_t>(p * img.channels + c)];
    } catch (const std::exception& e) {
#pragma omp critical(s2dm_image_folder_error)
      if (i < bad) {
        bad = i;
        message = e.what();
      }
    }
  }
  if (bad < n) throw Error(message);
}

ImageU8 ImageFolderDataset::load(int64_t index) const {
  S2DM_CHECK(index >= 0 && index < size(),
             "image index {} is out of range for image folder {} "
             "({} images)",
             index, options_.dir, size());
  const std::string& path = files_[static_cast<size_t>(index)];
  const ImageFolderOptions& o = options_;
  ImageU8 img = read_image(path, static_cast<int>(channels_));
  if (o.crop_size > 0) {
    const int64_t top = o.crop_top >= 0 ? o.crop_top : (img.height - o.crop_size) / 2;
    const int64_t left = o.crop_left >= 0 ? o.crop_left : (img.width - o.crop_size) / 2;
    S2DM_CHECK(
        top >= 0 && left >= 0 && top + o.crop_size <= img.height && left + o.crop_size <= img.width,
        "{} is {}x{} (HxW): a {}x{} crop at (top {}, left {}) does not fit; lower "
        "crop_size or change the crop offsets",
        path, img.height, img.width, o.crop_size, o.crop_size, top, left);
    img = crop_square(img, o.crop_size, top, left);
  }
  if (o.resolution > 0 && (img.height != o.resolution || img.width != o.resolution)) {
    S2DM_CHECK(img.height == img.width,
               "{} is {}x{} (HxW){}: resizing to {}x{} needs a square image; set crop_size", path,
               img.height, img.width, o.crop_size > 0 ? " after cropping" : "", o.resolution,
               o.resolution);
    img = resize(img, o.resolution, o.resolution);
  }
  S2DM_CHECK(height_ == 0 || (img.height == height_ && img.width == width_),
             "{} is {}x{} (HxW) but the images of {} are {}x{}; set resolution (and crop_size) "
             "so all images come out the same size",
             path, img.height, img.width, o.dir, height_, width_);
  return img;
}

void ImageFolderDataset::get(int64_t index, float* out) const {
  check_index(index);
  if (options_.preload) {
    const int64_t n = image_numel();
    const uint8_t* src = pixels_.data() + index * n;
    for (int64_t i = 0; i < n; ++i) out[i] = u8_to_unit(src[i]);
    return;
  }
  hwc_to_chw_unit(load(index), out);
}

std::string ImageFolderDataset::describe() const {
  return fmt::format("image folder {}: {} images of {}x{}x{}", options_.dir, size(), channels_,
                     height_, width_);
}

}  // namespace s2dm
