#include "reports/table.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "common/error.h"
#include "common/result.h"
#include "metrics/spice/spice.h"  // kMetricName only (header constant; reports does not link the scorer)
#include "reports/meteor_paraphrase.h"

namespace glamm::reports {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool matches(const std::vector<std::string>& accepted, const std::string& value) {
  if (accepted.empty()) return true;
  const std::string v = lower(value);
  for (const auto& a : accepted)
    if (lower(a) == v) return true;
  return false;
}

bool column_takes(const PaperColumn& c, const RunRecord& r) {
  return matches(c.datasets, r.dataset) && matches(c.splits, r.split);
}

}  // namespace

std::vector<RunRow> place_runs(const PaperTable& table, const PaperTables& paper, const std::vector<RunRecord>& runs) {
  std::vector<RunRow> rows;
  const std::size_t n = table.num_columns();
  // Per column: the first record placed there (for the variant check).
  std::vector<const RunRecord*> first_in_column(n, nullptr);
  for (const RunRecord& r : runs) {
    if (r.task != table.task)
      throw InputError(r.path, "task",
                       "is a '" + r.task + "' record; Table " + table.id + " shows '" + table.task + "' runs");
    auto row_it = std::find_if(rows.begin(), rows.end(), [&](const RunRow& x) { return x.label == r.label; });
    if (row_it == rows.end()) {
      rows.push_back({r.label, std::vector<RunCell>(n), {}});
      row_it = rows.end() - 1;
    }
    row_it->records.push_back(&r);
    bool placed = false;
    for (std::size_t j = 0; j < n; ++j) {
      const PaperColumn& c = table.column(j);
      if (!column_takes(c, r)) continue;
      placed = true;
      for (const RunRecord* other : row_it->records)
        if (other != &r && column_takes(c, *other))
          throw InputError(r.path, "label " + r.label,
                           "fills column '" + c.name + "' of Table " + table.id + " that " + other->path +
                               " (same label) already fills; give the runs different --label values");
      if (const RunRecord* f = first_in_column[j]) {
        if (metric_variant(*f) != metric_variant(r))
          throw InputError(r.path, "signature",
                           "Table " + table.id + " column '" + c.name + "': refusing to put runs with different "
                           "metric variants in one column:\n  " + f->path + ": " + metric_variant(*f) + "\n  " +
                           r.path + ": " + metric_variant(r));
      } else {
        first_in_column[j] = &r;
      }
      RunCell& cell = row_it->cells[j];
      double v;
      bool found = r.metric(c.metric, v);
      if (!found && c.metric == "SPICE" && r.metric(spice::kMetricName, v)) found = cell.spice_style = true;
      if (found && std::isfinite(v)) {
        const double scaled = paper.is_percent(c.metric) ? v * 100.0 : v;
        cell.text = fmt::format("{:.1f}", scaled);
        cell.shown = std::strtod(cell.text.c_str(), nullptr);
        cell.present = true;
        if (cell.spice_style) cell.text += kSpiceStyleMarker;
      } else {
        cell.spice_style = false;
        cell.text = "n/a";
      }
    }
    if (!placed)
      throw InputError(r.path, "dataset/split",
                       "'" + r.dataset + "' split '" + r.split + "' matches no column of Table " + table.id);
  }
  return rows;
}

std::string delta_row_for(const PaperTable& table, const std::string& label, const std::string& override_row) {
  if (!override_row.empty()) return table.row(override_row).name;
  const std::string l = lower(label);
  for (const auto& rule : table.delta_rules)
    if (l.find(lower(rule.label_contains)) != std::string::npos) return rule.row;
  return table.delta_default_row;
}

namespace {

/// Marker after the label of a run row made from synthetic data (the built-in sample), with its footnote.
constexpr const char* kSyntheticMarker = "\xC2\xB6";  // ¶ (§ marks METEOR without the official paraphrase table)

bool row_is_synthetic(const RunRow& rr) {
  return std::any_of(rr.records.begin(), rr.records.end(), [](const RunRecord* r) { return r->synthetic(); });
}

/// The footnote of a synthetic run row: what its data are and that its values are not comparable.
std::string synthetic_note(const RunRow& rr) {
  return std::string(kSyntheticMarker) + " " + rr.label + ": " + kSyntheticSampleData +
         " data, not the benchmark: glamm-eval's built-in demonstration set (6 tiny generated images). Its values "
         "show that the tool runs; they are no model's score, never compare them with the published rows (never "
         "bold).";
}

/// A record's metric variant for a table note: "key = value" pairs joined by "; ", without file locations
/// (metric_variant) and with long checksums cut to 12 hex digits — readable, not the raw signature string.
std::string readable_variant(const RunRecord& r) {
  const std::string v = metric_variant(r);
  std::string out;
  std::size_t pos = 0;
  while (pos <= v.size() && !v.empty()) {
    std::size_t bar = v.find('|', pos);
    std::string item = v.substr(pos, bar == std::string::npos ? std::string::npos : bar - pos);
    const std::size_t colon = item.find(':');
    std::string key = item.substr(0, colon), value = colon == std::string::npos ? "" : item.substr(colon + 1);
    std::string shortened;
    for (std::size_t i = 0; i < value.size();) {  // runs of ≥ 16 hex digits → 12 digits + "…"
      std::size_t j = i;
      while (j < value.size() && std::isxdigit(static_cast<unsigned char>(value[j]))) ++j;
      if (j - i >= 16) {
        shortened += value.substr(i, 12) + "\xE2\x80\xA6";
        i = j;
      } else if (j > i) {
        shortened += value.substr(i, j - i);
        i = j;
      } else {
        shortened += value[i++];
      }
    }
    if (key != "version") out += (out.empty() ? "" : "; ") + key + " = " + shortened;
    if (bar == std::string::npos) break;
    pos = bar + 1;
  }
  return out;
}

/// A Markdown table cell: '|' escaped as "\\|" and line breaks as spaces, so that a run label (free text from
/// --label) cannot split a row or end the table.
std::string md_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

struct Line {
  std::string name;
  std::vector<std::string> cells;  // printed, with <b>…</b> for bold
  bool published = false;
};

std::string latex_escape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (s.compare(i, 3, "\xE2\x80\xA0") == 0) {  // † 
      out += "\\textsuperscript{\\dag}";
      i += 2;
    } else if (s.compare(i, 3, "\xE2\x80\xA1") == 0) {  // ‡
      out += "\\textsuperscript{\\ddag}";
      i += 2;
    } else if (s.compare(i, 2, "\xC2\xA7") == 0) {  // §
      out += "\\S{}";
      i += 1;
    } else if (s.compare(i, 2, "\xC3\x97") == 0) {  // ×
      out += "$\\times$";
      i += 1;
    } else if (s.compare(i, 2, "\xCE\x94") == 0) {  // Δ
      out += "$\\Delta$";
      i += 1;
    } else if (s.compare(i, 2, "\xC2\xB6") == 0) {  // ¶
      out += "\\P{}";
      i += 1;
    } else if (s.compare(i, 3, "\xE2\x80\xA6") == 0) {  // …
      out += "\\dots{}";
      i += 2;
    } else if (c == '|') {
      out += "\\textbar{}";
    } else if (c == '<') {
      out += "\\textless{}";
    } else if (c == '>') {
      out += "\\textgreater{}";
    } else if (c == '\\') {
      out += "\\textbackslash{}";
    } else if (c == '&' || c == '%' || c == '$' || c == '#' || c == '_' || c == '{' || c == '}') {
      out += '\\';
      out += c;
    } else if (c == '~') {
      out += "\\textasciitilde{}";
    } else if (c == '^') {
      out += "\\textasciicircum{}";
    } else {
      out += c;
    }
  }
  return out;
}

/// A note in LaTeX: text escaped, <b>…</b> (the Markdown/HTML bold of the notes) as \textbf{…}.
std::string latex_note(const std::string& s) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t b = s.find("<b>", pos);
    const std::size_t e = b == std::string::npos ? std::string::npos : s.find("</b>", b + 3);
    if (e == std::string::npos) return out + latex_escape(s.substr(pos));
    out += latex_escape(s.substr(pos, b - pos)) + "\\textbf{" + latex_escape(s.substr(b + 3, e - b - 3)) + "}";
    pos = e + 4;
  }
}

std::string latex_cell(const std::string& cell) {
  return cell_is_bold(cell) ? "\\textbf{" + latex_escape(cell_text(cell)) + "}" : latex_escape(cell);
}

// Display width of UTF-8 text (code points).
std::size_t text_width(const std::string& s) {
  std::size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}

// "NoCap SPICE": the column's group and name.
std::string column_title(const PaperTable& table, std::size_t j) {
  std::size_t k = 0;
  for (const auto& g : table.groups)
    for (const auto& c : g.columns)
      if (k++ == j) return g.name + " " + c.name;
  return table.column(j).name;
}

std::string md_row(const std::vector<std::string>& cells, const std::vector<std::size_t>& width) {
  std::string s = "|";
  for (std::size_t j = 0; j < cells.size(); ++j)
    s += " " + cells[j] + std::string(width[j] - std::min(width[j], text_width(cells[j])), ' ') + " |";
  return s + "\n";
}

// METEOR cells of runs without the official paraphrase table: marked with kMeteorParaphraseMarker, one note per
// run and reason ("not comparable to published rows: ...").
void mark_meteor_paraphrase(const PaperTable& table, std::vector<RunRow>& rows, std::vector<std::string>& notes) {
  for (RunRow& rr : rows) {
    std::vector<std::pair<std::string, std::string>> why_cols;  // reason → columns
    for (std::size_t j = 0; j < table.num_columns(); ++j) {
      const PaperColumn& c = table.column(j);
      RunCell& cell = rr.cells[j];
      if (c.metric != "METEOR" || !cell.present) continue;
      for (const RunRecord* r : rr.records) {
        if (!column_takes(c, *r)) continue;
        const std::string why = meteor_paraphrase_problem(*r);
        if (why.empty()) continue;
        cell.meteor_unofficial = true;
        cell.text += kMeteorParaphraseMarker;
        auto it = std::find_if(why_cols.begin(), why_cols.end(), [&](const auto& x) { return x.first == why; });
        if (it == why_cols.end()) why_cols.emplace_back(why, column_title(table, j));
        else it->second += ", " + column_title(table, j);
      }
    }
    for (const auto& [why, cols] : why_cols)
      notes.push_back(std::string(kMeteorParaphraseMarker) + " " + rr.label + " (" + cols +
                      "): not comparable to published rows: " + why + ".");
  }
}

/// The table's lines (published rows when shown, run rows with bold marks, Δ rows) and the METEOR-paraphrase notes.
std::vector<Line> table_lines(const PaperTable& table, std::vector<RunRow>& run_rows, bool with_paper,
                              const TableOptions& opt, std::vector<std::string>& meteor_notes) {
  const std::size_t n = table.num_columns();

  // Bold for run cells: strictly greater than every other shown row's printed value in that column.
  std::vector<Line> lines;
  if (with_paper)
    for (const auto& r : table.rows) lines.push_back({r.name, r.cells, true});
  mark_meteor_paraphrase(table, run_rows, meteor_notes);
  for (std::size_t k = 0; k < run_rows.size(); ++k) {
    const RunRow& rr = run_rows[k];
    const bool synthetic = row_is_synthetic(rr);
    Line line{synthetic ? rr.label + " " + kSyntheticMarker : rr.label, {}, false};
    for (std::size_t j = 0; j < n; ++j) {
      const RunCell& c = rr.cells[j];
      if (!c.present) {
        line.cells.push_back(c.text.empty() ? "-" : c.text);
        continue;
      }
      // A SPICE-style cell is another metric than the published (Java) SPICE: never bold beside those rows.
      // Nor is a cell METEOR computed without the official paraphrase table, nor a run on synthetic data (the built-in
      // sample), whose values are no model's score.
      bool best = !(with_paper && (c.spice_style || c.meteor_unofficial)) && !synthetic;
      if (with_paper)
        for (const auto& pr : table.rows) {
          double v;
          if (parse_cell(pr.cells[j], v) && !(c.shown > v)) best = false;
        }
      for (std::size_t o = 0; o < run_rows.size(); ++o)
        if (o != k && run_rows[o].cells[j].present && !row_is_synthetic(run_rows[o]) &&
            !(c.shown > run_rows[o].cells[j].shown))
          best = false;
      line.cells.push_back(best ? "<b>" + c.text + "</b>" : c.text);
    }
    lines.push_back(line);
    if (opt.delta_vs_paper) {
      const std::string ref_name = delta_row_for(table, rr.label, opt.delta_row);
      const PaperRow& ref = table.row(ref_name);
      Line d{"\xCE\x94 " + rr.label + " vs " + ref.name, {}, false};
      for (std::size_t j = 0; j < n; ++j) {
        double pv;
        if (rr.cells[j].present && parse_cell(ref.cells[j], pv)) {
          double diff = rr.cells[j].shown - pv;
          if (std::fabs(diff) < 0.05) diff = 0.0;  // printed values agree
          d.cells.push_back(fmt::format("{:+.1f}", diff) + (rr.cells[j].spice_style ? kSpiceStyleMarker : "") +
                            (rr.cells[j].meteor_unofficial ? kMeteorParaphraseMarker : ""));
        } else {
          d.cells.push_back("-");
        }
      }
      lines.push_back(d);
    }
  }
  return lines;
}

/// The notes under the table: published source, each run's signature, synthetic, SPICE-style and METEOR notes.
std::vector<std::string> table_notes(const PaperTable& table, const PaperTables& paper,
                                     const std::vector<RunRow>& run_rows, bool with_paper,
                                     const std::vector<std::string>& meteor_notes) {
  const std::size_t n = table.num_columns();
  std::vector<std::string> notes;
  if (with_paper) notes.push_back("Published rows: " + paper.source + ".");
  std::vector<std::string> pct;
  for (const auto& g : table.groups)
    for (const auto& c : g.columns)
      if (paper.is_percent(c.metric) && std::find(pct.begin(), pct.end(), c.metric) == pct.end()) pct.push_back(c.metric);
  if (!run_rows.empty() && !pct.empty()) {
    std::string p;
    for (const auto& m : pct) p += (p.empty() ? "" : ", ") + m;
    notes.push_back("Run values: " + p + " ×100, one decimal; bold = better than every other row of the column.");
  }
  for (const RunRow& rr : run_rows)
    for (const RunRecord* r : rr.records)
      notes.push_back(fmt::format("{}: {} {} split {} ({}); metric variant: {}; {}", rr.label, r->task, r->dataset,
                                  r->split, std::filesystem::path(r->path).filename().string(), readable_variant(*r),
                                  r->written_by));
  for (const RunRow& rr : run_rows)
    if (row_is_synthetic(rr)) notes.push_back(synthetic_note(rr));
  for (const RunRow& rr : run_rows) {
    std::string cols;
    for (std::size_t j = 0; j < n; ++j)
      if (rr.cells[j].present && rr.cells[j].spice_style)
        cols += (cols.empty() ? "" : ", ") + column_title(table, j);
    if (cols.empty()) continue;
    notes.push_back(std::string(kSpiceStyleMarker) + " " + rr.label + " (" + cols + ") is " + spice::kMetricName +
                    ": SPICE 1.0's tuple scoring with the CMU Link Grammar parser in place of "
                    "Stanford CoreNLP. Not the Java SPICE 1.0 behind the paper's SPICE values: close, not equal.");
  }
  notes.insert(notes.end(), meteor_notes.begin(), meteor_notes.end());
  for (std::size_t j = 0; j < n; ++j) {
    const PaperColumn& c = table.column(j);
    if (c.metric != "SPICE" || !with_paper) continue;
    for (const RunRow& rr : run_rows) {
      if (!rr.cells[j].present || rr.cells[j].spice_style) continue;
      std::string how;
      for (const RunRecord* r : rr.records)
        if (column_takes(c, *r)) how = r->signature_value("spice");
      notes.push_back("SPICE of " + rr.label + " (" + c.name + " column) is " +
                      (how.empty() ? std::string("glamm-eval's SPICE-style score") : how) +
                      ", shown beside the paper's SPICE (official SPICE 1.0 jar); not an exact equivalent.");
    }
  }
  return notes;
}

/// Markdown in the paper's layout: group header line, separator, column-name line, rows, caption, notes.
std::string render_markdown(const PaperTable& table, const std::vector<Line>& lines,
                            const std::vector<std::string>& notes) {
  const std::size_t n = table.num_columns();
  std::string out;
  std::vector<std::vector<std::string>> grid;
  std::vector<std::string> h1{table.row_header}, h2{""};
  for (const auto& g : table.groups)
    for (std::size_t c = 0; c < g.columns.size(); ++c) {
      h1.push_back(c == 0 ? g.name : "");
      h2.push_back(g.columns[c].name);
    }
  grid.push_back(h1);
  grid.push_back(h2);
  for (const auto& l : lines) {
    std::vector<std::string> row{l.name};
    row.insert(row.end(), l.cells.begin(), l.cells.end());
    for (auto& cell : row) cell = md_cell(cell);
    grid.push_back(row);
  }
  std::vector<std::size_t> width(n + 1, 3);
  for (const auto& row : grid)
    for (std::size_t j = 0; j < row.size(); ++j) width[j] = std::max(width[j], text_width(row[j]));
  out += md_row(grid[0], width);
  std::vector<std::string> sep;
  for (std::size_t j = 0; j <= n; ++j) sep.push_back(std::string(width[j], '-'));
  out += md_row(sep, width);
  for (std::size_t i = 1; i < grid.size(); ++i) out += md_row(grid[i], width);
  out += "\nTable " + table.id + ". " + table.caption + "\n";
  if (!notes.empty()) {
    out += "\nNotes:\n";
    for (const auto& s : notes) out += "- " + s + "\n";
  }
  return out;
}

/// A booktabs LaTeX `table` (needs \usepackage{booktabs}).
std::string render_latex(const PaperTable& table, const std::vector<Line>& lines,
                         const std::vector<std::string>& notes) {
  std::string out;
  out += "% Table " + table.id + " (glamm-eval table); needs \\usepackage{booktabs}\n";
  out += "\\begin{table}[t]\n\\centering\n\\begin{tabular}{l";
  for (const auto& g : table.groups) out += std::string(g.columns.size(), 'c');
  out += "}\n\\toprule\n" + latex_escape(table.row_header);
  std::string rules;
  std::size_t col = 2;
  for (const auto& g : table.groups) {
    const std::size_t w = g.columns.size();
    out += " & \\multicolumn{" + std::to_string(w) + "}{c}{" + latex_escape(g.name) + "}";
    rules += fmt::format("\\cmidrule(lr){{{}-{}}}", col, col + w - 1);
    col += w;
  }
  out += " \\\\\n" + rules + "\n";
  for (const auto& g : table.groups)
    for (const auto& c : g.columns) out += " & " + latex_escape(c.name);
  out += " \\\\\n\\midrule\n";
  bool prev_published = true;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Line& l = lines[i];
    if (i > 0 && prev_published && !l.published) out += "\\midrule\n";
    prev_published = l.published;
    out += latex_escape(l.name);
    for (const auto& c : l.cells) out += " & " + latex_cell(c);
    out += " \\\\\n";
  }
  out += "\\bottomrule\n\\end{tabular}\n";
  if (!notes.empty()) {
    out += "\\par\\smallskip{\\footnotesize\n";
    for (const auto& s : notes) out += latex_note(s) + "\\par\n";
    out += "}\n";
  }
  out += "\\caption{" + latex_escape(table.caption) + "}\n\\label{tab:glamm-" + table.id + "}\n\\end{table}\n";
  return out;
}

}  // namespace

std::string render_table(const PaperTable& table, const PaperTables& paper, const std::vector<RunRecord>& runs,
                         const TableOptions& opt) {
  const bool with_paper = opt.with_paper || runs.empty();
  std::vector<RunRow> run_rows = place_runs(table, paper, runs);
  std::vector<std::string> meteor_notes;
  const std::vector<Line> lines = table_lines(table, run_rows, with_paper, opt, meteor_notes);
  const std::vector<std::string> notes = table_notes(table, paper, run_rows, with_paper, meteor_notes);
  return opt.format == TableFormat::kMarkdown ? render_markdown(table, lines, notes)
                                              : render_latex(table, lines, notes);
}

}  // namespace glamm::reports
