// Pillow-exact 8-bit image resampling (no torch, no OpenCV): what `PIL.Image.resize(size, resample)` gives for an
// 8-bit image of mode L or RGB in Pillow 9.4 (reducing_gap None, default box = the whole image).
// Reference behaviour: Pillow 9.4 src/libImaging/Resample.c (precompute_coeffs, normalize_coeffs_8bpc,
// ImagingResampleHorizontal_8bpc / ImagingResampleVertical_8bpc, ImagingResampleInner) and Image.resize; spec
// glamm-model.md §4.1 / §4.2. This is an independent implementation of that behaviour:
//  * separable, antialiased: a filter of support s is stretched by max(in/out, 1), so a downscale averages every
//    input pixel under the stretched kernel;
//  * per output index i: centre c = box0 + (i + 0.5)·scale, input range [max(int(c − support + 0.5), 0),
//    min(int(c + support + 0.5), in)), weights filter((j − c + 0.5) / max(scale, 1)) normalised to sum 1 (left as
//    they are when the sum is 0), then fixed point with 22 fractional bits, rounded half away from zero;
//  * each output value = clip8((1 << 21) + Σ pixel·weight), clip8(v) = clamp(v >> 22, 0, 255) (arithmetic shift);
//  * horizontal pass first into an 8-bit intermediate, then the vertical pass; a pass is skipped when that
//    dimension is unchanged and the box spans it exactly.
// Channels are independent (Pillow's RGBA/LA premultiplication in Image.resize is not part of this).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace glamm::model::pil {

/// The two resampling filters the GLaMM pre-processing uses. Bicubic: Keys' cubic with a = −0.5, support 2
/// (Image.BICUBIC = 3, CLIP). Bilinear: triangle, support 1 (Image.BILINEAR = 2, SAM via torchvision 0.14).
enum class Filter { kBilinear, kBicubic };

/// Fixed-point precision of Pillow's 8-bit path: 32 − 8 − 2 = 22 fractional bits.
constexpr int kPrecisionBits = 22;

/// The filter kernel value at x (double), as Pillow defines it (bilinear: 1 − |x| for |x| < 1; bicubic a = −0.5:
/// 1.5|x|³ − 2.5|x|² + 1 for |x| < 1, −0.5(|x|³ − 5|x|² + 8|x| − 4) for 1 ≤ |x| < 2; else 0).
double filter_value(Filter f, double x);
/// The filter's support before stretching (bilinear 1, bicubic 2).
double filter_support(Filter f);

/// One pass's coefficients (Pillow's precompute_coeffs + normalize_coeffs_8bpc).
struct Coefficients {
  int ksize = 0;                 ///< taps per output index: 2·ceil(support·max(scale,1)) + 1
  std::vector<int> first;        ///< per output index: first input index used (≥ 0)
  std::vector<int> count;        ///< per output index: number of input indices used (first + count ≤ in_size)
  std::vector<double> weights;   ///< out_size × ksize normalised weights (zeros past `count`)
  std::vector<int32_t> fixed;    ///< out_size × ksize weights in 22-bit fixed point (rounded half away from 0)
};

/// Coefficients for resampling the input span [in0, in1) of an axis of `in_size` pixels to `out_size` pixels
/// (in0/in1 are float as Pillow stores the box), for the output indices [out_first, out_first + out_count)
/// (out_count −1 = up to out_size); entry k of the result belongs to output index out_first + k. Each output
/// index's coefficients depend on that index alone. Requires in_size ≥ 1, out_size ≥ 1, in1 > in0 and a window
/// inside [0, out_size); throws std::invalid_argument otherwise.
Coefficients compute_coefficients(int in_size, float in0, float in1, int out_size, Filter f, int out_first = 0,
                                  int out_count = -1);

/// Pillow's clip8 on a 22-bit fixed-point accumulator: clamp(acc >> 22, 0, 255) with an arithmetic (floor) shift.
uint8_t clip8(int64_t acc);

/// Resize an interleaved 8-bit image (height × width × channels, row-major, channels 1..4) to out_h × out_w,
/// bit-identical to Pillow 9.4 `Image.resize((out_w, out_h), filter, box)` for modes L / RGB. `box` is
/// (x0, y0, x1, y1) in input pixels; the default {0, 0, 0, 0} means the whole image (Image.resize's default).
/// When the size is unchanged and the box is the whole image this is a copy. Throws std::invalid_argument for
/// non-positive sizes, channels outside 1..4, a src size that does not match, or an empty/out-of-range box.
std::vector<uint8_t> resize(const std::vector<uint8_t>& src, int height, int width, int channels, int out_h,
                            int out_w, Filter filter, std::array<float, 4> box = {0.f, 0.f, 0.f, 0.f});

/// The window rows [top, top + win_h) × columns [left, left + win_w) of resize(src, …, out_h, out_w, filter, box),
/// byte-identical to cropping the full result, but only that window is computed (every output pixel depends on
/// its own row/column coefficients alone). For CLIP's resize-then-centre-crop: no full-size intermediate, however
/// elongated the image. Same errors as resize(), plus a window outside [0, out_h) × [0, out_w).
std::vector<uint8_t> resize_window(const std::vector<uint8_t>& src, int height, int width, int channels, int out_h,
                                   int out_w, Filter filter, int top, int left, int win_h, int win_w,
                                   std::array<float, 4> box = {0.f, 0.f, 0.f, 0.f});

}  // namespace glamm::model::pil
