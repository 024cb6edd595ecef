#include "reports/overlay.h"

#include <algorithm>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <dlfcn.h>

#include "common/error.h"
#include "common/locate.h"

namespace glamm::reports {

namespace {

using OverlayFn = int (*)(const char* image_path, const mask::Rle* gt, std::size_t n_gt, const mask::Rle* pred,
                          std::size_t n_pred, int max_side, std::string* out, std::string* error);

/// The OpenCV drawing lives in a plugin (libglamm_overlay.so, reports/opencv/) loaded on first use, so that every
/// other glamm-eval command starts without OpenCV's ~130 shared libraries. OpenCV reads its own decode limit
/// (OPENCV_IO_MAX_IMAGE_PIXELS) when it loads: `max_pixels` of the first call sets it unless the environment does.
OverlayFn overlay_plugin(uint64_t max_pixels) {
  static OverlayFn fn = [max_pixels] {
    ::setenv("OPENCV_IO_MAX_IMAGE_PIXELS", std::to_string(max_pixels).c_str(), 0);
    namespace fs = std::filesystem;
    std::error_code ec;
    std::vector<fs::path> candidates;
    if (fs::path lib = locate::find_plugin("libglamm_overlay.so", "GLAMM_OVERLAY_PLUGIN"); !lib.empty())
      candidates.push_back(lib);
    for (const auto& lib : candidates) {
      if (!fs::is_regular_file(lib, ec)) continue;
      void* h = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);  // never unloaded
      if (!h) throw InputError(lib.string(), "", std::string("cannot load the overlay plugin: ") + dlerror());
      auto f = reinterpret_cast<OverlayFn>(dlsym(h, "glamm_overlay_jpeg"));
      if (!f) throw InputError(lib.string(), "", "not a glamm overlay plugin (no glamm_overlay_jpeg)");
      return f;
    }
    throw InputError("libglamm_overlay.so", "",
                     "mask overlays need the OpenCV plugin next to glamm-eval (build target glamm_overlay; "
                     "scripts/setup.sh installs OpenCV) or GLAMM_OVERLAY_PLUGIN set to it");
  }();
  return fn;
}

}  // namespace

namespace {
uint32_t be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
uint32_t le32(const unsigned char* p) {
  return (uint32_t{p[3]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[1]} << 8) | uint32_t{p[0]};
}

std::string limit_message(uint64_t width, uint64_t height, uint64_t max_pixels, const char* what) {
  const uint64_t pixels = width * height;
  return std::string(what) + " of " + std::to_string(width) + " x " + std::to_string(height) + " = " +
         std::to_string(pixels) + " pixels is above the overlay limit of " + std::to_string(max_pixels) +
         " pixels (decoding it would take about " + std::to_string(pixels * 3 / 1000000) +
         " MB): not decoded; raise the limit with report --max-image-pixels N";
}
}  // namespace

bool image_header_size(const std::string& image_path, uint64_t& width, uint64_t& height) {
  std::ifstream in(image_path, std::ios::binary);
  if (!in) throw InputError(image_path, "", "cannot open the image file");
  unsigned char b[32] = {};
  in.read(reinterpret_cast<char*>(b), 26);
  const std::streamsize n = in.gcount();
  static const unsigned char kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (n >= 24 && std::equal(kPng, kPng + 8, b)) {
    if (std::string(reinterpret_cast<const char*>(b + 12), 4) != "IHDR") return false;
    width = be32(b + 16);
    height = be32(b + 20);
    return true;
  }
  if (n >= 26 && b[0] == 'B' && b[1] == 'M') {
    width = le32(b + 18);
    const int32_t h = static_cast<int32_t>(le32(b + 22));  // negative: rows stored top-down
    height = h < 0 ? uint64_t{0} - static_cast<uint64_t>(static_cast<int64_t>(h)) : static_cast<uint64_t>(h);
    return true;
  }
  if (n < 4 || b[0] != 0xFF || b[1] != 0xD8) return false;
  // JPEG: walk the marker segments after SOI up to the first frame header (SOF0..SOF15 but DHT C4, JPG C8, DAC CC).
  in.clear();
  in.seekg(2);
  for (;;) {
    int c = in.get();
    if (c != 0xFF) return false;
    while (c == 0xFF) c = in.get();  // fill bytes
    if (c == EOF) return false;
    if (c == 0x01 || (c >= 0xD0 && c <= 0xD8)) continue;  // TEM, RSTn, SOI: no length
    if (c == 0xD9 || c == 0xDA) return false;             // EOI / SOS before any frame header
    unsigned char len[2];
    if (!in.read(reinterpret_cast<char*>(len), 2)) return false;
    const int seg = (len[0] << 8) | len[1];
    if (seg < 2) return false;
    if (c >= 0xC0 && c <= 0xCF && c != 0xC4 && c != 0xC8 && c != 0xCC) {
      unsigned char f[5];
      if (seg < 7 || !in.read(reinterpret_cast<char*>(f), 5)) return false;
      height = (uint64_t{f[1]} << 8) | f[2];
      width = (uint64_t{f[3]} << 8) | f[4];
      return height != 0;  // 0: defined later by a DNL segment
    }
    in.seekg(seg - 2, std::ios::cur);
  }
}

std::string overlay_jpeg(const std::string& image_path, const std::vector<mask::Rle>& gt,
                         const std::vector<mask::Rle>& pred, int max_side, uint64_t max_pixels) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(image_path, ec)) throw InputError(image_path, "", "no such image file");
  uint64_t w = 0, h = 0;
  if (image_header_size(image_path, w, h) && w * h > max_pixels)
    throw InputError(image_path, "", limit_message(w, h, max_pixels, "image"));
  for (const auto* list : {&gt, &pred})
    for (const mask::Rle& r : *list)
      if (uint64_t{r.w} * r.h > max_pixels)
        throw InputError(image_path, "", limit_message(r.w, r.h, max_pixels, "a mask"));
  std::string out, error;
  if (overlay_plugin(max_pixels)(image_path.c_str(), gt.data(), gt.size(), pred.data(), pred.size(), max_side, &out,
                                 &error) != 0)
    throw InputError(image_path, "", error);
  return out;
}

std::string base64(const std::string& bytes) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? tbl[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace glamm::reports
