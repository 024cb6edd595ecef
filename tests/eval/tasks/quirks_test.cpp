// The quirk table feeds --help, the printed strict line and the signature from one list.
#include <gtest/gtest.h>

#include "eval/tasks/quirks.h"

namespace glamm::tasks {
namespace {

QuirkTable example() {
  return QuirkTable{"gcg", "Use the corrected GCG variants",
                    {{"q1", "miou_nan_as_1", "empty-vs-empty pairs count IoU 1"},
                     {"q2", "miou_unmatched_count", "unmatched masks count 0"},
                     {"q3", "recall_no_break", "recall keeps looking"},
                     {"q7", "gt_id_zero_matchable", "GT id 0 can match"},
                     {"q5", "recall_no_nan", "no NaN pairs"},
                     {"", "", "caption line breaks become spaces"}},
                    "not comparable to the paper"};
}

TEST(QuirkTable, HelpListsEveryQuirkWithItsNumber) {
  EXPECT_EQ(example().help_text(),
            "Use the corrected GCG variants (docs/quirks.md, gcg): empty-vs-empty pairs count IoU 1 (q1); unmatched "
            "masks count 0 (q2); recall keeps looking (q3); GT id 0 can match (q7); no NaN pairs (q5); caption line breaks "
            "become spaces");
}

TEST(QuirkTable, StrictLineCollapsesConsecutiveNumbers) {
  EXPECT_EQ(example().strict_line(),
            "strict: Use the corrected GCG variants (docs/quirks.md q1-q3, q5, q7); not comparable to the paper");
}

TEST(QuirkTable, SignatureNamesEverySwitchedQuirk) {
  EXPECT_EQ(example().signature_value(false), "off");
  EXPECT_EQ(example().signature_value(true),
            "on(miou_nan_as_1,miou_unmatched_count,recall_no_break,gt_id_zero_matchable,recall_no_nan)");
}

}  // namespace
}  // namespace glamm::tasks
