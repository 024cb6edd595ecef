// `glamm-eval report`: a self-contained HTML report of one result record (reports/html_report.h).
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/io.h"
#include "common/output_guard.h"
#include "eval/command.h"
#include "reports/html_report.h"
#include "reports/record.h"

namespace glamm::cli {
namespace {

struct ReportCliOptions {
  std::string run, out;
  reports::ReportOptions opt;
};

void run_report(const ReportCliOptions& o) {
  io::OutputGuard guard;
  guard.add_input(o.run, "record");
  guard.add_input_folder(o.opt.images_dir, "--images", [](const std::string& name) {
    const std::string ext = std::filesystem::path(name).extension().string();
    return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".JPG" || ext == ".PNG";
  });
  guard.check_output(o.out, "--out");
  const reports::RunRecord r = reports::load_record(o.run);
  std::vector<std::string> warnings;
  const std::string html = reports::render_html_report(r, o.opt, &warnings);
  for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
  io::write_file_atomic(o.out, html);
  std::cout << "report written to " << o.out << "\n";
}

void add_report(CLI::App& app) {
  auto opts = std::make_shared<ReportCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "report",
      "One self-contained HTML page for a result record: metrics, failure breakdown, AP precision-recall curve and "
      "per-image mIoU histogram (inline SVG), and the worst images with predicted vs. ground-truth masks overlaid "
      "(with --images).");
  sub->add_option("run", opts->run, "Result record (glamm-eval <task> --json)")->required();
  sub->add_option("--out", opts->out, "Output HTML file (written atomically)")->required();
  sub->add_option("--images", opts->opt.images_dir,
                  "Folder with the images (ground-truth file_name) for overlays (default: the record's inputs.images; "
                  "records of `gcg --sample` name the sample's images kept next to them, so their report has overlays "
                  "without --images)");
  sub->add_option("--worst", opts->opt.worst, "How many lowest-mIoU images to show")->capture_default_str();
  sub->add_option("--max-image-pixels", opts->opt.max_image_pixels,
                  "Largest image (width x height) an overlay decodes; a larger image or mask is refused from its "
                  "header, the report is still written, with a note and a warning naming it (docs/input-rules.md)")
      ->capture_default_str();
  sub->callback([opts] { run_report(*opts); });
}

GLAMM_REGISTER_COMMAND(120, add_report);

}  // namespace
}  // namespace glamm::cli
