// Reading rows of a rendered Markdown table in the reports tests.
#pragma once

#include <string>
#include <vector>

namespace glamm::testing {

// The Markdown row whose first cell is `name`, split into trimmed cells (first cell included).
inline std::vector<std::string> md_row_named(const std::string& md, const std::string& name) {
  std::size_t p = md.find("| " + name + " ");
  if (p == std::string::npos) return {};
  const std::string line = md.substr(p, md.find('\n', p) - p);
  std::vector<std::string> cells;
  std::size_t a = 1;
  for (std::size_t b; (b = line.find('|', a)) != std::string::npos; a = b + 1) {
    std::string c = line.substr(a, b - a);
    c.erase(0, c.find_first_not_of(' '));
    c.erase(c.find_last_not_of(' ') + 1);
    cells.push_back(c);
  }
  return cells;
}

}  // namespace glamm::testing
