// GLaMM image pre-processing, torch-free: the CLIP processor input (transformers 4.29 CLIPImageProcessor on a
// uint8 RGB array) and the SAM grounding-encoder input (ResizeLongestSide(1024) + grounding_image_ecoder_preprocess
// of the official code). Spec glamm-model.md §4.1 and §4.2. Resizing is the Pillow-exact port in pil_resample.h.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "model/image.h"
#include "model/pil_resample.h"

namespace glamm::model {

/// CLIP processor settings (preprocessor_config.json). Defaults are openai/clip-vit-large-patch14-336's.
struct ClipPreprocessConfig {
  bool do_resize = true;
  int shortest_edge = 336;                      ///< "size" (int) or "size": {"shortest_edge": n}
  pil::Filter resample = pil::Filter::kBicubic;  ///< "resample": 3 = BICUBIC, 2 = BILINEAR (others rejected)
  bool do_center_crop = true;
  int crop_height = 336;                         ///< "crop_size" (int) or {"height": h, "width": w}
  int crop_width = 336;
  bool do_rescale = true;
  double rescale_factor = 1.0 / 255.0;           ///< applied in double, then cast to float32
  bool do_normalize = true;
  std::array<float, 3> image_mean = {0.48145466f, 0.4578275f, 0.40821073f};  ///< float32, as numpy casts them
  std::array<float, 3> image_std = {0.26862954f, 0.26130258f, 0.27577711f};
  std::string source;                            ///< the JSON file read, or "" for the defaults
};

/// Read `<clip_dir>/preprocessor_config.json` (or the JSON file itself when `path` is a file). A folder without
/// that file gives the defaults (source ""). Throws InputError naming the file for unreadable JSON, a field of the
/// wrong type, a non-positive size, a resample other than 2/3, or mean/std that are not 3 numbers (std > 0).
ClipPreprocessConfig load_clip_preprocess_config(const std::filesystem::path& path);

/// CLIP resize target (height, width) of an h × w image for shortest edge `edge`: the short side becomes `edge`,
/// the long side int(edge·long/short) (Python float, truncated); unchanged when the short side already equals
/// `edge` (transformers' get_resize_output_image_size with default_to_square=False). Throws InputError when the
/// long side would not fit in an int.
std::pair<int, int> clip_resize_hw(int height, int width, int edge);

/// CLIP `pixel_values` of one image: resize (clip_resize_hw, Pillow filter on uint8), centre crop
/// (top = (h − crop_h) // 2, left = (w − crop_w) // 2), rescale v·factor in double → float32, normalise
/// (x − mean) / std in float32, HWC → CHW. Only the cropped window of the resize is computed
/// (pil::resize_window), so elongated images cost no full-size intermediate. Returns 3·crop_h·crop_w floats
/// (channel-major; [1,3,336,336] with the defaults). Throws InputError for an empty image, a crop larger than the
/// (resized) image, or a resize target that does not fit in an int.
std::vector<float> clip_pixel_values(const ImageU8& image, const ClipPreprocessConfig& config = {});

/// SAM pixel mean / std (RGB, 0..255 scale), float32 as the reference's buffers.
constexpr std::array<float, 3> kSamPixelMean = {123.675f, 116.28f, 103.53f};
constexpr std::array<float, 3> kSamPixelStd = {58.395f, 57.12f, 57.375f};

/// ResizeLongestSide target (height, width): scale = long_side / max(h, w) (double);
/// new = int(old·scale + 0.5) per side (SAM's get_preprocess_shape).
std::pair<int, int> sam_resize_hw(int height, int width, int long_side = 1024);

/// The SAM grounding-encoder input of one image.
struct SamInput {
  ImageU8 resized;            ///< the Pillow-bilinear resize (newh × neww × 3 uint8), reference `sam.resized_u8_hwc`
  int input_size = 1024;      ///< side of the padded square
  std::vector<float> pixels;  ///< 3 × input_size × input_size, CHW: (v − mean) / std in float32 inside
                              ///< [0,newh) × [0,neww), exactly 0 in the bottom/right padding
  /// (newh, neww): the `resize` the reference keeps for cropping masks.
  std::pair<int, int> resize_hw() const { return {resized.height, resized.width}; }
};

/// ResizeLongestSide(long_side) with PIL BILINEAR on uint8 (torchvision 0.14 `resize` on a PIL image), then
/// normalise in float32 and zero-pad bottom/right to long_side × long_side. Throws InputError for an empty image
/// or long_side < 1.
SamInput sam_preprocess(const ImageU8& image, int long_side = 1024);

}  // namespace glamm::model
