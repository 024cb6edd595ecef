#include "reports/overlay.h"

#include <algorithm>

#include <cstdlib>
#include <filesystem>

#include <dlfcn.h>

#include "common/error.h"
#include "common/locate.h"

namespace glamm::reports {

using nlohmann::json;

std::vector<mask::Rle> rles_from_json(const json& list, const std::string& file, const std::string& where) {
  std::vector<mask::Rle> out;
  if (!list.is_array()) throw InputError(file, where, "is not a list of RLE masks");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string w = where + "[" + std::to_string(i) + "]";
    const json& m = list[i];
    try {
      const auto size = m.at("size").get<std::vector<uint32_t>>();
      if (size.size() != 2) throw InputError(file, w, "size must be [height, width]");
      const json& c = m.at("counts");
      if (c.is_string()) {
        out.push_back(mask::from_string(c.get<std::string>(), size[0], size[1]));
      } else {
        mask::Rle r;
        r.h = size[0];
        r.w = size[1];
        r.counts = c.get<std::vector<uint32_t>>();
        out.push_back(std::move(r));
      }
    } catch (const json::exception& e) {
      throw InputError(file, w, std::string("not a COCO RLE: ") + e.what());
    } catch (const mask::RleError& e) {
      throw InputError(file, w, e.what());
    }
  }
  return out;
}

namespace {

using OverlayFn = int (*)(const char* image_path, const mask::Rle* gt, std::size_t n_gt, const mask::Rle* pred,
                          std::size_t n_pred, int max_side, std::string* out, std::string* error);

/// The OpenCV drawing lives in a plugin (libglamm_overlay.so, reports/opencv/) loaded on first use, so that every
/// other glamm-eval command starts without OpenCV's ~130 shared libraries.
OverlayFn overlay_plugin() {
  static OverlayFn fn = [] {
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

std::string overlay_jpeg(const std::string& image_path, const std::vector<mask::Rle>& gt,
                         const std::vector<mask::Rle>& pred, int max_side) {
  std::string out, error;
  if (overlay_plugin()(image_path.c_str(), gt.data(), gt.size(), pred.data(), pred.size(), max_side, &out, &error) != 0)
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
