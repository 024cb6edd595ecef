// Randomised-input ("fuzz") tests of the RLE code, built into mask_sanitize_test with AddressSanitizer + UBSan
// (tests/CMakeLists.txt). Every input must give either a clean RleError or a valid result (counts summing to
// h*w, IoU in [0, 1] or -1, ...). Fixed seeds, so a failure reproduces.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/mask/rle.h"
#include "metrics/mask/segmentation.h"

namespace glamm::mask {
namespace {

uint64_t sum_of(const Rle& r) {
  uint64_t s = 0;
  for (uint32_t c : r.counts) s += c;
  return s;
}

std::pair<uint32_t, uint32_t> random_size(std::mt19937_64& rng) {
  switch (rng() % 6) {
    case 0: return {static_cast<uint32_t>(rng() % 3), static_cast<uint32_t>(rng() % 3)};
    case 1: return {1, static_cast<uint32_t>(1 + rng() % 64)};
    case 2: return {static_cast<uint32_t>(1 + rng() % 64), 1};
    case 3: return {static_cast<uint32_t>(1 + rng() % 70000), static_cast<uint32_t>(1 + rng() % 70000)};
    default: return {static_cast<uint32_t>(1 + rng() % 24), static_cast<uint32_t>(1 + rng() % 24)};
  }
}

/// A valid random RLE for h×w: random run lengths (sometimes zero-length runs, sometimes very long ones).
Rle random_rle(std::mt19937_64& rng, uint32_t h, uint32_t w) {
  Rle r{h, w, {}};
  uint64_t left = uint64_t{h} * w;
  while (left > 0 && r.counts.size() < 200) {
    uint64_t c;
    switch (rng() % 4) {
      case 0: c = 0; break;
      case 1: c = rng() % (left + 1); break;
      default: c = 1 + rng() % std::min<uint64_t>(left, 16);
    }
    c = std::min<uint64_t>({c, left, std::numeric_limits<uint32_t>::max()});
    r.counts.push_back(static_cast<uint32_t>(c));
    left -= c;
  }
  while (left > 0) {  // finish with alternating max-size runs (keeps h*w > 2^32 sizes valid)
    const uint64_t c = std::min<uint64_t>(left, std::numeric_limits<uint32_t>::max());
    r.counts.push_back(static_cast<uint32_t>(c));
    left -= c;
    if (left > 0) r.counts.push_back(0);
  }
  if (r.counts.empty()) r.counts.push_back(0);
  return r;
}

/// The contract of from_string: a clean RleError, or a valid RLE that decodes (when small enough) and
/// re-encodes to the same counts.
void check_from_string(const std::string& s, uint32_t h, uint32_t w) {
  Rle r;
  try {
    r = from_string(s, h, w);
  } catch (const RleError& e) {
    ASSERT_NE(std::string(e.what()), "");
    return;
  }
  ASSERT_EQ(r.h, h);
  ASSERT_EQ(r.w, w);
  ASSERT_EQ(sum_of(r), uint64_t{h} * w) << s;
  ASSERT_EQ(from_string(to_string(r), h, w).counts, r.counts) << s;
  if (uint64_t{h} * w <= 1u << 20) {
    const std::vector<uint8_t> px = decode(r);
    ASSERT_EQ(px.size(), uint64_t{h} * w);
    uint64_t ones = 0;
    for (uint8_t v : px) {
      ASSERT_LE(v, 1);
      ones += v;
    }
    ASSERT_EQ(ones, area(r));
  }
  const Box b = to_bbox(r);
  if (area(r) > 0 && r.counts.size() >= 2) {
    ASSERT_LT(b[0], w);
    ASSERT_LT(b[1], h);
  }
}

TEST(RleFuzz, RandomBytesIntoFromStringAndDecode) {
  std::mt19937_64 rng(1);
  for (int it = 0; it < 40000; ++it) {
    const auto [h, w] = random_size(rng);
    std::string s(rng() % 24, '\0');
    const bool alphabet_only = rng() % 2;
    for (char& c : s) c = static_cast<char>(alphabet_only ? '0' + rng() % 64 : rng() % 256);
    check_from_string(s, h, w);
    if (HasFatalFailure()) return;
  }
}

TEST(RleFuzz, MutatedValidStringsIntoFromStringAndDecode) {
  std::mt19937_64 rng(2);
  for (int it = 0; it < 20000; ++it) {
    const auto [h, w] = random_size(rng);
    const Rle r = random_rle(rng, h, w);
    std::string s = to_string(r);
    check_from_string(s, h, w);  // the valid string itself
    if (HasFatalFailure()) return;
    ASSERT_EQ(from_string(s, h, w).counts, r.counts);
    switch (rng() % 5) {
      case 0:
        if (!s.empty()) s[rng() % s.size()] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 1:
        if (!s.empty()) s.resize(rng() % s.size());
        break;
      case 2:
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(rng() % (s.size() + 1)), static_cast<char>('0' + rng() % 64));
        break;
      case 3:
        if (!s.empty()) s.erase(s.begin() + static_cast<std::ptrdiff_t>(rng() % s.size()));
        break;
      default: s += std::string(1 + rng() % 14, 'o'); break;  // overlong group
    }
    // Sometimes also the wrong size for the string.
    const uint32_t hh = rng() % 4 == 0 ? h + 1 : h;
    check_from_string(s, hh, w);
    if (HasFatalFailure()) return;
  }
}

TEST(RleFuzz, MergeIouAndBboxOnDecodedRandomRles) {
  std::mt19937_64 rng(3);
  for (int it = 0; it < 5000; ++it) {
    const uint32_t h = 1 + rng() % 12, w = 1 + rng() % 12;
    std::vector<Rle> a, b;
    for (int i = 0; i < 3; ++i) {
      // Valid strings, decoded; one side sometimes of another size.
      a.push_back(from_string(to_string(random_rle(rng, h, w)), h, w));
      const uint32_t hb = rng() % 5 == 0 ? h + 1 : h;
      b.push_back(from_string(to_string(random_rle(rng, hb, w)), hb, w));
    }
    std::vector<uint8_t> crowd = {static_cast<uint8_t>(rng() % 2), 0, static_cast<uint8_t>(rng() % 2)};
    std::vector<double> o(9);
    iou(a, b, crowd, o.data());
    for (double v : o) ASSERT_TRUE(v == -1.0 || (v >= 0.0 && v <= 1.0)) << v;
    // The random RLEs have zero-length runs: like 2.0.6 the walk may stop early (covering fewer pixels), never more.
    // Their canonical forms must merge to valid RLEs.
    std::vector<Rle> ca;
    for (const Rle& r : a) ca.push_back(canonical(r));
    for (bool inter : {false, true}) {
      ASSERT_LE(sum_of(merge(a, inter)), uint64_t{h} * w);
      const Rle m = merge(ca, inter);
      ASSERT_EQ(sum_of(m), uint64_t{h} * w);
      ASSERT_EQ(decode(m).size(), size_t{h} * w);
      const Rle mixed = merge({ca[0], canonical(b[0])}, inter);  // a size mismatch gives 0×0 empty
      ASSERT_EQ(sum_of(mixed), uint64_t{mixed.h} * mixed.w);
    }
    ASSERT_EQ(decode(canonical(a[0])), decode(a[0]));
  }
}

TEST(RleFuzz, RandomPolygonsGiveValidRlesOrErrors) {
  std::mt19937_64 rng(4);
  const double specials[] = {std::nan(""), std::numeric_limits<double>::infinity(), -1e12, 1e9, -0.1, 0.5};
  for (int it = 0; it < 5000; ++it) {
    const uint32_t h = rng() % 30, w = rng() % 30;
    std::vector<double> xy(rng() % 17);
    for (double& v : xy) {
      v = rng() % 50 == 0 ? specials[rng() % 6] : std::uniform_real_distribution<double>(-40, 80)(rng);
    }
    try {
      const Rle r = from_polygon(xy, h, w);
      ASSERT_EQ(sum_of(r), uint64_t{h} * w);
      ASSERT_EQ(canonical(r).counts, r.counts);  // frPoly output is canonical
      ASSERT_EQ(decode(r).size(), size_t{h} * w);
      to_bbox(r);
    } catch (const RleError&) {
    }
    // Through the annToRLE dispatch too, with a second part.
    const Segmentation seg = Polygons{{xy, std::vector<double>(xy.rbegin(), xy.rend())}};
    for (bool strict : {false, true}) {
      try {
        const Rle r = to_rle(seg, h, w, strict);
        ASSERT_EQ(sum_of(r), uint64_t{h} * w);
      } catch (const RleError&) {
      }
    }
  }
}

TEST(RleFuzz, RandomUncompressedSegmentations) {
  std::mt19937_64 rng(5);
  for (int it = 0; it < 5000; ++it) {
    const uint32_t h = rng() % 20, w = rng() % 20;
    UncompressedRle u{h, w, {}};
    const size_t n = rng() % 12;
    for (size_t i = 0; i < n; ++i) u.counts.push_back(static_cast<uint32_t>(rng() % 3 == 0 ? rng() : rng() % 40));
    try {
      const Rle r = to_rle(u, h, w, rng() % 2);
      ASSERT_EQ(sum_of(r), uint64_t{h} * w);
      ASSERT_EQ(decode(r).size(), size_t{h} * w);
    } catch (const RleError&) {
    }
  }
}

}  // namespace
}  // namespace glamm::mask
