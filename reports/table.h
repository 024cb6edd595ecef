// `glamm-eval table`: a paper table (Tables 3–6) in Markdown or LaTeX, with runs as rows beside the
// published ones, per-cell deltas to the matching paper row, and a footnote with every run's signature.
#pragma once

#include <string>
#include <vector>

#include "reports/paper_tables.h"
#include "reports/record.h"

namespace glamm::reports {

enum class TableFormat { kMarkdown, kLatex };

struct TableOptions {
  TableFormat format = TableFormat::kMarkdown;
  bool with_paper = false;      ///< include the published rows (implied when no runs are given)
  bool delta_vs_paper = false;  ///< add a Δ row per run: run − matching paper row, per cell
  std::string delta_row;        ///< paper row to subtract; "" = the table's rule (Table 5: FT for RegCap labels)
};

/// Marker after a run cell that shows our SPICE-style (Link Grammar parser) score in a SPICE column ("‡").
inline constexpr const char* kSpiceStyleMarker = "\xE2\x80\xA1";

/// Marker after a METEOR cell (and its Δ cell) of a run without pycocoevalcap's official paraphrase table ("§"):
/// not comparable to published rows (reports/meteor_paraphrase.h says why, in a note).
inline constexpr const char* kMeteorParaphraseMarker = "\xC2\xA7";

/// One rendered cell of a run row.
struct RunCell {
  bool present = false;
  double shown = 0;   ///< value as printed (×100 for percentage-like metrics, rounded to one decimal)
  std::string text;   ///< printed text (without bold; with kSpiceStyleMarker when spice_style)
  bool spice_style = false;  ///< a SPICE column filled from the record's "SPICE-style (Link Grammar parser)" metric
  bool meteor_unofficial = false;  ///< a METEOR cell of a run without the official paraphrase table (render_table)
};

/// A run row: the label and its cells (one per table column), plus the records that filled it.
struct RunRow {
  std::string label;
  std::vector<RunCell> cells;
  std::vector<const RunRecord*> records;
};

/// Place `runs` into `table`'s columns: one row per label (first-appearance order); a record fills the columns
/// whose dataset/split it matches. A column of metric "SPICE" takes the record's "SPICE" metric, else its
/// "SPICE-style (Link Grammar parser)" metric (metrics/spice), marked with kSpiceStyleMarker. Throws InputError when a record is of another task than the table's, matches
/// no column, two records of one label fill the same column, or two runs in one column have different metric
/// variants (metric_variant; the check names both records and both variants).
std::vector<RunRow> place_runs(const PaperTable& table, const PaperTables& paper, const std::vector<RunRecord>& runs);

/// The paper row `--delta-vs-paper` subtracts for a run labelled `label` (see PaperTable::delta_rules).
std::string delta_row_for(const PaperTable& table, const std::string& label, const std::string& override_row);

/// Render the table. Published cells keep the printed strings and bold marks (<b>…</b> in Markdown, \textbf in
/// LaTeX); run cells are bold when their printed value is strictly greater than every other row's in the column
/// (SPICE-style cells are not bold when the published rows are shown: those are the Java SPICE, another metric). Each run with
/// SPICE-style cells gets a "‡" note saying they are SPICE-style (Link Grammar parser), not the Java SPICE.
/// METEOR cells (and their Δ cells) of runs whose signature does not name the official paraphrase table get "§",
/// are never bold beside published rows, and a note "not comparable to published rows: METEOR without paraphrase
/// matching" (or the other reason, reports/meteor_paraphrase.h).
/// Markdown follows the paper's layout: group header line, separator, column-name line, rows, then the caption
/// and the notes (signatures, SPICE note). LaTeX is a booktabs `table` (needs \usepackage{booktabs}).
/// Throws as place_runs.
std::string render_table(const PaperTable& table, const PaperTables& paper, const std::vector<RunRecord>& runs,
                         const TableOptions& opt);

}  // namespace glamm::reports
