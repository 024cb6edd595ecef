// Polygon / box rasterisation (rleFrPoly, rleFrBbox) and the annToRLE dispatch (to_rle), spec mask-metrics.md §2.3.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/mask/rle.h"
#include "metrics/mask/segmentation.h"

namespace glamm::mask {
namespace {

using Counts = std::vector<uint32_t>;

TEST(FromPolygon, RectangleSetsPixelsWhoseCentresAreInside) {
  // Spec check: [1,1,5,1,5,4,1,4] on 6×7 gives 12 px, x 1..4, y 1..3.
  const Rle r = from_polygon({1, 1, 5, 1, 5, 4, 1, 4}, 6, 7);
  EXPECT_EQ(r.h, 6u);
  EXPECT_EQ(r.w, 7u);
  EXPECT_EQ(area(r), 12u);
  EXPECT_EQ(r.counts, (Counts{7, 3, 3, 3, 3, 3, 3, 3, 14}));
  EXPECT_EQ(to_bbox(r), (Box{1, 1, 4, 3}));
}

TEST(FromPolygon, PolygonBeyondTheImageIsClipped) {
  // Spec check "area 30 for 5×6": a polygon around the whole 5-row, 6-column image fills it.
  const Rle all = from_polygon({-3, -2, 20, -2, 20, 15, -3, 15}, 5, 6);
  EXPECT_EQ(all.counts, (Counts{0, 30}));
  // Only its corner inside: centres x+0.5 in (3, 10), y+0.5 in (-4, 2) → x 3..5, y 0..1.
  const Rle corner = from_polygon({3, -4, 10, -4, 10, 2, 3, 2}, 5, 6);
  EXPECT_EQ(area(corner), 6u);
  EXPECT_EQ(to_bbox(corner), (Box{3, 0, 3, 2}));
}

TEST(FromPolygon, HalfIntegerEdgesThroughPixelCentresFromTheLeft) {
  // x from -0.5 to 3.5 covers centres 0..3 (the clipped negative part maps through C truncation).
  const Rle r = from_polygon({-0.5, 0.5, 3.5, 0.5, 3.5, 2.5, -0.5, 2.5}, 4, 4);
  EXPECT_EQ(area(r), 8u);
  EXPECT_EQ(to_bbox(r), (Box{0, 1, 4, 2}));
}

TEST(FromPolygon, OddLengthListDropsTheLastNumber) {
  EXPECT_EQ(from_polygon({1, 1, 5, 1, 5, 4, 1, 4, 99}, 6, 7).counts,
            from_polygon({1, 1, 5, 1, 5, 4, 1, 4}, 6, 7).counts);
}

TEST(FromPolygon, FewerThanThreeVerticesGiveAnEmptyMask) {
  EXPECT_EQ(from_polygon({}, 6, 7).counts, (Counts{42}));
  EXPECT_EQ(from_polygon({2, 3}, 6, 7).counts, (Counts{42}));
  EXPECT_EQ(from_polygon({1, 1, 5, 5}, 6, 7).counts, (Counts{42}));
  EXPECT_EQ(from_polygon({1, 1, 5, 5, 7}, 6, 7).counts, (Counts{42}));
}

// Expected strings below were produced by pycocotools 2.0.6's own common/maskApi.c (rleFrPoly + rleToString),
// compiled in a scratch harness; they pin slanted edges, concavity, self-intersection and negative vertices.
TEST(FromPolygon, MatchesMaskApiOnSlantedConcaveAndSelfIntersectingPolygons) {
  const Rle tri = from_polygon({-1.3, 2.2, 4.7, -0.9, 3.1, 6.6}, 6, 5);
  EXPECT_EQ(to_string(tri), "1331N76");
  EXPECT_EQ(tri.counts, (Counts{1, 3, 3, 4, 1, 11, 7}));
  const Rle concave = from_polygon({0.5, 0.5, 6.5, 0.5, 6.5, 5.5, 3.5, 2.5, 0.5, 5.5}, 7, 8);
  EXPECT_EQ(to_string(concave), "843O1O1001O15");
  EXPECT_EQ(area(concave), 18u);
  // Even-odd: the bow tie's two triangles are set, nothing is doubled.
  const Rle bowtie = from_polygon({0, 0, 6, 6, 6, 0, 0, 6}, 7, 7);
  EXPECT_EQ(to_string(bowtie), "053N2N10O2N26");
  EXPECT_EQ(area(bowtie), 18u);
}

TEST(FromPolygon, RejectsNonFiniteAndHugeCoordinates) {
  EXPECT_THROW(from_polygon({0, 0, 3, 0, std::nan(""), 3}, 4, 4), RleError);
  EXPECT_THROW(from_polygon({0, 0, 3, 0, std::numeric_limits<double>::infinity(), 3}, 4, 4), RleError);
  EXPECT_THROW(from_polygon({0, 0, 3e8, 0, 3, 3}, 4, 4), RleError);
  EXPECT_NO_THROW(from_polygon({0, 0, 1e5, 0, 3, 3}, 4, 4));  // far outside but well defined: clipped
}

TEST(FromBbox, BoxIsItsFourCornerPolygon) {
  // Spec check: [1,1,3,2] gives area 6 (x 1..3, y 1..2).
  const Rle r = from_bbox(Box{1, 1, 3, 2}, 6, 7);
  EXPECT_EQ(area(r), 6u);
  EXPECT_EQ(to_bbox(r), (Box{1, 1, 3, 2}));
  EXPECT_EQ(r.counts, from_polygon({1, 1, 1, 3, 4, 3, 4, 1}, 6, 7).counts);
}

// ---- to_rle (annToRLE) ----

TEST(ToRle, SinglePolygonPartIsItsRasterisation) {
  const Segmentation seg = Polygons{{{1, 1, 5, 1, 5, 4, 1, 4}}};
  EXPECT_EQ(to_rle(seg, 6, 7).counts, from_polygon({1, 1, 5, 1, 5, 4, 1, 4}, 6, 7).counts);
}

TEST(ToRle, PolygonPartsAreUnitedNotXored) {
  // Two 4×4 squares overlapping in 2×2: union 28 px (a single even-odd ring pair would give 24).
  const Segmentation seg = Polygons{{{0, 0, 4, 0, 4, 4, 0, 4}, {2, 2, 6, 2, 6, 6, 2, 6}}};
  const Rle r = to_rle(seg, 8, 8);
  EXPECT_EQ(area(r), 28u);
  EXPECT_EQ(to_bbox(r), (Box{0, 0, 6, 6}));
}

TEST(ToRle, FourNumberFirstPartIsTheFrBboxTypeErrorOf206) {
  const Segmentation seg = Polygons{{{1, 1, 5, 5}, {1, 1, 5, 1, 5, 4, 1, 4}}};
  try {
    to_rle(seg, 6, 7);
    FAIL() << "a 4-number first polygon part was accepted";
  } catch (const RleError& e) {
    EXPECT_NE(std::string(e.what()).find("polygon with 2 points (4 numbers)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(to_rle(seg, 6, 7, /*strict=*/true), RleError);
}

TEST(ToRle, EmptyListAndTooShortFirstPartAreErrors) {
  EXPECT_THROW(to_rle(Polygons{}, 6, 7), RleError);
  EXPECT_THROW(to_rle(Polygons{{{}}}, 6, 7), RleError);
  EXPECT_THROW(to_rle(Polygons{{{1, 2, 3}}}, 6, 7), RleError);
}

TEST(ToRle, ShortLaterPartsAddNothingByDefaultAndAreRejectedWhenStrict) {
  const std::vector<double> rect = {1, 1, 5, 1, 5, 4, 1, 4};
  const Rle alone = to_rle(Polygons{{rect}}, 6, 7);
  const std::vector<std::vector<double>> extras = {{}, {2, 2}, {0, 0, 6, 6}, {0, 0, 6, 6, 1}};
  for (const std::vector<double>& extra : extras) {
    const Segmentation seg = Polygons{{rect, extra}};
    EXPECT_EQ(to_rle(seg, 6, 7).counts, alone.counts) << extra.size() << " numbers";
    EXPECT_THROW(to_rle(seg, 6, 7, /*strict=*/true), RleError) << extra.size() << " numbers";
  }
}

TEST(ToRle, OddLengthPartDropsLastNumberByDefaultAndIsRejectedWhenStrict) {
  const Segmentation odd = Polygons{{{1, 1, 5, 1, 5, 4, 1, 4, 3}}};
  EXPECT_EQ(area(to_rle(odd, 6, 7)), 12u);
  EXPECT_THROW(to_rle(odd, 6, 7, /*strict=*/true), RleError);
}

TEST(ToRle, UncompressedRleKeepsItsOwnSize) {
  const Segmentation seg = UncompressedRle{3, 4, {5, 1, 1, 1, 4}};
  const Rle r = to_rle(seg, 100, 200);  // image size ignored, as frUncompressedRLE
  EXPECT_EQ(r.h, 3u);
  EXPECT_EQ(r.w, 4u);
  EXPECT_EQ(r.counts, (Counts{5, 1, 1, 1, 4}));
  EXPECT_THROW(to_rle(seg, 100, 200, /*strict=*/true), RleError);
  EXPECT_NO_THROW(to_rle(seg, 3, 4, /*strict=*/true));
}

TEST(ToRle, UncompressedCountsMustCoverTheMask) {
  EXPECT_THROW(to_rle(UncompressedRle{3, 4, {5, 1}}, 3, 4), RleError);
  EXPECT_THROW(to_rle(UncompressedRle{3, 4, {5, 10}}, 3, 4), RleError);
}

TEST(ToRle, StrictMakesRlesCanonical) {
  const Segmentation seg = UncompressedRle{1, 3, {1, 0, 0, 2}};
  EXPECT_EQ(to_rle(seg, 1, 3).counts, (Counts{1, 0, 0, 2}));  // default: as given, like frUncompressedRLE
  EXPECT_EQ(to_rle(seg, 1, 3, /*strict=*/true).counts, (Counts{1, 2}));
}

TEST(ToRle, CompressedRleIsDecodedAsIs) {
  const Rle r = to_rle(CompressedRle{20, 19, "T3X1T300"}, 480, 640);
  EXPECT_EQ(r.h, 20u);
  EXPECT_EQ(r.counts, (Counts{100, 40, 100, 40, 100}));
  EXPECT_THROW(to_rle(CompressedRle{20, 19, "T3X1T300"}, 480, 640, /*strict=*/true), RleError);
  EXPECT_THROW(to_rle(CompressedRle{20, 19, "T3X1T3"}, 20, 19), RleError);
}

}  // namespace
}  // namespace glamm::mask
