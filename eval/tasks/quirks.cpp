#include "eval/tasks/quirks.h"

#include <algorithm>

namespace glamm::tasks {

namespace {
/// "q1-q7, q13" from the numbered ids, ranges of consecutive numbers collapsed; "" when none is numbered.
std::string id_ranges(const std::vector<Quirk>& quirks) {
  std::vector<int> nums;
  for (const Quirk& q : quirks)
    if (q.id.size() > 1 && q.id[0] == 'q') nums.push_back(std::stoi(q.id.substr(1)));
  std::sort(nums.begin(), nums.end());
  nums.erase(std::unique(nums.begin(), nums.end()), nums.end());
  std::string out;
  for (std::size_t i = 0; i < nums.size();) {
    std::size_t j = i;
    while (j + 1 < nums.size() && nums[j + 1] == nums[j] + 1) ++j;
    if (!out.empty()) out += ", ";
    out += "q" + std::to_string(nums[i]);
    if (j > i) out += "-q" + std::to_string(nums[j]);
    i = j + 1;
  }
  return out;
}
}  // namespace

std::string QuirkTable::help_text() const {
  std::string s = summary + " (docs/quirks.md, " + command + ")";
  for (std::size_t i = 0; i < quirks.size(); ++i) {
    s += i == 0 ? ": " : "; ";
    s += quirks[i].help;
    if (!quirks[i].id.empty()) s += " (" + quirks[i].id + ")";
  }
  return s;
}

std::string QuirkTable::strict_line() const {
  const std::string ids = id_ranges(quirks);
  std::string s = "strict: " + summary + " (docs/quirks.md" + (ids.empty() ? "" : " " + ids) + ")";
  if (!strict_note.empty()) s += "; " + strict_note;
  return s;
}

std::string QuirkTable::signature_value(bool strict) const {
  if (!strict) return "off";
  std::string s;
  for (const Quirk& q : quirks)
    if (!q.signature.empty()) s += (s.empty() ? "" : ",") + q.signature;
  return "on(" + s + ")";
}

}  // namespace glamm::tasks
