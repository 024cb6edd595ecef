// The GLaMM paper's Tables 3–6 (published rows as printed) and the layout our runs are placed into.
// Data: reports/paper_tables.json, compiled into the library (override with a file path).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace glamm::reports {

/// One column: the metric it shows and which records fill it (dataset and split names, lower-case aliases;
/// an empty split list accepts any split).
struct PaperColumn {
  std::string name;    ///< header as printed ("M", "val(U)", …)
  std::string metric;  ///< record metric name ("METEOR", "cIoU", …)
  std::vector<std::string> datasets, splits;
};

struct PaperGroup {
  std::string name;  ///< group header ("Validation Set", "refCOCO", …)
  std::vector<PaperColumn> columns;
};

/// A published row: the row name and the cells exactly as printed ("-" for none, "<b>x</b>" for bold).
struct PaperRow {
  std::string name;
  std::vector<std::string> cells;
};

/// Which published row `--delta-vs-paper` subtracts: `default_row`, unless the run's label contains one of
/// the rules' substrings (case-insensitive).
struct DeltaRule {
  std::string label_contains, row;
};

struct PaperTable {
  std::string id;    ///< "3".."6"
  std::string task;  ///< record task that fills it ("gcg", "refseg", "regcap", "imagecap")
  std::string caption, row_header;
  std::vector<PaperGroup> groups;
  std::vector<PaperRow> rows;
  std::string delta_default_row;
  std::vector<DeltaRule> delta_rules;

  std::size_t num_columns() const;
  /// Column j (0-based across groups).
  const PaperColumn& column(std::size_t j) const;
  /// The published row named `name`; throws InputError listing the names when there is none.
  const PaperRow& row(const std::string& name) const;
};

struct PaperTables {
  std::string source;
  std::vector<std::string> percent_metrics;  ///< shown ×100 with one decimal
  std::vector<PaperTable> tables;

  /// Table by id; throws InputError listing the ids when absent.
  const PaperTable& table(const std::string& id) const;
  bool is_percent(const std::string& metric) const;
};

/// Parse the paper-table JSON (format of reports/paper_tables.json). Throws InputError naming `source` on
/// malformed data (missing fields, a row whose cell count differs from the columns).
PaperTables parse_paper_tables(const nlohmann::json& j, const std::string& source);

/// The tables compiled into the binary (from reports/paper_tables.json at build time).
const PaperTables& builtin_paper_tables();

/// Load from a file instead (glamm-eval table --paper FILE). Throws InputError.
PaperTables load_paper_tables(const std::string& path);

/// The JSON text compiled in (generated source).
const char* embedded_paper_tables_json();

/// Numeric value of a printed cell ("<b>17.2</b>" → 17.2); false for "-" or text that is not a number.
bool parse_cell(const std::string& cell, double& value);

/// Whether a printed cell carries the paper's bold mark.
bool cell_is_bold(const std::string& cell);

/// The printed text without the bold mark.
std::string cell_text(const std::string& cell);

}  // namespace glamm::reports
