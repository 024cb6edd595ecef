// GLaMM mIoU / recall / refseg: official behaviour and the --strict variants, on hand-built 4×4 masks.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/mask/glamm_metrics.h"

using glamm::mask::Rle;

namespace {
// 4×4 masks, column-major: column c covers linear indices 4c..4c+3.
Rle column(int c) {
  if (c == 0) return Rle{4, 4, {0, 4, 12}};
  if (c == 3) return Rle{4, 4, {12, 4}};
  return Rle{4, 4, {static_cast<uint32_t>(4 * c), 4, static_cast<uint32_t>(12 - 4 * c)}};
}
Rle empty() { return Rle{4, 4, {16}}; }
Rle columns01() { return Rle{4, 4, {0, 8, 8}}; }
}  // namespace

TEST(GcgMiou, OnePerfectPairPlusFalsePositivesScoresOneOfficially) {
  std::vector<Rle> preds = {column(0), column(3), column(3), column(3), column(3), column(3)};
  std::vector<Rle> gts = {column(0)};
  auto off = glamm::mask::gcg_image_miou(preds, gts, false);
  EXPECT_EQ(off.miou, 1.0);
  ASSERT_EQ(off.pairs.size(), 1u);
  auto st = glamm::mask::gcg_image_miou(preds, gts, true);
  EXPECT_DOUBLE_EQ(st.miou, 1.0 / 6.0);  // five unmatched predictions count as IoU 0
}

TEST(GcgMiou, EmptyVsEmptyNaNKillsTheImageUnlessStrict) {
  std::vector<Rle> preds = {empty()};
  std::vector<Rle> gts = {empty(), column(1)};
  auto off = glamm::mask::gcg_image_miou(preds, gts, false);
  EXPECT_EQ(off.miou, 0.0);
  EXPECT_TRUE(off.pairs.empty());
  auto st = glamm::mask::gcg_image_miou(preds, gts, true);
  ASSERT_EQ(st.pairs.size(), 1u);
  EXPECT_EQ(st.pairs[0], 1.0);
  EXPECT_EQ(st.miou, 0.5);  // 1 / max(1 pred, 2 gts)
}

TEST(GcgMiou, GreedyTakesFirstMaximumInRowMajorOrder) {
  // IoU matrix (rows = preds): pred0 = cols 0-1 → [0.5, 0.5]; pred1 = col 1 → [0, 1]. The maximum (pred1, gt1)
  // goes first, then pred0 pairs with the remaining gt0 at 0.5.
  std::vector<Rle> preds = {columns01(), column(1)};
  std::vector<Rle> gts = {column(0), column(1)};
  auto r = glamm::mask::gcg_image_miou(preds, gts, false);
  ASSERT_EQ(r.pairs.size(), 2u);
  EXPECT_EQ(r.pairs[0], 1.0);
  EXPECT_EQ(r.pairs[1], 0.5);
  EXPECT_EQ(r.miou, 0.75);
}

TEST(GcgMiou, SizeMismatchThrows) {
  std::vector<Rle> preds = {Rle{2, 8, {16}}};
  std::vector<Rle> gts = {column(0)};
  EXPECT_THROW(glamm::mask::gcg_image_miou(preds, gts, false), glamm::mask::RleError);
}

TEST(GcgRecall, FirstRejectedPairBreaksOfficiallyButNotInStrict) {
  // IoU(gt0, pred0) = 1 but their phrases disagree (0.3); (gt1, pred1) is admissible (IoU 1, similarity 0.9).
  std::vector<Rle> gts = {column(0), column(2)};
  std::vector<Rle> preds = {column(0), column(2)};
  auto sim = [](std::size_t i, std::size_t j) { return (i == 0 && j == 0) ? 0.3 : (i == j ? 0.9 : 0.0); };
  auto off = glamm::mask::gcg_image_recall(gts, 2, preds, 2, sim, 0.5, 0.5, false);
  EXPECT_EQ(off.positives, 2u);
  EXPECT_TRUE(off.matches.empty());  // the (0,0) pair fails the text gate → break
  auto st = glamm::mask::gcg_image_recall(gts, 2, preds, 2, sim, 0.5, 0.5, true);
  ASSERT_EQ(st.matches.size(), 1u);
  EXPECT_EQ(st.matches[0], std::make_pair(std::size_t{1}, std::size_t{1}));
}

TEST(GcgRecall, NaNPairAcceptedOfficiallyRejectedStrict) {
  std::vector<Rle> gts = {empty()}, preds = {empty()};
  auto sim = [](std::size_t, std::size_t) { return 0.9; };
  EXPECT_EQ(glamm::mask::gcg_image_recall(gts, 1, preds, 1, sim, 0.5, 0.5, false).matches.size(), 1u);
  EXPECT_EQ(glamm::mask::gcg_image_recall(gts, 1, preds, 1, sim, 0.5, 0.5, true).matches.size(), 0u);
}

TEST(GcgRecall, MaskBeyondLabelsIsIndexErrorSkipOfficially) {
  std::vector<Rle> gts = {column(1)};
  std::vector<Rle> preds = {column(3), column(1)};  // best IoU at pred index 1, but only one predicted label
  auto sim = [](std::size_t, std::size_t) { return 0.9; };
  auto off = glamm::mask::gcg_image_recall(gts, 1, preds, 1, sim, 0.5, 0.5, false);
  EXPECT_EQ(off.positives, 1u);  // counted before the failure
  EXPECT_TRUE(off.matches.empty());
  EXPECT_EQ(off.skipped, "IndexError: index 1 is out of bounds for axis 1 with size 1");
  auto st = glamm::mask::gcg_image_recall(gts, 1, preds, 1, sim, 0.5, 0.5, true);
  EXPECT_TRUE(st.skipped.empty());
  EXPECT_TRUE(st.matches.empty());  // pred 0 (the only labelled mask) does not overlap
}

TEST(RefSeg, Float32EpsilonBiasAndEmptyUnion) {
  glamm::mask::RefSegAccumulator off(false), st(true);
  // one target with I = U = 1, one empty-vs-empty target
  std::vector<glamm::mask::RefSegAccumulator::Counts> t = {{1, 1}, {0, 0}};
  auto per_off = off.add_item(t);
  auto per_st = st.add_item(t);
  EXPECT_EQ(per_off[0], static_cast<double>(1.0f / (1.0f + 1e-5f)));
  EXPECT_LT(per_off[0], 1.0);
  EXPECT_EQ(per_off[1], 1.0);
  EXPECT_EQ(per_st[0], 1.0);
  EXPECT_EQ(st.giou(), 1.0);
  EXPECT_LT(off.giou(), 1.0);
  EXPECT_EQ(st.ciou(), 1.0);
}

TEST(RefSeg, IgnoreLabelPixelsCountNowhere) {
  const uint8_t pred[4] = {1, 1, 1, 0};
  const uint8_t gt[4] = {255, 1, 0, 0};
  auto c = glamm::mask::RefSegAccumulator::target_counts(pred, gt, 4);
  EXPECT_EQ(c.intersection, 1);
  EXPECT_EQ(c.union_, 2);
}
