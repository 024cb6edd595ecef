// `glamm-eval table`: the GLaMM paper's Tables 3–6 in Markdown or LaTeX, with result records as rows beside the
// published ones (reports/table.h does the work).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/io.h"
#include "common/output_guard.h"
#include "eval/command.h"
#include "reports/paper_tables.h"
#include "reports/record.h"
#include "reports/table.h"

namespace glamm::cli {
namespace {

struct TableCliOptions {
  std::string table;
  std::string format = "md";
  bool with_paper = false;
  bool delta = false;
  std::string delta_row;
  std::string paper_file;
  std::string out;
  std::vector<std::string> runs;
};

void run_table(const TableCliOptions& o) {
  io::OutputGuard guard;
  guard.add_input(o.paper_file, "--paper");
  for (const auto& p : o.runs) guard.add_input(p, "record " + p);
  guard.check_output(o.out, "--out");
  reports::PaperTables loaded;
  const reports::PaperTables* paper = &reports::builtin_paper_tables();
  if (!o.paper_file.empty()) {
    loaded = reports::load_paper_tables(o.paper_file);
    paper = &loaded;
  }
  const reports::PaperTable& t = paper->table(o.table);
  std::vector<reports::RunRecord> runs;
  for (const auto& p : o.runs) runs.push_back(reports::load_record(p));
  reports::require_same_task(runs);
  reports::TableOptions opt;
  opt.format = o.format == "latex" ? reports::TableFormat::kLatex : reports::TableFormat::kMarkdown;
  opt.with_paper = o.with_paper;
  opt.delta_vs_paper = o.delta;
  opt.delta_row = o.delta_row;
  const std::string text = reports::render_table(t, *paper, runs, opt);
  if (o.out.empty()) {
    std::cout << text;
  } else {
    io::write_file_atomic(o.out, text);
    std::cerr << "table written to " << o.out << "\n";
  }
}

void add_table(CLI::App& app) {
  auto opts = std::make_shared<TableCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "table",
      "A GLaMM paper table (3 GCG, 4 referring segmentation, 5 region captioning, 6 image captioning) in the "
      "paper's layout, with result records (RUN.json) as rows beside the published ones. Without records it prints "
      "the published table.");
  sub->add_option("--table", opts->table, "Paper table: 3, 4, 5 or 6")->required()->check(CLI::IsMember({"3", "4", "5", "6"}));
  sub->add_option("--format", opts->format, "md (Markdown) or latex (booktabs)")
      ->check(CLI::IsMember({"md", "latex"}))
      ->capture_default_str();
  sub->add_flag("--with-paper", opts->with_paper, "Include the published rows (implied without records)");
  sub->add_flag("--delta-vs-paper", opts->delta,
                "After each run a row with run − paper per cell (paper row: GLaMM; Table 5: GLaMM (FT) for labels "
                "containing 'regcap', else GLaMM (ZS))");
  sub->add_option("--paper-row", opts->delta_row, "Paper row that --delta-vs-paper subtracts (e.g. 'GLaMM (ZS)')");
  sub->add_option("--paper", opts->paper_file, "Paper-table JSON to use instead of the built-in one");
  sub->add_option("--out", opts->out, "Write the table to this file (atomically) instead of stdout");
  sub->add_option("runs", opts->runs, "Result records (glamm-eval <task> --json) of the table's task");
  sub->callback([opts] { run_table(*opts); });
}

GLAMM_REGISTER_COMMAND(100, add_table);

}  // namespace
}  // namespace glamm::cli
