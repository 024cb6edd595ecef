#include "reports/meteor_paraphrase.h"

namespace glamm::reports {

std::string meteor_paraphrase_of(const RunRecord& r) {
  bool present = false;
  for (const auto& kv : r.signature.fields)
    if (kv.first == "meteor_paraphrase") present = true;
  if (!present) return "";
  const std::string v = r.signature_value("meteor_paraphrase");
  if (v == "official" || v == "off" || v.rfind("other:", 0) == 0) return v;
  return "unidentified";  // "on(PATH)" of older records, or a value this version does not know
}

std::string meteor_paraphrase_problem(const RunRecord& r) {
  const std::string p = meteor_paraphrase_of(r);
  if (p.empty() || p == "official") return "";
  if (p == "off") return "METEOR without paraphrase matching";
  if (p == "unidentified") return "METEOR paraphrase table not identified (older record)";
  return "METEOR with another paraphrase table (" + p + ")";
}

}  // namespace glamm::reports
