// Test-only oracle for the METEOR aligner: the array-copying beam search the project used before the delta states
// (compiled into meteor_unit only). Same matchers, same beam order and PARTIAL_COMPARE_TOTAL ordering.
#pragma once

#include "metrics/meteor/aligner.h"

namespace glamm::meteor::oracle {

/// Same contract as glamm::meteor::align (hypothesis `test`, reference `ref`, 3 or 4 modules, paraphrase table
/// for module 4), computed with one full copy of the match/used arrays per search state: O(n) per state.
AlignmentResult align_oracle(const Sentence& test, const Sentence& ref, int n_modules, const ParaphraseTable* para);

}  // namespace glamm::meteor::oracle
