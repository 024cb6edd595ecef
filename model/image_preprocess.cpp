// CLIP and SAM input tensors from an 8-bit RGB image (see image_preprocess.h).
#include "model/image_preprocess.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <system_error>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/io.h"

namespace glamm::model {
namespace {

void check_image(const ImageU8& image, const char* what) {
  if (image.height < 1 || image.width < 1 ||
      image.rgb.size() != static_cast<std::size_t>(image.height) * image.width * 3)
    throw InputError("", what,
                     "image must be non-empty RGB (got " + std::to_string(image.height) + "x" +
                         std::to_string(image.width) + " with " + std::to_string(image.rgb.size()) + " bytes)");
}

bool get_bool(const nlohmann::json& j, const char* key, bool fallback, const std::string& file) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_boolean()) throw InputError(file, key, "expected true or false");
  return j[key].get<bool>();
}

int positive_int(const nlohmann::json& v, const std::string& file, const std::string& field) {
  if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 1 << 20)
    throw InputError(file, field, "expected a positive integer, got " + v.dump());
  return static_cast<int>(v.get<int64_t>());
}

std::array<float, 3> three_floats(const nlohmann::json& v, const std::string& file, const char* field,
                                  bool positive) {
  if (!v.is_array() || v.size() != 3) throw InputError(file, field, "expected a list of 3 numbers");
  std::array<float, 3> out{};
  for (int c = 0; c < 3; ++c) {
    if (!v[c].is_number()) throw InputError(file, field, "expected a list of 3 numbers");
    // numpy: np.array(mean, dtype=float32) rounds the Python double to float32.
    out[c] = static_cast<float>(v[c].get<double>());
    if (positive && !(out[c] > 0.f)) throw InputError(file, field, "values must be positive");
  }
  return out;
}

}  // namespace

ClipPreprocessConfig load_clip_preprocess_config(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path file = path;
  if (std::filesystem::is_directory(path, ec)) {
    file = path / "preprocessor_config.json";
    if (!std::filesystem::exists(file, ec)) return ClipPreprocessConfig{};
  }
  const std::string name = file.string();
  const nlohmann::json j = io::load_json(file);
  if (!j.is_object()) throw InputError(name, "", "expected a JSON object");
  ClipPreprocessConfig c;
  c.source = name;
  c.do_resize = get_bool(j, "do_resize", c.do_resize, name);
  if (j.contains("size") && !j["size"].is_null()) {
    const auto& s = j["size"];
    if (s.is_object()) {
      if (!s.contains("shortest_edge"))
        throw InputError(name, "size", "only {\"shortest_edge\": n} (or an int) is supported by CLIP's processor");
      c.shortest_edge = positive_int(s["shortest_edge"], name, "size.shortest_edge");
    } else {
      c.shortest_edge = positive_int(s, name, "size");
    }
  }
  if (j.contains("resample") && !j["resample"].is_null()) {
    const auto& r = j["resample"];
    if (!r.is_number_integer() || (r.get<int>() != 2 && r.get<int>() != 3))
      throw InputError(name, "resample", "only 2 (BILINEAR) and 3 (BICUBIC) are supported, got " + r.dump());
    c.resample = r.get<int>() == 2 ? pil::Filter::kBilinear : pil::Filter::kBicubic;
  }
  c.do_center_crop = get_bool(j, "do_center_crop", c.do_center_crop, name);
  if (j.contains("crop_size") && !j["crop_size"].is_null()) {
    const auto& s = j["crop_size"];
    if (s.is_object()) {
      if (!s.contains("height") || !s.contains("width"))
        throw InputError(name, "crop_size", "expected {\"height\": h, \"width\": w} or an int");
      c.crop_height = positive_int(s["height"], name, "crop_size.height");
      c.crop_width = positive_int(s["width"], name, "crop_size.width");
    } else {
      c.crop_height = c.crop_width = positive_int(s, name, "crop_size");
    }
  }
  c.do_rescale = get_bool(j, "do_rescale", c.do_rescale, name);
  if (j.contains("rescale_factor") && !j["rescale_factor"].is_null()) {
    if (!j["rescale_factor"].is_number()) throw InputError(name, "rescale_factor", "expected a number");
    c.rescale_factor = j["rescale_factor"].get<double>();
  }
  c.do_normalize = get_bool(j, "do_normalize", c.do_normalize, name);
  if (j.contains("image_mean") && !j["image_mean"].is_null())
    c.image_mean = three_floats(j["image_mean"], name, "image_mean", false);
  if (j.contains("image_std") && !j["image_std"].is_null())
    c.image_std = three_floats(j["image_std"], name, "image_std", true);
  return c;
}

std::pair<int, int> clip_resize_hw(int height, int width, int edge) {
  const int short_side = std::min(height, width);
  const int long_side = std::max(height, width);
  if (short_side == edge) return {height, width};
  // Python: int(size * long / short) — an exact integer product, one float division, truncation.
  const double new_long_d = static_cast<double>(static_cast<int64_t>(edge) * long_side) / short_side;
  if (!(new_long_d < 2147483647.0))
    throw InputError("", "clip",
                     "image " + std::to_string(height) + "x" + std::to_string(width) +
                         " is too elongated: its long side would resize to " + std::to_string(new_long_d) + " px");
  const int new_long = static_cast<int>(new_long_d);
  return height <= width ? std::pair<int, int>{edge, new_long} : std::pair<int, int>{new_long, edge};
}

std::vector<float> clip_pixel_values(const ImageU8& image, const ClipPreprocessConfig& config) {
  check_image(image, "clip");
  int h = image.height, w = image.width;
  if (config.do_resize) {
    const auto [nh, nw] = clip_resize_hw(h, w, config.shortest_edge);
    h = nh;
    w = nw;
  }
  int top = 0, left = 0, oh = h, ow = w;
  if (config.do_center_crop) {
    if (config.crop_height > h || config.crop_width > w)
      throw InputError("", "clip",
                       "crop " + std::to_string(config.crop_height) + "x" + std::to_string(config.crop_width) +
                           " is larger than the resized image " + std::to_string(h) + "x" + std::to_string(w));
    top = (h - config.crop_height) / 2;  // non-negative here, so C division = Python floor division
    left = (w - config.crop_width) / 2;
    oh = config.crop_height;
    ow = config.crop_width;
  }
  // Resize then crop, computing only the cropped window (byte-identical to cropping the full resize).
  std::vector<uint8_t> window;
  const std::vector<uint8_t>* pix = &image.rgb;
  int pix_w = image.width;
  if (h != image.height || w != image.width) {
    window = pil::resize_window(image.rgb, image.height, image.width, 3, h, w, config.resample, top, left, oh, ow);
    pix = &window;
    pix_w = ow;
    top = left = 0;
  }
  // Per-byte lookup: the value chain depends only on (channel, byte).
  std::array<std::array<float, 256>, 3> lut{};
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) {
      float x = config.do_rescale ? static_cast<float>(v * config.rescale_factor) : static_cast<float>(v);
      if (config.do_normalize) {
        const float centred = x - config.image_mean[c];
        x = centred / config.image_std[c];
      }
      lut[c][v] = x;
    }
  }
  std::vector<float> out(static_cast<std::size_t>(3) * oh * ow);
  const std::size_t plane = static_cast<std::size_t>(oh) * ow;
  for (int y = 0; y < oh; ++y) {
    const uint8_t* row = pix->data() + (static_cast<std::size_t>(y + top) * pix_w + left) * 3;
    for (int x = 0; x < ow; ++x)
      for (int c = 0; c < 3; ++c) out[c * plane + static_cast<std::size_t>(y) * ow + x] = lut[c][row[x * 3 + c]];
  }
  return out;
}

std::pair<int, int> sam_resize_hw(int height, int width, int long_side) {
  const double scale = long_side * 1.0 / std::max(height, width);
  const double nh = height * scale;
  const double nw = width * scale;
  return {static_cast<int>(nh + 0.5), static_cast<int>(nw + 0.5)};
}

SamInput sam_preprocess(const ImageU8& image, int long_side) {
  check_image(image, "sam");
  if (long_side < 1) throw InputError("", "sam", "long side must be positive");
  const auto [nh, nw] = sam_resize_hw(image.height, image.width, long_side);
  if (nh < 1 || nw < 1)
    throw InputError("", "sam",
                     "image " + std::to_string(image.height) + "x" + std::to_string(image.width) +
                         " is too elongated: its short side resizes to 0 pixels");
  SamInput s;
  s.input_size = long_side;
  s.resized.height = nh;
  s.resized.width = nw;
  s.resized.rgb = pil::resize(image.rgb, image.height, image.width, 3, nh, nw, pil::Filter::kBilinear);
  std::array<std::array<float, 256>, 3> lut{};
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v) {
      const float centred = static_cast<float>(v) - kSamPixelMean[c];
      lut[c][v] = centred / kSamPixelStd[c];
    }
  const std::size_t plane = static_cast<std::size_t>(long_side) * long_side;
  s.pixels.assign(3 * plane, 0.0f);
  for (int y = 0; y < nh; ++y) {
    const uint8_t* row = s.resized.rgb.data() + static_cast<std::size_t>(y) * nw * 3;
    for (int x = 0; x < nw; ++x)
      for (int c = 0; c < 3; ++c)
        s.pixels[c * plane + static_cast<std::size_t>(y) * long_side + x] = lut[c][row[x * 3 + c]];
  }
  return s;
}

}  // namespace glamm::model
