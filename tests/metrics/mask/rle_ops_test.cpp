// RLE encode/decode/area/toBbox/merge/iou/bbIou on small hand-checked masks (spec mask-metrics.md §2.1, §2.3).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/mask/rle.h"

namespace glamm::mask {
namespace {

using Counts = std::vector<uint32_t>;

/// A mask written as rows of '0'/'1' (row-major, as one reads it), returned column-major for encode().
std::vector<uint8_t> colmajor(const std::vector<std::string>& rows) {
  const size_t h = rows.size(), w = rows.empty() ? 0 : rows[0].size();
  std::vector<uint8_t> m(h * w);
  for (size_t y = 0; y < h; ++y)
    for (size_t x = 0; x < w; ++x) m[x * h + y] = rows[y][x] == '1';
  return m;
}

Rle rle_of(const std::vector<std::string>& rows) {
  const auto m = colmajor(rows);
  return encode(m.data(), static_cast<uint32_t>(rows.size()), static_cast<uint32_t>(rows[0].size()));
}

TEST(RleEncode, ColumnMajorRunsStartWithZeroRun) {
  // Column 0 = 0,1 ; column 1 = 1,1 ; column 2 = 0,0 → 0 1 1 1 0 0.
  const Rle r = rle_of({"010", "110"});
  EXPECT_EQ(r.h, 2u);
  EXPECT_EQ(r.w, 3u);
  EXPECT_EQ(r.counts, (Counts{1, 3, 2}));
}

TEST(RleEncode, EmptyFullAndLeadingOne) {
  EXPECT_EQ(rle_of({"000", "000"}).counts, (Counts{6}));
  EXPECT_EQ(rle_of({"111", "111"}).counts, (Counts{0, 6}));
  EXPECT_EQ(rle_of({"10", "00"}).counts, (Counts{0, 1, 3}));
  EXPECT_EQ(encode(nullptr, 0, 5).counts, (Counts{0}));  // no pixels: one zero run, as the C code
}

TEST(RleEncode, AnyByteChangeTogglesLikeTheCCode) {
  // 255 differs from 0 and from 1, so 0,255,1,0 gives four runs although it "means" 0,1,1,0.
  const uint8_t m[4] = {0, 255, 1, 0};
  EXPECT_EQ(encode(m, 4, 1).counts, (Counts{1, 1, 1, 1}));
}

TEST(RleDecode, RoundTripsEncode) {
  const std::vector<std::string> rows = {"0110", "1011", "0001"};
  EXPECT_EQ(decode(rle_of(rows)), colmajor(rows));
}

TEST(RleDecode, RejectsCountsPastTheImage) {
  EXPECT_THROW(decode(Rle{2, 2, {3, 2}}), RleError);
}

TEST(RleDecode, RejectsCountsShortOfTheImage) {
  // 2.0.6 would return uninitialised bytes for the last pixel; we refuse.
  EXPECT_THROW(decode(Rle{2, 2, {1, 2}}), RleError);
}

TEST(RleArea, SumsOddIndexedCounts) {
  EXPECT_EQ(area(Rle{3, 4, {5, 1, 1, 1, 4}}), 2u);
  EXPECT_EQ(area(Rle{3, 4, {12}}), 0u);
  EXPECT_EQ(area(Rle{3, 4, {0, 12}}), 12u);
}

TEST(RleToBbox, SingleColumnRunUsesItsRows) {
  // h=4, w=3: pixels 5,6 are column 1, rows 1..2.
  EXPECT_EQ(to_bbox(Rle{4, 3, {5, 2, 5}}), (Box{1, 1, 1, 2}));
}

TEST(RleToBbox, RunCrossingAColumnTakesTheWholeHeight) {
  // Pixels 2..5: column 0 rows 2..3 and column 1 rows 0..1 → y range [0, 3] even though no column is full.
  EXPECT_EQ(to_bbox(Rle{4, 3, {2, 4, 6}}), (Box{0, 0, 2, 4}));
}

TEST(RleToBbox, SeveralRunsUnion) {
  EXPECT_EQ(to_bbox(rle_of({"00000", "01000", "00000", "00010", "00000"})), (Box{1, 1, 3, 3}));
}

TEST(RleToBbox, EmptyAndFull) {
  EXPECT_EQ(to_bbox(Rle{4, 3, {12}}), (Box{0, 0, 0, 0}));
  EXPECT_EQ(to_bbox(Rle{0, 0, {}}), (Box{0, 0, 0, 0}));
  EXPECT_EQ(to_bbox(Rle{4, 3, {0, 12}}), (Box{0, 0, 3, 4}));
}

TEST(RleToBbox, OddCountListIgnoresTheTrailingZeroRun) {
  EXPECT_EQ(to_bbox(Rle{4, 3, {5, 2, 5}}), to_bbox(Rle{4, 3, {5, 2}}));
}

TEST(RleToBbox, AllForegroundRunsEmptyGivesTheUint32WrapOf206) {
  // Spec §2.3: [0, 0, 12] on h=4, w=3 gives [3, 4, 4294967294, 4294967293] under 2.0.6.
  EXPECT_EQ(to_bbox(Rle{4, 3, {0, 0, 12}}), (Box{3, 4, 4294967294.0, 4294967293.0}));
}

TEST(RleToBbox, EqualsTheCFormulaOnRandomRles) {
  // Runs from 0 to several columns long (so runs within a column, crossing one boundary and spanning many), zero-
  // length runs included, on masks of 1..40 rows and some tall ones; plus counts summing past 2^32-1 (the C code's wrap-around).
  uint64_t state = 12345;
  auto next = [&state](uint32_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>((state >> 33) % n);
  };
  for (int trial = 0; trial < 20000; ++trial) {
    Rle r;
    // Small shapes mostly; every 50th trial a tall one (h up to 2^16 + 40) for the reciprocal division.
    r.h = trial % 50 == 0 ? 1 + next(65536 + 40) : 1 + next(40);
    r.w = trial % 50 == 0 ? 1 + next(60) : 1 + next(40);
    const uint32_t total = r.h * r.w;
    uint32_t left = total;
    while (left > 0) {
      const uint32_t c = std::min(left, next(4) == 0 ? next(3 * r.h + 1) : next(r.h + 1));
      r.counts.push_back(c);
      left -= c;
    }
    if (trial % 100 == 0) r.counts.push_back(next(3));  // odd or even tails, zero-length runs
    ASSERT_EQ(to_bbox(r), to_bbox_reference(r)) << "trial " << trial << " h " << r.h << " w " << r.w;
  }
  const Rle wrap{4, 3, {5, 4294967295u, 7, 2}};  // the sum wraps past 2^32 in the C code's uint32
  EXPECT_EQ(to_bbox(wrap), to_bbox_reference(wrap));
  // Positions near 2^32 - 1 on tall masks (the reciprocal division's whole range).
  for (const uint32_t h : {2u, 3u, 7u, 65535u, 65536u, 65537u, 2147483647u, 4294967295u}) {
    const uint32_t w = static_cast<uint32_t>(std::numeric_limits<uint32_t>::max() / h);
    const uint32_t total = h * w;
    const Rle tail{h, w, {total - 5, 3, 2}};  // a 1-run ending two pixels before the last
    const Rle head{h, w, {0, h + 1, total - h - 1}};  // a 1-run crossing the first column boundary
    EXPECT_EQ(to_bbox(tail), to_bbox_reference(tail)) << "h " << h;
    EXPECT_EQ(to_bbox(head), to_bbox_reference(head)) << "h " << h;
  }
}

TEST(RleMerge, UnionAndIntersectionArePixelwise) {
  const Rle a = rle_of({"110", "100"});
  const Rle b = rle_of({"011", "001"});
  EXPECT_EQ(merge({a, b}, false).counts, rle_of({"111", "101"}).counts);
  EXPECT_EQ(merge({a, b}, true).counts, rle_of({"010", "000"}).counts);
}

TEST(RleMerge, ThreeWayFoldsLeft) {
  const Rle a = rle_of({"1100"}), b = rle_of({"0110"}), c = rle_of({"0111"});
  EXPECT_EQ(merge({a, b, c}, false).counts, (Counts{0, 4}));
  EXPECT_EQ(merge({a, b, c}, true).counts, (Counts{1, 1, 2}));
}

TEST(RleMerge, ZeroOneAndMismatchedInputs) {
  const Rle none = merge({}, false);
  EXPECT_EQ(none.h, 0u);
  EXPECT_EQ(none.w, 0u);
  EXPECT_TRUE(none.counts.empty());

  const Rle one{3, 4, {5, 1, 1, 1, 4}};
  const Rle copy = merge({one}, true);
  EXPECT_EQ(copy.h, 3u);
  EXPECT_EQ(copy.counts, one.counts);

  const Rle mismatch = merge({Rle{3, 4, {12}}, Rle{4, 3, {12}}}, false);
  EXPECT_EQ(mismatch.h, 0u);
  EXPECT_EQ(mismatch.w, 0u);
  EXPECT_TRUE(mismatch.counts.empty());
  EXPECT_EQ(to_string(mismatch), "");
}

TEST(RleMerge, ZeroLengthRunsInTheInputSurviveAsIn206) {
  // The C walk steps over one run per iteration and emits a count at every value change, so the zero-length
  // runs of a non-canonical input come out unchanged (checked against maskApi.c).
  EXPECT_EQ(merge({Rle{1, 6, {2, 0, 0, 2, 2}}, Rle{1, 6, {6}}}, false).counts, (Counts{2, 0, 0, 2, 2}));
  EXPECT_EQ(merge({Rle{1, 6, {2, 2, 2}}, Rle{1, 6, {6}}}, false).counts, (Counts{2, 2, 2}));
}

TEST(RleMerge, SharedZeroLengthRunStopsTheWalkEarlyAsIn206) {
  // {1,0,0,2} is the mask 0 1 1 with two zero-length runs. Both walks reach a zero-length run at pixel 1 at once,
  // so maskApi.c's loop ends: merge keeps only the first run and iou sees no intersection (checked against the
  // 2.0.6 C code). canonical() removes the zero-length runs and gives the true answers.
  const Rle odd{1, 3, {1, 0, 0, 2}};
  EXPECT_EQ(merge({odd, odd}, false).counts, (Counts{1}));
  double o = -5;
  iou({odd}, {odd}, {0}, &o);
  EXPECT_EQ(o, 0.0);
  const Rle fixed = canonical(odd);
  EXPECT_EQ(fixed.counts, (Counts{1, 2}));
  EXPECT_EQ(merge({fixed, fixed}, false).counts, (Counts{1, 2}));
  iou({fixed}, {fixed}, {0}, &o);
  EXPECT_EQ(o, 1.0);
}

TEST(RleCanonical, JoinsAroundZeroLengthRunsKeepingTheLeadingCount) {
  EXPECT_EQ(canonical(Rle{1, 3, {0, 0, 3}}).counts, (Counts{3}));
  EXPECT_EQ(canonical(Rle{1, 4, {0, 0, 0, 4}}).counts, (Counts{0, 4}));
  EXPECT_EQ(canonical(Rle{1, 5, {3, 2, 0}}).counts, (Counts{3, 2}));
  EXPECT_EQ(canonical(Rle{1, 5, {0, 5}}).counts, (Counts{0, 5}));
  EXPECT_EQ(canonical(Rle{2, 3, {1, 2, 0, 1, 2}}).counts, (Counts{1, 3, 2}));
}

TEST(RleMerge, InvalidInputsWithDifferentSumsTerminate) {
  // Counts summing to less than h*w are invalid; 2.0.6 loops forever here. We stop at the shorter input.
  const Rle short_one{1, 4, {1, 1}};
  const Rle full{1, 4, {0, 4}};
  EXPECT_EQ(merge({full, short_one}, true).counts, (Counts{1, 1}));
  double o = -5;
  iou({full}, {short_one}, {0}, &o);
  EXPECT_EQ(o, 1.0 / 2.0);
}

TEST(RleIou, IntersectionOverUnion) {
  const Rle d = rle_of({"1100", "1100"});
  const Rle g = rle_of({"0110", "0110"});
  double o = -5;
  iou({d}, {g}, {0}, &o);
  EXPECT_EQ(o, 2.0 / 6.0);
}

TEST(RleIou, CrowdUsesDetectionAreaAsUnion) {
  const Rle d = rle_of({"1100", "1100"});
  const Rle g = rle_of({"0111", "0111"});
  double o[2];
  iou({d}, {g, g}, {1, 0}, o);
  EXPECT_EQ(o[0], 2.0 / 4.0);  // |d∩g| / |d|
  EXPECT_EQ(o[1], 2.0 / 8.0);
}

TEST(RleIou, OutputIsDetectionMajor) {
  const Rle a = rle_of({"1000"}), b = rle_of({"1100"}), c = rle_of({"0011"});
  std::vector<double> o(6, -5);
  iou({a, b, c}, {b, c}, {0, 0}, o.data());
  EXPECT_EQ(o, (std::vector<double>{0.5, 0, 1, 0, 0, 1}));
}

TEST(RleIou, PointerFormMatchesVectorForm) {
  const Rle a = rle_of({"1000"}), b = rle_of({"1100"}), c = rle_of({"0011"});
  const Rle* dt[] = {&a, &b, &c};
  const Rle* gt[] = {&b, &c};
  const uint8_t crowd[] = {1, 0};
  std::vector<double> o(6, -5), v(6, -5);
  iou(dt, 3, gt, 2, crowd, o.data());
  iou({a, b, c}, {b, c}, {1, 0}, v.data());
  EXPECT_EQ(o, v);
  EXPECT_EQ(o, (std::vector<double>{1, 0, 1, 0, 0, 1}));  // crowd column: |a∩b| / |a| = 1
}

TEST(RleIou, EmptyVsEmptyIsZeroNotNan) {
  const Rle e{2, 2, {4}};
  double o = -5;
  iou({e}, {e}, {0}, &o);
  EXPECT_EQ(o, 0.0);
}

TEST(RleIou, SizeMismatchIsMinusOneOnlyWhenBoxesOverlap) {
  const Rle d{2, 2, {0, 4}};        // 2x2 full: box [0,0,2,2]
  const Rle g_overlap{3, 3, {0, 1, 8}};  // pixel (0,0) of a 3x3: box [0,0,1,1]
  const Rle g_apart{3, 3, {8, 1}};       // pixel (2,2): box [2,2,1,1], touches d's box only at a corner
  double o[2] = {5, 5};
  iou({d}, {g_overlap, g_apart}, {0, 0}, o);
  EXPECT_EQ(o[0], -1.0);
  EXPECT_EQ(o[1], 0.0);
}

TEST(RleIou, EmptyInputsWriteNothing) {
  double sentinel = 7;
  iou({}, {Rle{1, 1, {1}}}, {0}, &sentinel);
  iou({Rle{1, 1, {1}}}, {}, {}, &sentinel);
  EXPECT_EQ(sentinel, 7);
}

TEST(RleIou, CrowdListMustMatchGroundTruth) {
  double o;
  EXPECT_THROW(iou({Rle{1, 1, {1}}}, {Rle{1, 1, {1}}}, {}, &o), std::invalid_argument);
  EXPECT_THROW(bbox_iou({Box{0, 0, 1, 1}}, {Box{0, 0, 1, 1}}, {0, 0}, &o), std::invalid_argument);
}

TEST(BboxIou, OverlapCrowdAndTouching) {
  double o[3];
  bbox_iou({Box{0, 0, 2, 2}}, {Box{1, 1, 2, 2}, Box{1, 1, 2, 2}, Box{2, 0, 1, 1}}, {0, 1, 0}, o);
  EXPECT_EQ(o[0], 1.0 / 7.0);
  EXPECT_EQ(o[1], 1.0 / 4.0);
  EXPECT_EQ(o[2], 0.0);  // sharing an edge is no overlap
}

}  // namespace
}  // namespace glamm::mask
