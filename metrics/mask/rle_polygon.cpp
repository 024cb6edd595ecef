// Polygon and box rasterisation: reimplements pycocotools 2.0.6 common/maskApi.c rleFrPoly / rleFrBbox
// (5× upsampled boundary walk, column-centre sampling, parity via sorted boundary indices).
// Spec: shared specs/mask-metrics.md §2.3 frPoly / frBbox.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "metrics/mask/rle.h"

namespace glamm::mask {
namespace {

constexpr double kScale = 5;
constexpr double kCoordLimit = 1073741824.0;  // 2^30: upsampled coordinates and their differences fit in int

/// C's (int)v as x86-64 executes it (cvttsd2si): truncation toward zero, INT_MIN for NaN or out-of-range values.
/// The only such value rleFrPoly produces is the slope 0/0 = NaN of a zero-length edge, whose point never forms
/// a boundary pair (its neighbours share its column), so this merely keeps the port free of undefined behaviour.
int c_int(double v) {
  if (!(v > -2147483649.0 && v < 2147483648.0)) return std::numeric_limits<int>::min();
  return static_cast<int>(v);
}

/// Collects the column-centre boundary crossings of consecutive boundary points (the second loop of rleFrPoly).
class CrossingCollector {
 public:
  CrossingCollector(uint32_t h, uint32_t w) : h_(h), w_(w) {}

  void add_point(int u, int v) {
    if (have_prev_ && u != pu_) add_pair(pu_, pv_, u, v);
    pu_ = u;
    pv_ = v;
    have_prev_ = true;
  }

  std::vector<uint32_t>& indices() { return a_; }

 private:
  void add_pair(int u0, int v0, int u1, int v1) {
    double xd = static_cast<double>(u1 < u0 ? u1 : u1 - 1);
    xd = (xd + .5) / kScale - .5;
    if (std::floor(xd) != xd || xd < 0 || xd > static_cast<double>(w_) - 1) return;
    double yd = static_cast<double>(v1 < v0 ? v1 : v0);
    yd = (yd + .5) / kScale - .5;
    if (yd < 0) {
      yd = 0;
    } else if (yd > h_) {
      yd = h_;
    }
    yd = std::ceil(yd);
    // C: (uint)(x*(int)h + y); exact here because x < w and y <= h keep it within h*w <= 2^32-1.
    a_.push_back(static_cast<uint32_t>(static_cast<uint64_t>(xd) * h_ + static_cast<uint64_t>(yd)));
  }

  uint32_t h_, w_;
  bool have_prev_ = false;
  int pu_ = 0, pv_ = 0;
  std::vector<uint32_t> a_;
};

}  // namespace

Rle from_polygon(const std::vector<double>& xy, uint32_t h, uint32_t w) {
  const uint64_t total = uint64_t{h} * w;
  if (total > std::numeric_limits<uint32_t>::max()) {
    throw RleError("polygon image of " + std::to_string(h) + "x" + std::to_string(w) +
                   " pixels exceeds 2^32-1 pixels");
  }
  const size_t k = xy.size() / 2;  // int(len/2): an odd-length list drops its last number
  std::vector<int> x(k + 1), y(k + 1);
  for (size_t j = 0; j < k; ++j) {
    for (int axis = 0; axis < 2; ++axis) {
      const double c = xy[2 * j + axis];
      const double up = kScale * c + .5;
      if (!std::isfinite(c) || !(std::fabs(up) < kCoordLimit)) {
        throw RleError("polygon coordinate " + std::to_string(c) + " (number " + std::to_string(2 * j + axis) +
                       ") is not finite or too large (|5v+0.5| must stay below 2^30)");
      }
      (axis == 0 ? x : y)[j] = static_cast<int>(up);
    }
  }
  if (k > 0) {
    x[k] = x[0];
    y[k] = y[0];
  }

  // Walk every edge one unit along its major axis, emitting points in the original edge direction.
  CrossingCollector crossings(h, w);
  for (size_t j = 0; j < k; ++j) {
    int xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
    const int dx = std::abs(xe - xs), dy = std::abs(ys - ye);
    const bool flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      std::swap(xs, xe);
      std::swap(ys, ye);
    }
    const double s = dx >= dy ? static_cast<double>(ye - ys) / dx : static_cast<double>(xe - xs) / dy;
    if (dx >= dy) {
      for (int d = 0; d <= dx; ++d) {
        const int t = flip ? dx - d : d;
        crossings.add_point(t + xs, c_int(ys + s * t + .5));
      }
    } else {
      for (int d = 0; d <= dy; ++d) {
        const int t = flip ? dy - d : d;
        crossings.add_point(c_int(xs + s * t + .5), t + ys);
      }
    }
  }

  // Boundary indices → sorted → differences; a zero difference folds the next difference into the previous run.
  std::vector<uint32_t>& a = crossings.indices();
  a.push_back(static_cast<uint32_t>(total));
  std::sort(a.begin(), a.end());
  uint32_t prev = 0;
  for (uint32_t& v : a) {
    const uint32_t t = v;
    v -= prev;
    prev = t;
  }
  Rle r{h, w, {}};
  r.counts.reserve(a.size());
  size_t j = 0;
  r.counts.push_back(a[j++]);
  while (j < a.size()) {
    if (a[j] > 0) {
      r.counts.push_back(a[j++]);
    } else {
      ++j;
      if (j < a.size()) r.counts.back() += a[j++];
    }
  }
  return r;
}

Rle from_bbox(const Box& bb, uint32_t h, uint32_t w) {
  const double xs = bb[0], xe = xs + bb[2];
  const double ys = bb[1], ye = ys + bb[3];
  return from_polygon({xs, ys, xs, ye, xe, ye, xe, ys}, h, w);
}

}  // namespace glamm::mask
