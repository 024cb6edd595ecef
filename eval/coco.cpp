// `glamm-eval coco`: COCOeval (segm / bbox) on a COCO instances file and a results list, printing pycocotools
// 2.0.6's summarize() lines. Parses the flags, checks the output, loads and evaluates through the task layer
// (eval/tasks/coco.h: datasets/coco_json → metrics/mask/cocoeval), prints and writes the record.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <malloc.h>

#include "common/error.h"
#include "common/io.h"
#include "common/output_guard.h"
#include "eval/command.h"
#include "eval/progress.h"
#include "eval/tasks/coco.h"

namespace glamm::cli {
namespace {

struct CocoCliOptions {
  CommonOptions common;
  std::string gt, dt;
  std::string iou_type = "segm";
  std::vector<int64_t> cat_ids;
  std::vector<std::string> img_ids;
  int use_cats = 1;
  std::vector<int> max_dets = {1, 10, 100};
  bool sample = false;
};

void print_report(const tasks::CocoReport& r) {
  for (const auto& w : r.warnings) std::cerr << "warning: " << w << "\n";
  if (r.sample)
    std::cout << "glamm-eval coco: built-in sample (12 synthetic images, 3 categories; no input files), iouType="
              << mask::iou_type_name(r.iou_type) << "\n";
  if (r.strict) std::cout << tasks::coco_quirks().strict_line() << "\n";
  for (const std::string& line : r.summary_lines) std::cout << line << "\n";
  std::cout.flush();
}

void run_coco(const CocoCliOptions& o) {
  const bool use_sample = o.sample || (o.gt.empty() && o.dt.empty());
  {
    io::OutputGuard guard;
    if (!use_sample) guard.add_input(o.gt, "--gt"), guard.add_input(o.dt, "--dt");
    guard.check_output(o.common.json_path, "--json");
  }
  if (!use_sample && (o.gt.empty() || o.dt.empty()))
    throw InputError("", "", "coco needs both --gt and --dt (or neither / --sample for the built-in sample)");
  tasks::CocoOptions opt;
  opt.iou_type = tasks::parse_iou_type(o.iou_type);
  opt.cat_ids = o.cat_ids;
  opt.img_ids = o.img_ids;
  opt.use_cats = o.use_cats;
  opt.max_dets = o.max_dets;
  opt.strict = o.common.strict;
  opt.threads = resolve_threads(o.common);
  tasks::check_coco_options(opt);
  if (!use_sample && !o.common.json_path.empty()) io::prefetch_sha256(o.gt), io::prefetch_sha256(o.dt);  // record

#ifndef GLAMM_USE_MIMALLOC
  // With the C library's allocator (mimalloc absent, or the sanitizer build): tens of thousands of RLE count
  // vectors are allocated by the decoding threads; one arena that grows in 32 MiB steps avoids thousands of
  // page-by-page heap extensions in per-thread arenas. Allocator tuning only, never results.
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_TOP_PAD, 32 << 20);
#endif
  Progress progress(o.common.quiet);
  progress.start("loading annotations into memory...");
  tasks::CocoInputs inputs = tasks::load_coco_inputs({o.gt, o.dt, use_sample}, opt);
  progress.done();

  opt.stage_started = [&progress](const std::string& what) { progress.start(what); };
  opt.stage_done = [&progress] { progress.done(); };
  tasks::CocoReport report = tasks::evaluate_coco(inputs, opt);
  print_report(report);
  if (!o.common.json_path.empty()) write_record(o.common.json_path, tasks::to_record(report, o.common.label));
  // The decoded masks and the per-image evaluation: freed by the OS at exit (~10% of the run otherwise).
  keep_until_exit(std::move(inputs));
  keep_until_exit(std::move(report.evaluation));
}

void add_coco(CLI::App& app) {
  auto opts = std::make_shared<CocoCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "coco",
      "COCOeval (pycocotools 2.0.6, iouType segm or bbox) on a COCO instances file and a results list; prints the "
      "12 summarize() lines. Without --gt/--dt it runs a built-in synthetic sample.");
  sub->add_option("--gt", opts->gt, "COCO instances JSON (images, annotations with area/iscrowd, categories)");
  sub->add_option("--dt", opts->dt, "Results JSON list (image_id, category_id, score, segmentation or bbox)");
  sub->add_option("--iou-type", opts->iou_type, "segm (masks) or bbox (boxes)")
      ->check(CLI::IsMember({"segm", "bbox"}))
      ->capture_default_str();
  sub->add_option("--cat-ids", opts->cat_ids, "params.catIds, comma-separated (default: all GT categories)")
      ->delimiter(',');
  sub->add_option("--img-ids", opts->img_ids, "params.imgIds, comma-separated (default: all GT images)")
      ->delimiter(',');
  sub->add_option("--use-cats", opts->use_cats, "params.useCats (0 or 1)")->capture_default_str();
  sub->add_option("--max-dets", opts->max_dets, "params.maxDets, comma-separated, at least 3 (default 1,10,100)")
      ->delimiter(',');
  sub->add_flag("--sample", opts->sample, "Evaluate the built-in synthetic sample (also the default with no --gt/--dt)");
  add_common_options(sub, opts->common, tasks::coco_quirks().help_text());
  sub->callback([opts] { run_coco(*opts); });
}

GLAMM_REGISTER_COMMAND(10, add_coco);

}  // namespace
}  // namespace glamm::cli
