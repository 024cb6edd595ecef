// RoIAlign forward kernel (see roi_align.h). All arithmetic is float32 in the reference kernel's order.
#include "model/roi_align.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace glamm::model {
namespace {

/// One sample point: the 4 neighbour offsets (within one channel plane) and their bilinear weights.
/// Samples outside the map have zero weights and offsets 0.
struct Sample {
  int64_t pos[4] = {0, 0, 0, 0};
  float w[4] = {0.f, 0.f, 0.f, 0.f};
};

Sample bilinear_sample(int64_t height, int64_t width, float y, float x) {
  Sample s;
  // Written as "not inside" so that NaN coordinates take the empty branch too.
  if (!(y >= -1.0f && y <= static_cast<float>(height) && x >= -1.0f && x <= static_cast<float>(width))) return s;
  if (y <= 0) y = 0;
  if (x <= 0) x = 0;
  int64_t y_low = static_cast<int64_t>(y);
  int64_t x_low = static_cast<int64_t>(x);
  int64_t y_high, x_high;
  if (y_low >= height - 1) {
    y_high = y_low = height - 1;
    y = static_cast<float>(y_low);
  } else {
    y_high = y_low + 1;
  }
  if (x_low >= width - 1) {
    x_high = x_low = width - 1;
    x = static_cast<float>(x_low);
  } else {
    x_high = x_low + 1;
  }
  const float ly = y - static_cast<float>(y_low);
  const float lx = x - static_cast<float>(x_low);
  const float hy = 1.0f - ly, hx = 1.0f - lx;
  s.w[0] = hy * hx;
  s.w[1] = hy * lx;
  s.w[2] = ly * hx;
  s.w[3] = ly * lx;
  s.pos[0] = y_low * width + x_low;
  s.pos[1] = y_low * width + x_high;
  s.pos[2] = y_high * width + x_low;
  s.pos[3] = y_high * width + x_high;
  return s;
}

}  // namespace

void roi_align_chw(const float* feature, int64_t channels, int64_t height, int64_t width, const float roi[4],
                   const RoiAlignParams& p, float* out) {
  if (feature == nullptr || roi == nullptr || out == nullptr) {
    throw std::invalid_argument("roi_align_chw: null pointer");
  }
  if (channels <= 0 || height <= 0 || width <= 0 || p.pooled_height <= 0 || p.pooled_width <= 0) {
    throw std::invalid_argument("roi_align_chw: sizes must be positive (channels " + std::to_string(channels) +
                                ", height " + std::to_string(height) + ", width " + std::to_string(width) +
                                ", pooled " + std::to_string(p.pooled_height) + "x" +
                                std::to_string(p.pooled_width) + ")");
  }
  const float scale = static_cast<float>(p.spatial_scale);
  const float offset = p.aligned ? 0.5f : 0.0f;
  const float start_w = roi[0] * scale - offset;
  const float start_h = roi[1] * scale - offset;
  const float end_w = roi[2] * scale - offset;
  const float end_h = roi[3] * scale - offset;
  float roi_w = end_w - start_w;
  float roi_h = end_h - start_h;
  if (!p.aligned) {
    roi_w = std::max(roi_w, 1.0f);
    roi_h = std::max(roi_h, 1.0f);
  }
  const int ph_n = p.pooled_height, pw_n = p.pooled_width;
  const float bin_h = roi_h / static_cast<float>(ph_n);
  const float bin_w = roi_w / static_cast<float>(pw_n);
  const int grid_h = p.sampling_ratio > 0 ? p.sampling_ratio : static_cast<int>(std::ceil(roi_h / ph_n));
  const int grid_w = p.sampling_ratio > 0 ? p.sampling_ratio : static_cast<int>(std::ceil(roi_w / pw_n));
  const float count = static_cast<float>(std::max(grid_h * grid_w, 1));
  const int gh = std::max(grid_h, 0), gw = std::max(grid_w, 0);  // an adaptive grid of ≤ 0 samples nothing

  // Sample points are the same for every channel: compute them once, in (ph, pw, iy, ix) order.
  std::vector<Sample> samples(static_cast<std::size_t>(ph_n) * pw_n * gh * gw);
  std::size_t k = 0;
  for (int ph = 0; ph < ph_n; ++ph) {
    for (int pw = 0; pw < pw_n; ++pw) {
      for (int iy = 0; iy < gh; ++iy) {
        const float y = start_h + static_cast<float>(ph) * bin_h +
                        static_cast<float>(iy + 0.5f) * bin_h / static_cast<float>(grid_h);
        for (int ix = 0; ix < gw; ++ix) {
          const float x = start_w + static_cast<float>(pw) * bin_w +
                          static_cast<float>(ix + 0.5f) * bin_w / static_cast<float>(grid_w);
          samples[k++] = bilinear_sample(height, width, y, x);
        }
      }
    }
  }

  const int64_t plane = height * width;
  const std::size_t per_bin = static_cast<std::size_t>(gh) * gw;
  for (int64_t c = 0; c < channels; ++c) {
    const float* in = feature + c * plane;
    float* o = out + c * ph_n * pw_n;
    for (int bin = 0; bin < ph_n * pw_n; ++bin) {
      const Sample* s = samples.data() + bin * per_bin;
      float acc = 0.f;
      for (std::size_t j = 0; j < per_bin; ++j) {
        acc += s[j].w[0] * in[s[j].pos[0]] + s[j].w[1] * in[s[j].pos[1]] + s[j].w[2] * in[s[j].pos[2]] +
               s[j].w[3] * in[s[j].pos[3]];
      }
      o[bin] = acc / count;
    }
  }
}

}  // namespace glamm::model
