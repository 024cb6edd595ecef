// METEOR's paraphrase table as result records state it (signature key meteor_paraphrase): whether a run's METEOR
// numbers can stand beside pycocoevalcap's (published) ones, for `table` markers and `compare` refusals.
#pragma once

#include <string>

#include "reports/record.h"

namespace glamm::reports {

/// The record's METEOR paraphrase state, normalised: "official" (pycocoevalcap's paraphrase-en.gz), "other:<12 hex
/// of the table's SHA-256>", "off", "unidentified" for records written before tables were identified (their value
/// was "on(PATH)"), or "" when the signature has no meteor_paraphrase entry (no METEOR in the run).
std::string meteor_paraphrase_of(const RunRecord& r);

/// Why the record's METEOR is not comparable with published rows ("" when it is, or when it has no METEOR):
/// "METEOR without paraphrase matching", "METEOR with another paraphrase table (other:…)", or
/// "METEOR paraphrase table not identified (older record)".
std::string meteor_paraphrase_problem(const RunRecord& r);

}  // namespace glamm::reports
