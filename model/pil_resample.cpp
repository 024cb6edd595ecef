// Pillow-exact 8-bit two-pass resampling (see pil_resample.h for the rules followed).
#include "model/pil_resample.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace glamm::model::pil {

double filter_value(Filter f, double x) {
  const double ax = x < 0.0 ? -x : x;
  if (f == Filter::kBilinear) return ax < 1.0 ? 1.0 - ax : 0.0;
  // Keys' cubic convolution kernel with a = -0.5, written in the same Horner form as Pillow so that every
  // double rounding step is the same.
  constexpr double a = -0.5;
  if (ax < 1.0) return ((a + 2.0) * ax - (a + 3.0)) * ax * ax + 1;
  if (ax < 2.0) return (((ax - 5) * ax + 8) * ax - 4) * a;
  return 0.0;
}

double filter_support(Filter f) { return f == Filter::kBilinear ? 1.0 : 2.0; }

uint8_t clip8(int64_t acc) {
  const int64_t v = acc >> kPrecisionBits;  // arithmetic shift (floor), as Pillow's `in >> PRECISION_BITS`
  return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

Coefficients compute_coefficients(int in_size, float in0, float in1, int out_size, Filter f, int out_first,
                                  int out_count) {
  if (in_size < 1 || out_size < 1)
    throw std::invalid_argument("pil resample: sizes must be positive (in " + std::to_string(in_size) + ", out " +
                                std::to_string(out_size) + ")");
  if (!(in1 > in0)) throw std::invalid_argument("pil resample: empty input span");
  if (out_count < 0) out_count = out_size - out_first;
  if (out_first < 0 || out_count < 0 || out_first > out_size - out_count)
    throw std::invalid_argument("pil resample: output window outside the output size");
  // The span is a float difference (Pillow keeps the box as float[4]) widened to double.
  const double scale = static_cast<double>(in1 - in0) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = filter_support(f) * filterscale;
  Coefficients c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(out_count);
  c.count.resize(out_count);
  c.weights.assign(static_cast<std::size_t>(out_count) * c.ksize, 0.0);
  c.fixed.assign(c.weights.size(), 0);
  const double inv_filterscale = 1.0 / filterscale;
  for (int k = 0; k < out_count; ++k) {
    const int i = out_first + k;
    const double center = in0 + (i + 0.5) * scale;
    // Bounds: C truncation of centre ± support + 0.5, clamped to the axis.
    int lo = static_cast<int>(center - support + 0.5);
    if (lo < 0) lo = 0;
    int hi = static_cast<int>(center + support + 0.5);
    if (hi > in_size) hi = in_size;
    const int n = std::max(hi - lo, 0);
    double* w = &c.weights[static_cast<std::size_t>(k) * c.ksize];
    double total = 0.0;
    for (int j = 0; j < n; ++j) {
      w[j] = filter_value(f, (j + lo - center + 0.5) * inv_filterscale);
      total += w[j];
    }
    if (total != 0.0)
      for (int j = 0; j < n; ++j) w[j] /= total;
    c.first[k] = lo;
    c.count[k] = n;
  }
  // 22-bit fixed point, rounded half away from zero (C truncation of value ± 0.5).
  const double one = static_cast<double>(1 << kPrecisionBits);
  for (std::size_t k = 0; k < c.weights.size(); ++k) {
    const double v = c.weights[k];
    c.fixed[k] = static_cast<int32_t>(v < 0 ? -0.5 + v * one : 0.5 + v * one);
  }
  return c;
}

namespace {

// Accumulators: Σ|weight| over a normalised kernel stays below 1.2·2^22 for these filters, so 255·that + 2^21
// fits in int32 exactly as in Pillow (which uses int).
constexpr int32_t kHalf = 1 << (kPrecisionBits - 1);

// Horizontal pass over rows [row0, row0 + rows) of `src` (width in_w) into `dst` (rows × c.first.size()).
void horizontal_pass(const uint8_t* src, int in_w, int channels, int row0, int rows, const Coefficients& c,
                     uint8_t* dst) {
  const int out_w = static_cast<int>(c.first.size());
  for (int y = 0; y < rows; ++y) {
    const uint8_t* in_row = src + static_cast<std::size_t>(row0 + y) * in_w * channels;
    uint8_t* out_row = dst + static_cast<std::size_t>(y) * out_w * channels;
    for (int x = 0; x < out_w; ++x) {
      const int32_t* w = &c.fixed[static_cast<std::size_t>(x) * c.ksize];
      const uint8_t* p = in_row + static_cast<std::size_t>(c.first[x]) * channels;
      for (int ch = 0; ch < channels; ++ch) {
        int32_t acc = kHalf;
        for (int j = 0; j < c.count[x]; ++j) acc += static_cast<int32_t>(p[j * channels + ch]) * w[j];
        out_row[x * channels + ch] = clip8(acc);
      }
    }
  }
}

// Vertical pass: `src` has `width` columns and starts at input row `shift`; output row y reads rows
// first[y] .. first[y] + count[y] − 1.
void vertical_pass(const uint8_t* src, int width, int channels, const Coefficients& c, int shift, uint8_t* dst) {
  const std::size_t stride = static_cast<std::size_t>(width) * channels;
  const int out_h = static_cast<int>(c.first.size());
  for (int y = 0; y < out_h; ++y) {
    const int32_t* w = &c.fixed[static_cast<std::size_t>(y) * c.ksize];
    const uint8_t* base = src + static_cast<std::size_t>(c.first[y] - shift) * stride;
    uint8_t* out_row = dst + static_cast<std::size_t>(y) * stride;
    for (std::size_t k = 0; k < stride; ++k) {
      int32_t acc = kHalf;
      for (int j = 0; j < c.count[y]; ++j) acc += static_cast<int32_t>(base[j * stride + k]) * w[j];
      out_row[k] = clip8(acc);
    }
  }
}

}  // namespace

std::vector<uint8_t> resize_window(const std::vector<uint8_t>& src, int height, int width, int channels, int out_h,
                                   int out_w, Filter filter, int top, int left, int win_h, int win_w,
                                   std::array<float, 4> box) {
  if (height < 1 || width < 1 || out_h < 1 || out_w < 1)
    throw std::invalid_argument("pil resample: sizes must be positive (" + std::to_string(height) + "x" +
                                std::to_string(width) + " -> " + std::to_string(out_h) + "x" +
                                std::to_string(out_w) + ")");
  if (channels < 1 || channels > 4)
    throw std::invalid_argument("pil resample: channels must be 1..4, got " + std::to_string(channels));
  if (src.size() != static_cast<std::size_t>(height) * width * channels)
    throw std::invalid_argument("pil resample: buffer holds " + std::to_string(src.size()) + " bytes, expected " +
                                std::to_string(static_cast<std::size_t>(height) * width * channels));
  if (top < 0 || left < 0 || win_h < 1 || win_w < 1 || top > out_h - win_h || left > out_w - win_w)
    throw std::invalid_argument("pil resample: window outside the output image");
  if (box == std::array<float, 4>{0.f, 0.f, 0.f, 0.f})
    box = {0.f, 0.f, static_cast<float>(width), static_cast<float>(height)};
  if (box[0] < 0 || box[1] < 0 || box[2] > width || box[3] > height || !(box[2] > box[0]) || !(box[3] > box[1]))
    throw std::invalid_argument("pil resample: box outside the image or empty");

  // A pass is skipped when its dimension is unchanged and the box spans it (then it is the identity).
  const bool need_h = out_w != width || box[0] != 0.f || box[2] != static_cast<float>(out_w);
  const bool need_v = out_h != height || box[1] != 0.f || box[3] != static_cast<float>(out_h);

  // Rows of the input the window's vertical pass reads (all window rows when the vertical pass is skipped).
  Coefficients vert;
  int row_first = top, row_last = top + win_h;
  if (need_v) {
    vert = compute_coefficients(height, box[1], box[3], out_h, filter, top, win_h);
    row_first = *std::min_element(vert.first.begin(), vert.first.end());
    row_last = 0;
    for (int y = 0; y < win_h; ++y) row_last = std::max(row_last, vert.first[y] + vert.count[y]);
  }
  const int rows = row_last - row_first;

  // Horizontal pass (or the identity: a column copy) over those rows, window columns only.
  std::vector<uint8_t> tmp(static_cast<std::size_t>(rows) * win_w * channels);
  if (need_h) {
    const Coefficients horiz = compute_coefficients(width, box[0], box[2], out_w, filter, left, win_w);
    horizontal_pass(src.data(), width, channels, row_first, rows, horiz, tmp.data());
  } else {
    const std::size_t n = static_cast<std::size_t>(win_w) * channels;
    for (int y = 0; y < rows; ++y)
      std::copy_n(src.data() + (static_cast<std::size_t>(row_first + y) * width + left) * channels, n,
                  tmp.data() + static_cast<std::size_t>(y) * n);
  }
  if (!need_v) return tmp;
  std::vector<uint8_t> out(static_cast<std::size_t>(win_h) * win_w * channels);
  vertical_pass(tmp.data(), win_w, channels, vert, row_first, out.data());
  return out;
}

std::vector<uint8_t> resize(const std::vector<uint8_t>& src, int height, int width, int channels, int out_h,
                            int out_w, Filter filter, std::array<float, 4> box) {
  return resize_window(src, height, width, channels, out_h, out_w, filter, 0, 0, std::max(out_h, 1),
                       std::max(out_w, 1), box);
}

}  // namespace glamm::model::pil
