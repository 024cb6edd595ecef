// Randomised property tests (fixed seeds) of the RLE operations against plain pixel arithmetic:
// string round trips, merge vs pixelwise AND/OR, iou vs pixel counts (crowd too), toBbox vs its pixel rule,
// frPoly on axis-aligned rectangles vs the pixel-centre rule.
#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/mask/rle.h"

namespace glamm::mask {
namespace {

struct Dense {
  uint32_t h = 0, w = 0;
  std::vector<uint8_t> px;  // column-major 0/1
};

/// Random mask of a random kind: empty, full, noise of random density, or a few rectangles; shapes include
/// 1×N and N×1.
Dense random_mask(std::mt19937& rng, uint32_t h, uint32_t w) {
  Dense m{h, w, std::vector<uint8_t>(size_t{h} * w, 0)};
  const int kind = static_cast<int>(rng() % 6);
  if (kind == 0) return m;
  if (kind == 1) {
    std::fill(m.px.begin(), m.px.end(), 1);
    return m;
  }
  if (kind <= 3) {
    const uint32_t p = rng() % 101;
    for (uint8_t& v : m.px) v = (rng() % 100) < p;
    return m;
  }
  const int rects = 1 + static_cast<int>(rng() % 3);
  for (int r = 0; r < rects && h && w; ++r) {
    const uint32_t x0 = rng() % w, x1 = x0 + rng() % (w - x0), y0 = rng() % h, y1 = y0 + rng() % (h - y0);
    for (uint32_t x = x0; x <= x1; ++x)
      for (uint32_t y = y0; y <= y1; ++y) m.px[size_t{x} * h + y] = 1;
  }
  return m;
}

std::pair<uint32_t, uint32_t> random_shape(std::mt19937& rng) {
  switch (rng() % 8) {
    case 0: return {1, 1 + rng() % 40};   // 1×N
    case 1: return {1 + rng() % 40, 1};   // N×1
    case 2: return {rng() % 3, rng() % 3};  // tiny, including 0-sized
    default: return {1 + rng() % 24, 1 + rng() % 24};
  }
}

uint64_t popcount(const std::vector<uint8_t>& v) {
  uint64_t n = 0;
  for (uint8_t b : v) n += b;
  return n;
}

/// toBbox's rule computed from pixels: x range of the set pixels; y range of the set pixels, widened to the whole
/// height when any maximal run of set pixels (in column-major order) spans two columns.
Box expected_bbox(const Dense& m) {
  if (popcount(m.px) == 0) return {0, 0, 0, 0};
  uint32_t xs = m.w, xe = 0, ys = m.h, ye = 0;
  bool crosses = false;
  const size_t n = m.px.size();
  for (size_t i = 0; i < n; ++i) {
    if (!m.px[i]) continue;
    const uint32_t x = static_cast<uint32_t>(i / m.h), y = static_cast<uint32_t>(i % m.h);
    xs = std::min(xs, x);
    xe = std::max(xe, x);
    ys = std::min(ys, y);
    ye = std::max(ye, y);
    if (i + 1 < n && m.px[i + 1] && (i + 1) / m.h != x) crosses = true;
  }
  if (crosses) {
    ys = 0;
    ye = m.h - 1;
  }
  return {double(xs), double(ys), double(xe - xs + 1), double(ye - ys + 1)};
}

TEST(RleProperty, EncodeStringDecodeIsIdentity) {
  std::mt19937 rng(20240601);
  for (int it = 0; it < 5000; ++it) {
    const auto [h, w] = random_shape(rng);
    const Dense m = random_mask(rng, h, w);
    const Rle r = encode(m.px.data(), h, w);
    uint64_t sum = 0;
    for (size_t i = 0; i < r.counts.size(); ++i) {
      sum += r.counts[i];
      if (i > 0) {
        ASSERT_GT(r.counts[i], 0u) << "non-canonical zero run at " << i;
      }
    }
    ASSERT_EQ(sum, uint64_t{h} * w);
    const std::string s = to_string(r);
    for (char c : s) ASSERT_TRUE(c >= '0' && c <= 'o');
    const Rle back = from_string(s, h, w);
    ASSERT_EQ(back.counts, r.counts) << s;
    ASSERT_EQ(decode(back), m.px);
    ASSERT_EQ(area(back), popcount(m.px));
    ASSERT_EQ(to_bbox(back), expected_bbox(m)) << h << "x" << w << " " << s;
  }
}

TEST(RleProperty, MergeIsPixelwiseOrAndAnd) {
  std::mt19937 rng(7);
  for (int it = 0; it < 3000; ++it) {
    const auto [h, w] = random_shape(rng);
    const int n = 2 + static_cast<int>(rng() % 3);
    std::vector<Dense> masks;
    std::vector<Rle> rles;
    for (int i = 0; i < n; ++i) {
      masks.push_back(random_mask(rng, h, w));
      rles.push_back(encode(masks.back().px.data(), h, w));
    }
    std::vector<uint8_t> any(size_t{h} * w, 0), all(size_t{h} * w, 1);
    for (const Dense& m : masks) {
      for (size_t p = 0; p < any.size(); ++p) {
        any[p] |= m.px[p];
        all[p] &= m.px[p];
      }
    }
    const Rle u = merge(rles, false), x = merge(rles, true);
    ASSERT_EQ(u.counts, encode(any.data(), h, w).counts);
    ASSERT_EQ(x.counts, encode(all.data(), h, w).counts);
    ASSERT_EQ(decode(u), any);
    ASSERT_EQ(decode(x), all);
  }
}

TEST(RleProperty, IouMatchesPixelCountsIncludingCrowd) {
  std::mt19937 rng(99);
  for (int it = 0; it < 2000; ++it) {
    const auto [h, w] = random_shape(rng);
    const size_t nd = rng() % 4, ng = rng() % 4;
    std::vector<Dense> dm, gm;
    std::vector<Rle> dr, gr;
    std::vector<uint8_t> crowd;
    for (size_t i = 0; i < nd; ++i) {
      dm.push_back(random_mask(rng, h, w));
      dr.push_back(encode(dm.back().px.data(), h, w));
    }
    for (size_t i = 0; i < ng; ++i) {
      gm.push_back(random_mask(rng, h, w));
      gr.push_back(encode(gm.back().px.data(), h, w));
      crowd.push_back(rng() % 3 == 0);
    }
    std::vector<double> out(nd * ng, -7);
    iou(dr, gr, crowd, out.data());
    for (size_t d = 0; d < nd; ++d) {
      for (size_t g = 0; g < ng; ++g) {
        uint64_t inter = 0, uni = 0;
        for (size_t p = 0; p < dm[d].px.size(); ++p) {
          inter += dm[d].px[p] & gm[g].px[p];
          uni += dm[d].px[p] | gm[g].px[p];
        }
        const double denom = crowd[g] ? double(popcount(dm[d].px)) : double(uni);
        const double expected = inter == 0 ? 0.0 : double(inter) / denom;
        ASSERT_EQ(out[d * ng + g], expected) << "d=" << d << " g=" << g << " crowd=" << int(crowd[g]);
      }
    }
  }
}

/// maskApi.c's rleIou loop for one pair, transcribed with its uint32 counters (and a stop where the C loop would
/// spin forever on counts with unequal sums, as iou does): the oracle for non-canonical RLEs.
double c_rle_iou(const Rle& dt, const Rle& gt, bool crowd) {
  uint32_t ca = dt.counts.empty() ? 0 : dt.counts[0], cb = gt.counts.empty() ? 0 : gt.counts[0];
  const size_t ka = dt.counts.size(), kb = gt.counts.size();
  size_t a = 1, b = 1;
  bool va = false, vb = false;
  uint32_t i = 0, u = 0, ct = 1;
  while (ct > 0) {
    const uint32_t c = std::min(ca, cb);
    if (va || vb) {
      u += c;
      if (va && vb) i += c;
    }
    ct = 0;
    ca -= c;
    if (!ca && a < ka) ca = dt.counts[a++], va = !va;
    ct += ca;
    cb -= c;
    if (!cb && b < kb) cb = gt.counts[b++], vb = !vb;
    ct += cb;
    if (c == 0 && ((ca == 0 && a >= ka) || (cb == 0 && b >= kb))) break;
  }
  if (i == 0) return 0;
  if (crowd) u = area(dt);
  return double(i) / double(u);
}

TEST(RleProperty, IouEqualsTheCLoopOnNonCanonicalRles) {
  // Random count lists with zero-length runs anywhere (where the C loop can stop early), lists not summing to
  // h*w, and canonical ones, on one shape per pair; boxes from to_bbox as evaluate gives them.
  std::mt19937 rng(2718);
  int walked = 0;
  for (int it = 0; it < 4000; ++it) {
    const uint32_t h = 1 + rng() % 12, w = 1 + rng() % 12;
    auto random_counts = [&] {
      Rle r{h, w, {}};
      if (rng() % 3 == 0) return encode(random_mask(rng, h, w).px.data(), h, w);
      const uint64_t total = uint64_t{h} * w + (rng() % 5 == 0 ? rng() % 7 : 0);  // sometimes past h*w
      uint64_t left = total;
      while (left > 0) {
        const auto c = static_cast<uint32_t>(rng() % 4 == 0 ? 0 : 1 + rng() % std::min<uint64_t>(left, 2 * h));
        r.counts.push_back(c);
        left -= c;
      }
      if (rng() % 4 == 0) r.counts.push_back(0);
      return r;
    };
    const Rle d = random_counts(), g = random_counts();
    const bool crowd = rng() % 4 == 0;
    double out = -7;
    const Rle* dp = &d;
    const Rle* gp = &g;
    const uint8_t cr = crowd ? 1 : 0;
    iou(&dp, 1, &gp, 1, &cr, &out);
    // Compare with the C loop whenever the boxes overlap (otherwise iou gives 0 without a walk).
    Box db = to_bbox(d), gb = to_bbox(g);
    const double iw = std::min(db[0] + db[2], gb[0] + gb[2]) - std::max(db[0], gb[0]);
    const double ih = std::min(db[1] + db[3], gb[1] + gb[3]) - std::max(db[1], gb[1]);
    if (iw <= 0 || ih <= 0) continue;
    ASSERT_EQ(out, c_rle_iou(d, g, crowd)) << "it " << it;
    ++walked;
  }
  EXPECT_GT(walked, 1000);
}

TEST(RleProperty, IouIsMinusOneForDifferentSizesWithOverlappingBoxes) {
  std::mt19937 rng(5);
  int seen = 0;
  for (int it = 0; it < 500; ++it) {
    const uint32_t h = 2 + rng() % 10, w = 2 + rng() % 10;
    const Dense a = random_mask(rng, h, w), b = random_mask(rng, h + 1, w);
    const Rle ra = encode(a.px.data(), h, w), rb = encode(b.px.data(), h + 1, w);
    double o = 7, bo = 7;
    iou({ra}, {rb}, {0}, &o);
    bbox_iou({to_bbox(ra)}, {to_bbox(rb)}, {0}, &bo);
    ASSERT_EQ(o, bo > 0 ? -1.0 : 0.0);
    seen += bo > 0;
  }
  EXPECT_GT(seen, 50);
}

/// Pixels along one axis whose centres i+0.5 lie inside [lo, hi] under frPoly's 1/5-pixel rounding, for integer
/// or half-integer lo < hi: strictly inside, except that a centre exactly on the upper edge counts (half-integer
/// vertices round up by 0.1 px on the 5× grid). In doubled units: 2*lo < 2i+1 <= 2*hi.
uint32_t centres_inside(int twice_lo, int twice_hi, uint32_t n) {
  uint32_t c = 0;
  for (uint32_t i = 0; i < n; ++i) c += (twice_lo < int(2 * i + 1)) && (int(2 * i + 1) <= twice_hi);
  return c;
}

TEST(RleProperty, AxisAlignedRectanglePolygonsFollowThePixelCentreRule) {
  std::mt19937 rng(31337);
  for (int it = 0; it < 4000; ++it) {
    const auto [h, w] = random_shape(rng);
    // Coordinates in half pixels, from 3 px left/above the image to 3 px past it.
    auto coord = [&](uint32_t n) { return static_cast<int>(rng() % (2 * n + 13)) - 6; };
    int x0 = coord(w), x1 = coord(w), y0 = coord(h), y1 = coord(h);
    if (x0 > x1) std::swap(x0, x1);
    if (y0 > y1) std::swap(y0, y1);
    const double X0 = x0 / 2.0, X1 = x1 / 2.0, Y0 = y0 / 2.0, Y1 = y1 / 2.0;
    // Random start corner and orientation.
    std::vector<std::pair<double, double>> corners = {{X0, Y0}, {X1, Y0}, {X1, Y1}, {X0, Y1}};
    std::rotate(corners.begin(), corners.begin() + rng() % 4, corners.end());
    if (rng() % 2) std::reverse(corners.begin(), corners.end());
    std::vector<double> xy;
    for (const auto& [x, y] : corners) {
      xy.push_back(x);
      xy.push_back(y);
    }
    const Rle r = from_polygon(xy, h, w);
    uint64_t sum = 0;
    for (size_t i = 0; i < r.counts.size(); ++i) {
      sum += r.counts[i];
      if (i > 0) {
        ASSERT_GT(r.counts[i], 0u) << "frPoly output not canonical at " << i;
      }
    }
    ASSERT_EQ(sum, uint64_t{h} * w);
    const uint32_t nx = centres_inside(x0, x1, w), ny = centres_inside(y0, y1, h);
    ASSERT_EQ(area(r), nx * ny) << "rect x [" << X0 << "," << X1 << "] y [" << Y0 << "," << Y1 << "] on " << h
                                << "x" << w;
    // Dense check: exactly the product set.
    const std::vector<uint8_t> px = decode(r);
    for (uint32_t x = 0; x < w; ++x)
      for (uint32_t y = 0; y < h; ++y) {
        const bool in = centres_inside(x0, x1, x + 1) - centres_inside(x0, x1, x) == 1 &&
                        centres_inside(y0, y1, y + 1) - centres_inside(y0, y1, y) == 1;
        ASSERT_EQ(px[size_t{x} * h + y], in) << "pixel " << x << "," << y;
      }
    // The same box through frBbox.
    ASSERT_EQ(from_bbox(Box{X0, Y0, X1 - X0, Y1 - Y0}, h, w).counts, r.counts);
  }
}

}  // namespace
}  // namespace glamm::mask
