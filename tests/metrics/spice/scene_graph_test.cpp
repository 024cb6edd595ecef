// SPICE scene graph, tuple sets, matching and F scores on hand-written scene graphs (no parser).
// Synsets come from a small hand-made table so every expected value can be derived by hand from
// specs/caption-metrics.md §6 and SPICE's SceneGraph / TupleSet / Evaluation rules.
#include <cmath>
#include <map>

#include <gtest/gtest.h>

#include "metrics/spice/scene_graph.h"

namespace glamm::spice {
namespace {

SynsetLookup fake_synsets() {
  static const std::map<std::string, std::vector<int>> table = {
      {"man", {1, 2}},   {"guy", {1}},        {"person", {2, 3}}, {"woman", {4}},   {"dog", {5}},
      {"puppy", {5, 6}}, {"hound", {5}},      {"cur", {5, 7}},    {"mutt", {7}},    {"car", {8}},
      {"auto", {8}},     {"automobile", {8}}, {"sit", {10}},      {"perch", {10}},  {"gray", {20}},
      {"grey", {20}},    {"red", {21}},       {"blue", {22}},     {"small", {23}},  {"little", {23, 24}},
      {"two", {30}},     {"three", {31}},     {"ride", {40}},     {"beach", {41}},  {"horse", {42}}};
  return [](const std::string& w) {
    auto it = table.find(w);
    return it == table.end() ? std::vector<int>{} : it->second;
  };
}

SceneGraph graph(const std::vector<RawTuple>& tuples, bool merge = true) {
  SceneGraph g(fake_synsets(), merge);
  for (const auto& t : tuples) g.add_tuple(t);
  return g;
}

Evaluation all_of(const SceneGraph& c, const SceneGraph& r) { return score_image(c, r)[0]; }
Evaluation subset_of(const SceneGraph& c, const SceneGraph& r, Subset s) {
  return score_image(c, r)[static_cast<std::size_t>(s)];
}

TEST(SpiceSceneGraph, IdenticalObjectScoresOne) {
  auto e = all_of(graph({{"dog"}}), graph({{"dog"}}));
  EXPECT_EQ(e.tp, 1);
  EXPECT_EQ(e.fp, 0);
  EXPECT_EQ(e.fn, 0);
  EXPECT_DOUBLE_EQ(e.f, 1.0);
}

TEST(SpiceSceneGraph, SynonymObjectMatchesThroughSharedSynset) {
  auto e = all_of(graph({{"car"}}), graph({{"automobile"}}));
  EXPECT_EQ(e.tp, 1);
  EXPECT_DOUBLE_EQ(e.f, 1.0);
}

TEST(SpiceSceneGraph, UnrelatedObjectsScoreZero) {
  auto e = all_of(graph({{"dog"}}), graph({{"car"}}));
  EXPECT_EQ(e.tp, 0);
  EXPECT_EQ(e.fp, 1);
  EXPECT_EQ(e.fn, 1);
  EXPECT_DOUBLE_EQ(e.pr, 0.0);
  EXPECT_DOUBLE_EQ(e.re, 0.0);
  EXPECT_DOUBLE_EQ(e.f, 0.0);
}

TEST(SpiceSceneGraph, CountAttributeMismatchHalvesScore) {
  // cand (dog),(dog,two); ref (dog),(dog,three): TP 1 of 2 each side → P = R = F = 0.5.
  auto c = graph({{"dog"}, {"dog", "two"}});
  auto r = graph({{"dog"}, {"dog", "three"}});
  auto e = all_of(c, r);
  EXPECT_EQ(e.tp, 1);
  EXPECT_DOUBLE_EQ(e.f, 0.5);
  EXPECT_DOUBLE_EQ(subset_of(c, r, Subset::Object).f, 1.0);
  EXPECT_DOUBLE_EQ(subset_of(c, r, Subset::Cardinality).f, 0.0);
  EXPECT_DOUBLE_EQ(subset_of(c, r, Subset::Attribute).f, 0.0);
}

TEST(SpiceSceneGraph, ColourSubsetCountsOnlyColourAttributes) {
  // cand (car),(car,red),(car,small); ref (car),(car,blue),(car,small).
  auto c = graph({{"car", "red"}, {"car", "small"}});
  auto r = graph({{"car", "blue"}, {"car", "small"}});
  auto color = subset_of(c, r, Subset::Color);
  EXPECT_EQ(color.tp, 0);
  EXPECT_EQ(color.fp, 1);
  EXPECT_EQ(color.fn, 1);
  EXPECT_DOUBLE_EQ(color.f, 0.0);
  auto size = subset_of(c, r, Subset::Size);
  EXPECT_DOUBLE_EQ(size.f, 1.0);
  auto all = all_of(c, r);  // 3 tuples each, TP 2 → 2/3
  EXPECT_EQ(all.tp, 2);
  EXPECT_NEAR(all.f, 2.0 / 3.0, 1e-15);
}

TEST(SpiceSceneGraph, GreyMatchesGrayAsColour) {
  auto e = subset_of(graph({{"car", "grey"}}), graph({{"car", "gray"}}), Subset::Color);
  EXPECT_EQ(e.tp, 1);
  EXPECT_DOUBLE_EQ(e.f, 1.0);
}

TEST(SpiceSceneGraph, MergedColourAttributeLeavesColourSubset) {
  // Both gray and grey on one node merge into one attribute "gray/grey", whose toString is in no word list:
  // the ref has no colour tuple, so Color is NaN, while All has (car), (car, gray/grey).
  auto r = graph({{"car", "gray"}, {"car", "grey"}});
  ASSERT_EQ(r.nodes().size(), 1u);
  ASSERT_EQ(r.nodes()[0].attributes.size(), 1u);
  EXPECT_EQ(r.nodes()[0].attributes[0].to_string(), "gray/grey");
  auto c = graph({{"car", "gray"}});
  EXPECT_TRUE(std::isnan(subset_of(c, r, Subset::Color).f));
  EXPECT_DOUBLE_EQ(all_of(c, r).f, 1.0);
}

TEST(SpiceSceneGraph, RelationMatchesWithSynonymPredicate) {
  // cand (man, sit, horse) vs ref (guy, perch, horse): guy merges nowhere (own graph) but shares synset 1 with man.
  auto c = graph({{"man", "horse", "sit"}});
  auto r = graph({{"guy", "horse", "perch"}});
  auto rel = subset_of(c, r, Subset::Relation);
  EXPECT_EQ(rel.tp, 1);
  EXPECT_DOUBLE_EQ(rel.f, 1.0);
  EXPECT_DOUBLE_EQ(all_of(c, r).f, 1.0);  // (man),(horse),(man,sit,horse) all matched
}

TEST(SpiceSceneGraph, RelationWithWrongObjectDoesNotMatch) {
  auto c = graph({{"man", "horse", "ride"}});
  auto r = graph({{"man", "beach", "ride"}});
  auto e = all_of(c, r);  // cand (horse),(man),(man,ride,horse); ref (beach),(man),(man,ride,beach)
  EXPECT_EQ(e.tp, 1);
  EXPECT_NEAR(e.f, 1.0 / 3.0, 1e-15);
  EXPECT_DOUBLE_EQ(subset_of(c, r, Subset::Relation).f, 0.0);
}

TEST(SpiceSceneGraph, LeadingBeIsRemovedFromRelation) {
  auto g = graph({{"dog", "car", "be in"}});
  ASSERT_EQ(g.edges().size(), 1u);
  EXPECT_EQ(g.edges()[0].relation.to_string(), "in");
}

TEST(SpiceSceneGraph, RepeatedContentIsNotPenalised) {
  auto c = graph({{"dog"}, {"dog"}, {"dog", "small"}, {"dog", "small"}, {"dog", "car", "in"}, {"dog", "car", "in"}});
  EXPECT_EQ(c.nodes().size(), 2u);
  EXPECT_EQ(c.edges().size(), 1u);
  auto r = graph({{"dog", "small"}, {"dog", "car", "in"}});
  auto e = all_of(c, r);
  EXPECT_EQ(e.tp, 4);
  EXPECT_EQ(e.fp, 0);
  EXPECT_DOUBLE_EQ(e.f, 1.0);
}

TEST(SpiceSceneGraph, SimilarNodesMergeIntoOneConcept) {
  // man {1,2} then guy {1}: similarity 1/2 > 0 → guy merges into man's node.
  auto g = graph({{"man"}, {"guy"}});
  ASSERT_EQ(g.nodes().size(), 1u);
  EXPECT_EQ(g.nodes()[0].object.to_string(), "guy/man");
  EXPECT_EQ(g.nodes()[0].object.synsets, (std::vector<int>{1, 2}));
}

TEST(SpiceSceneGraph, MergeGoesToMostSimilarNode) {
  // nodes man {1,2} and woman {4}; person {2,3}: Jaccard with man 1/3, with woman 0 → into man.
  auto g = graph({{"man"}, {"woman"}, {"person"}});
  ASSERT_EQ(g.nodes().size(), 2u);
  EXPECT_EQ(g.nodes()[0].object.to_string(), "man/person");
  EXPECT_EQ(g.nodes()[0].object.synsets, (std::vector<int>{1, 2, 3}));
  // little {23,24}: Jaccard with small {23} is 1/2 → merges.
  auto h = graph({{"dog"}, {"small"}, {"little"}});
  EXPECT_EQ(h.nodes().size(), 2u);
}

TEST(SpiceSceneGraph, NoMergingWhenDisabled) {
  auto g = graph({{"man"}, {"guy"}}, /*merge=*/false);
  EXPECT_EQ(g.nodes().size(), 2u);
}

TEST(SpiceSceneGraph, SimilarRelationsMergeIntoFirst) {
  auto g = graph({{"man", "horse", "sit"}, {"man", "horse", "perch"}, {"man", "horse", "ride"}});
  ASSERT_EQ(g.edges().size(), 2u);
  EXPECT_EQ(g.edges()[0].relation.to_string(), "perch/sit");
  EXPECT_EQ(g.edges()[1].relation.to_string(), "ride");
}

TEST(SpiceSceneGraph, MergedReferenceNodeCanBeMatchedTwice) {
  // Ref: hound {5} then cur {5,7} merge into one node {hound,cur} {5,7}. Cand: hound {5} and mutt {7} are
  // disjoint, so two nodes; both are similar to the one ref tuple (ref tuples are reused): TP 2, FP 0,
  // FN = 1 − 2 = −1, R = 2/1 = 2, P = 1, F = 2·2/3 — SPICE's count can exceed the ref size.
  auto c = graph({{"hound"}, {"mutt"}});
  auto r = graph({{"hound"}, {"cur"}});
  ASSERT_EQ(c.nodes().size(), 2u);
  ASSERT_EQ(r.nodes().size(), 1u);
  auto e = all_of(c, r);
  EXPECT_EQ(e.tp, 2);
  EXPECT_EQ(e.fn, -1);
  EXPECT_DOUBLE_EQ(e.re, 2.0);
  EXPECT_DOUBLE_EQ(e.pr, 1.0);
  EXPECT_NEAR(e.f, 4.0 / 3.0, 1e-15);
}

TEST(SpiceSceneGraph, PrecisionAndRecallAsymmetry) {
  // cand: (dog),(dog,small),(car),(car,red); ref: (dog),(dog,small) → TP 2, P 0.5, R 1, F 2/3.
  auto e = all_of(graph({{"dog", "small"}, {"car", "red"}}), graph({{"dog", "small"}}));
  EXPECT_EQ(e.tp, 2);
  EXPECT_DOUBLE_EQ(e.pr, 0.5);
  EXPECT_DOUBLE_EQ(e.re, 1.0);
  EXPECT_NEAR(e.f, 2.0 / 3.0, 1e-15);
}

TEST(SpiceSceneGraph, EmptyCandidateScoresZeroAndSubsetsWithoutRefAreNaN) {
  auto c = graph({});
  auto r = graph({{"dog"}});
  auto s = score_image(c, r);
  EXPECT_DOUBLE_EQ(s[0].f, 0.0);
  EXPECT_DOUBLE_EQ(s[static_cast<int>(Subset::Object)].f, 0.0);
  EXPECT_TRUE(std::isnan(s[static_cast<int>(Subset::Attribute)].f));
  EXPECT_TRUE(std::isnan(s[static_cast<int>(Subset::Relation)].f));
}

TEST(SpiceSceneGraph, EmptyReferenceAllIsZeroNotNaN) {
  auto s = score_image(graph({{"dog"}}), graph({}));
  EXPECT_DOUBLE_EQ(s[0].f, 0.0);
  EXPECT_EQ(s[0].fp, 1);
  EXPECT_TRUE(std::isnan(s[static_cast<int>(Subset::Object)].f));
}

TEST(SpiceSceneGraph, MacroAverageSkipsNaNImages) {
  Evaluation a;
  a.f = 0.5, a.pr = 0.5, a.re = 0.5, a.tp = 1, a.fp = 1, a.fn = 1;
  Evaluation b;
  b.f = b.pr = b.re = std::nan("");
  b.fp = 2;
  Evaluation c;
  c.f = 1.0, c.pr = 1.0, c.re = 1.0, c.tp = 3;
  auto m = macro_average({a, b, c});
  EXPECT_DOUBLE_EQ(m.f, 0.75);
  EXPECT_EQ(m.num_images, 2);
  EXPECT_EQ(m.tp, 4);
  EXPECT_EQ(m.fp, 3);
  EXPECT_TRUE(std::isnan(macro_average({b}).f));
}

TEST(SpiceSceneGraph, TupleSetListsObjectsAttributesRelations) {
  auto g = graph({{"dog", "small"}, {"dog", "car", "in"}, {"car", "red"}});
  auto all = tuples_of(g);
  ASSERT_EQ(all.size(), 5u);  // (car),(car,red),(dog),(dog,small),(dog,in,car)
  EXPECT_EQ(all[0].to_string(), "(car)");
  EXPECT_EQ(all[1].to_string(), "(car,red)");
  EXPECT_EQ(all[2].to_string(), "(dog)");
  EXPECT_EQ(all[3].to_string(), "(dog,in,car)");
  EXPECT_EQ(all[4].to_string(), "(dog,small)");
  EXPECT_EQ(tuples_of(g, Subset::Object).size(), 2u);
  EXPECT_EQ(tuples_of(g, Subset::Attribute).size(), 2u);
  EXPECT_EQ(tuples_of(g, Subset::Relation).size(), 1u);
  EXPECT_EQ(tuples_of(g, Subset::Color).size(), 1u);
  EXPECT_EQ(tuples_of(g, Subset::Size).size(), 1u);
}

TEST(SpiceSceneGraph, ReferencesMergeIntoOneGraph) {
  // Two refs "a man rides a horse" / "a guy on a beach" merged: man/guy one node; tuples (beach),(guy/man),
  // (horse),(guy/man,ride,horse),(guy/man,on,beach) = 5. Candidate (man),(horse),(man,ride,horse): TP 3,
  // P 1, R 3/5, F = 2·0.6/1.6 = 0.75.
  auto r = graph({{"man"}, {"horse"}, {"man", "horse", "ride"}, {"guy"}, {"beach"}, {"guy", "beach", "on"}});
  EXPECT_EQ(tuples_of(r).size(), 5u);
  auto e = all_of(graph({{"man"}, {"horse"}, {"man", "horse", "ride"}}), r);
  EXPECT_EQ(e.tp, 3);
  EXPECT_DOUBLE_EQ(e.re, 0.6);
  EXPECT_DOUBLE_EQ(e.f, 0.75);
}

TEST(SpiceSceneGraph, WordMatchWithoutSynsets) {
  // Words unknown to the synset table still match by equal word.
  auto e = all_of(graph({{"frisbee", "zorb", "throw"}}), graph({{"frisbee", "zorb", "throw"}}));
  EXPECT_EQ(e.tp, 3);
  EXPECT_DOUBLE_EQ(e.f, 1.0);
}

}  // namespace
}  // namespace glamm::spice
