// glamm_eval._core.tasks: the GLaMM task evaluators behind glamm_eval.tasks (python/glamm_eval/tasks.py). Each
// function does what its `glamm-eval <task>` command does between parsing the flags and printing — the same
// checks before any work, load_<task>_inputs, evaluate_<task>, to_record — and returns the record as JSON text
// (Result::to_json().dump(): what the CLI writes with --json, so json.loads of it equals json.load of the CLI's
// record except the timestamp). With `json_path` the same record is also written atomically (io::save_json, as
// write_result). The evaluation runs without the GIL; stage messages go to stderr unless `quiet`, as the CLI's.
// The small CLI helpers these need and that live in the executable only (eval/main.cpp: the default label, the
// record-path check, --threads 0; eval/caption_task.cpp: the METEOR hand-over) are restated here; the tests compare
// every record with the CLI's, so a drift shows.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/io.h"
#include "common/output_guard.h"
#include "common/result.h"
#include "datasets/grandf.h"
#include "datasets/grandf_sample.h"
#include "datasets/refer.h"
#include "eval/meteor_setup.h"
#include "eval/phrase_similarity.h"
#include "eval/progress.h"
#include "eval/tasks/caption_tasks.h"
#include "eval/tasks/gcg.h"
#include "eval/tasks/imagecap.h"
#include "eval/tasks/refseg.h"
#include "eval/tasks/regcap.h"
#include "python/src/bindings.h"

namespace py = pybind11;
namespace fs = std::filesystem;

namespace glamm::python {
namespace {

/// --threads: 0 (or less) = every core, as the CLI's resolve_threads.
int resolve_threads(int threads) {
  if (threads > 0) return threads;
  const unsigned hc = std::thread::hardware_concurrency();
  return hc ? static_cast<int>(hc) : 1;
}

/// The CLI's default label for a predictions file (eval/main.cpp default_label_from_file): the file's stem, or its
/// folder's name for the generic names the runners write (predictions.json(l), results.json).
std::string label_from_file(const std::string& pred_file) {
  const fs::path p = fs::path(pred_file).lexically_normal();
  const std::string stem = p.stem().string();
  if (stem == "predictions" || stem == "results" || stem.empty()) {
    const std::string folder = fs::absolute(p).parent_path().filename().string();
    if (!folder.empty()) return folder;
  }
  return stem.empty() ? "run" : stem;
}

/// Before any work, as the CLI's check_record_writable: the record's folder exists and is writable (or can be
/// created), and the path is not a folder. "" = no record file.
void check_record_writable(const std::string& path) {
  if (path.empty()) return;
  std::error_code ec;
  const fs::path p = fs::absolute(fs::path(path), ec).lexically_normal();
  if (fs::is_directory(p, ec)) throw InputError(path, "json", "is a folder; give a file path for the record");
  fs::path dir = p.parent_path();
  while (!dir.empty() && !fs::exists(fs::symlink_status(dir, ec))) {
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  if (!fs::is_directory(dir, ec))
    throw InputError(path, "json", "cannot write the record: " + dir.string() + " is not a folder");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw InputError(path, "json", "cannot write the record: folder " + dir.string() + " is not writable");
}

/// The record as JSON text; written to `json_path` too when given (never over one of the record's inputs).
std::string finish_record(const Result& r, const std::string& json_path) {
  const nlohmann::json j = r.to_json();
  if (!json_path.empty()) {
    io::OutputGuard guard;
    for (const auto& [role, input] : r.inputs) guard.add_input(input, role);
    guard.check_output(json_path, "json");
    io::save_json(json_path, j);  // = write_result: atomic, parent folders created
  }
  return j.dump();
}

tasks::TaskProgress task_progress(cli::Progress& p) {
  tasks::TaskProgress t;
  t.start = [&p](const std::string& m) { p.start(m); };
  t.done = [&p] { p.done(); };
  t.note = [&p](const std::string& m) { p.note(m); };
  return t;
}

tasks::CaptionMeteor caption_meteor(const cli::MeteorSetup& met, std::vector<std::string> warnings) {
  tasks::CaptionMeteor m;
  m.scorer = met.scorer.get();
  m.resources = met.resources;
  m.source = met.source;
  if (met.resources) cli::sign_meteor(m.signature, met);
  m.warnings = std::move(warnings);
  return m;
}

void print_warnings(const std::vector<std::string>& warnings, bool quiet) {
  if (quiet) return;
  for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
}

// ---------------------------------------------------------------------------------------------------------------
// gcg (eval/gcg.cpp)

/// `gcg --sample`: write the built-in synthetic GranD-f set into <record>.sample/ next to the record (replacing only
/// a sample folder written before) and point the run at it. Returns the sample folder.
fs::path write_gcg_sample(const std::string& json_path) {
  if (json_path.empty())
    throw InputError("", "json", "sample=True writes the built-in set next to the record: give json=PATH");
  check_record_writable(json_path);  // before the sample folder is written next to it
  fs::path dir = fs::absolute(fs::path(json_path)).lexically_normal();
  dir = dir.parent_path() / (dir.stem().string() + ".sample");
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::exists(dir / "val_gcg_coco_caption_gt.json", ec))
    throw InputError(dir.string(), "sample",
                     "exists and is not a built-in sample folder; choose another json path for the sample record");
  fs::remove_all(dir, ec);
  datasets::grandf::write_grandf_sample(dir);
  return dir;
}

std::string gcg(const std::string& split, const std::string& gt_dir, const std::vector<std::string>& pred_dirs,
                std::string text_sim, const std::string& bert, bool allow_missing, bool sample,
                const std::string& meteor_resources, const std::string& meteor_paraphrase, std::string label,
                bool strict, int threads, bool quiet, const std::string& json_path) {
  py::gil_scoped_release nogil;
  tasks::GcgFiles files{split, gt_dir, pred_dirs};
  if (sample) {  // as the CLI's run_gcg: the built-in set, METEOR only when its resources are found
    if (!pred_dirs.empty() || !text_sim.empty())
      throw InputError("", "sample", "sample=True evaluates the built-in set; leave out pred and text_sim");
    const fs::path dir = write_gcg_sample(json_path);
    files = {"val", dir.string(), {(dir / "predictions").string()}};
    text_sim = (dir / "val_text_similarity.tsv").string();
    if (label.empty()) label = "builtin-sample";
  }
  tasks::validate_gcg_files(files);
  if (!json_path.empty()) {
    io::OutputGuard guard;
    for (const std::string& dir : files.pred_dirs) guard.add_input_folder(dir, "pred " + dir);
    guard.add_input(files.caption_gt_file(), "caption GT");
    guard.add_input(files.mask_gt_file(), "mask GT");
    guard.add_input(text_sim, "text_sim");
    guard.check_output(json_path, "json");
    check_record_writable(json_path);
  }
  tasks::GcgOptions opt;
  opt.similarity = cli::open_phrase_similarity(text_sim, bert);  // bert / GLAMM_BERT / text_sim; plugin on demand
  opt.strict = strict;
  opt.threads = resolve_threads(threads);
  opt.allow_missing = allow_missing;
  cli::Progress progress(quiet);
  opt.progress = {[&progress](const std::string& m) { progress.start(m); }, [&progress] { progress.done(); },
                  [&progress](const std::string& m) { progress.note(m); }};
  std::optional<cli::MeteorLoader> loader;  // loads while the inputs are read
  cli::MeteorSetup met;
  if (!sample || !cli::locate_meteor_resources(meteor_resources).empty()) {
    loader.emplace(meteor_resources, meteor_paraphrase, progress);
    opt.meteor = [&](std::vector<std::string>& warnings) {
      met = loader->finish(warnings);
      tasks::GcgMeteor m;
      m.scorer = met.scorer.get();
      cli::sign_meteor(m.signature, met);
      return m;
    };
  } else {
    opt.meteor_unavailable = cli::meteor_resources_missing_message();
  }
  const tasks::GcgReport report = tasks::run_gcg_task(files, opt);
  print_warnings(report.warnings, quiet);
  return finish_record(tasks::to_record(report, {label, sample}), json_path);
}

// ---------------------------------------------------------------------------------------------------------------
// refseg (eval/refseg.cpp)

std::string refseg(const std::string& dataset, const std::string& pred, const std::string& split_by,
                   const std::string& split, const std::string& data_root, const std::string& refer_dir,
                   bool allow_missing, bool only_present, std::optional<uint64_t> glamm_sampling,
                   const std::string& gt_overlap, const std::string& label, bool strict, int threads, bool quiet,
                   const std::string& json_path) {
  namespace refer = datasets::refer;
  if (dataset != "refcoco" && dataset != "refcoco+" && dataset != "refcocog" && dataset != "refclef")
    throw InputError("", "dataset", "'" + dataset + "' is not one of refcoco, refcoco+, refcocog, refclef");
  if (gt_overlap != "union" && gt_overlap != "sum")
    throw InputError("", "gt_overlap", "'" + gt_overlap + "' is not one of union, sum");
  if (allow_missing && only_present)
    throw InputError("", "allow_missing", "use allow_missing or only_present, not both");
  py::gil_scoped_release nogil;
  tasks::RefsegFiles f;
  f.dataset = dataset;
  f.split_by = split_by.empty() ? refer::default_split_by(dataset) : split_by;
  f.split = split;
  f.predictions = pred;
  refer::split_names(f.dataset, f.split_by);  // an unknown pair fails before any file is read
  const fs::path dir = refer_dir.empty() ? fs::path(data_root) / "Refer_Segm" / dataset : fs::path(refer_dir);
  f.refs = dir / ("refs(" + f.split_by + ").p");
  f.instances = dir / "instances.json";
  check_record_writable(json_path);
  for (const fs::path& p : {f.refs, f.instances})
    if (!fs::exists(fs::symlink_status(p)))
      throw InputError(p.string(), "", "file not found (REFER layout: <data_root>/Refer_Segm/<dataset>/)");
  cli::Progress progress(quiet);
  progress.start("loading " + f.refs.string() + " and " + f.instances.string() + "...");
  const tasks::RefsegInputs inputs = tasks::load_refseg_inputs(f);
  progress.done();
  tasks::RefsegOptions opt;
  opt.strict = strict;
  opt.threads = resolve_threads(threads);
  opt.coverage = only_present    ? tasks::RefsegCoverage::kOnlyPresent
                 : allow_missing ? tasks::RefsegCoverage::kAllowMissing
                                 : tasks::RefsegCoverage::kComplete;
  opt.sampling_seed = glamm_sampling;
  opt.gt_overlap = gt_overlap == "sum" ? refer::GtOverlap::kSum : refer::GtOverlap::kUnion;
  opt.stage_started = [&progress](const std::string& what) { progress.start(what); };
  opt.stage_done = [&progress] { progress.done(); };
  const tasks::RefsegReport report = tasks::evaluate_refseg(inputs, opt);
  print_warnings(report.warnings, quiet);
  return finish_record(tasks::to_record(report, label.empty() ? label_from_file(pred) : label), json_path);
}

// ---------------------------------------------------------------------------------------------------------------
// regcap (eval/regcap.cpp)

std::string regcap(const std::string& dataset, const std::string& pred, const std::string& annotations,
                   const std::string& data_root, bool allow_missing, bool only_present,
                   const std::string& meteor_resources, const std::string& meteor_paraphrase,
                   const std::string& label, bool strict, int threads, bool quiet, const std::string& json_path) {
  if (dataset != "refcocog" && dataset != "vg")
    throw InputError("", "dataset", "'" + dataset + "' is not one of refcocog, vg");
  py::gil_scoped_release nogil;
  tasks::RegcapOptions opt;
  opt.coverage = tasks::coverage_of(allow_missing, only_present);
  const fs::path ann = !annotations.empty() ? fs::path(annotations)
                       : dataset == "vg"    ? fs::path(data_root) / "visual_genome" / "test_caption.json"
                                            : fs::path(data_root) / "RefCoco_Reg" / "mdetr_annotations" /
                                               "finetune_refcocog_val_captions.json";
  if (!fs::exists(fs::symlink_status(ann)))
    throw InputError(ann.string(), "", "annotation file not found (pass annotations=FILE)");
  check_record_writable(json_path);
  opt.strict = strict;
  opt.threads = resolve_threads(threads);
  cli::Progress progress(quiet);
  opt.progress = task_progress(progress);
  std::vector<std::string> meteor_warnings;
  const cli::MeteorSetup met = cli::load_meteor(meteor_resources, meteor_paraphrase, progress, meteor_warnings);
  opt.meteor = caption_meteor(met, std::move(meteor_warnings));
  const tasks::RegcapInputs inputs = tasks::load_regcap_inputs({dataset, ann.string(), pred}, opt.progress);
  const tasks::RegcapReport rep = tasks::evaluate_regcap(inputs, opt);
  print_warnings(rep.warnings, quiet);
  return finish_record(tasks::to_record(rep, label.empty() ? label_from_file(pred) : label), json_path);
}

// ---------------------------------------------------------------------------------------------------------------
// imagecap (eval/imagecap.cpp)

/// NoCaps test (no public captions): the EvalAI submission list as JSON text, written to `submission` when given.
std::string nocaps_submission_json(const tasks::ImagecapInputs& in, datasets::Coverage coverage,
                                   const std::string& annotations, const std::string& submission) {
  nlohmann::json sub = nlohmann::json::array();
  for (const tasks::NocapsSubmissionEntry& e : tasks::nocaps_submission(in, coverage)) sub.push_back(e.to_json());
  if (!submission.empty()) {
    io::OutputGuard guard;
    guard.add_input(annotations, "annotations");
    for (const auto& f : in.pred_files) guard.add_input(f, "pred " + f);
    guard.check_output(submission, "submission");
    io::save_json(submission, sub, 0);
  }
  return sub.dump();
}

/// (record JSON, "") for a scored split; ("", submission JSON) for NoCaps test.
std::pair<std::string, std::string> imagecap(const std::string& dataset, const std::string& annotations,
                                             const std::string& pred, const std::string& split, bool no_spice,
                                             const std::string& submission, bool allow_missing, bool only_present,
                                             const std::string& meteor_resources,
                                             const std::string& meteor_paraphrase, const std::string& label,
                                             bool strict, int threads, bool quiet, const std::string& json_path) {
  if (dataset != "flickr30k" && dataset != "nocaps")
    throw InputError("", "dataset", "'" + dataset + "' is not one of flickr30k, nocaps");
  py::gil_scoped_release nogil;
  tasks::ImagecapOptions opt;
  opt.coverage = tasks::coverage_of(allow_missing, only_present);
  const std::string sp = tasks::imagecap_split(dataset, split);
  check_record_writable(json_path);
  opt.spice = !no_spice;
  opt.strict = strict;
  opt.threads = resolve_threads(threads);
  cli::Progress progress(quiet);
  opt.progress = task_progress(progress);
  const tasks::ImagecapInputs inputs = tasks::load_imagecap_inputs({dataset, annotations, sp, pred}, opt.progress);
  if (inputs.submission_only) {
    print_warnings(inputs.warnings, quiet);
    return {"", nocaps_submission_json(inputs, opt.coverage, annotations, submission)};
  }
  std::vector<std::string> meteor_warnings;
  const cli::MeteorSetup met = cli::load_meteor(meteor_resources, meteor_paraphrase, progress, meteor_warnings);
  opt.meteor = caption_meteor(met, std::move(meteor_warnings));
  const tasks::ImagecapReport rep = tasks::evaluate_imagecap(inputs, opt);
  print_warnings(rep.warnings, quiet);
  return {finish_record(tasks::to_record(rep, label.empty() ? label_from_file(pred) : label), json_path), ""};
}

}  // namespace

void bind_tasks(py::module_ m) {
  using namespace pybind11::literals;
  m.def("gcg", &gcg, "split"_a, "gt_dir"_a, "pred_dirs"_a, "text_sim"_a, "bert"_a, "allow_missing"_a, "sample"_a,
        "meteor_resources"_a, "meteor_paraphrase"_a, "label"_a, "strict"_a, "threads"_a, "quiet"_a, "json_path"_a,
        "glamm-eval gcg: the record as JSON text (see glamm_eval.tasks.gcg)");
  m.def("refseg", &refseg, "dataset"_a, "pred"_a, "split_by"_a, "split"_a, "data_root"_a, "refer_dir"_a,
        "allow_missing"_a, "only_present"_a, "glamm_sampling"_a, "gt_overlap"_a, "label"_a, "strict"_a, "threads"_a,
        "quiet"_a, "json_path"_a, "glamm-eval refseg: the record as JSON text (see glamm_eval.tasks.refseg)");
  m.def("regcap", &regcap, "dataset"_a, "pred"_a, "annotations"_a, "data_root"_a, "allow_missing"_a,
        "only_present"_a, "meteor_resources"_a, "meteor_paraphrase"_a, "label"_a, "strict"_a, "threads"_a,
        "quiet"_a, "json_path"_a, "glamm-eval regcap: the record as JSON text (see glamm_eval.tasks.regcap)");
  m.def("imagecap", &imagecap, "dataset"_a, "annotations"_a, "pred"_a, "split"_a, "no_spice"_a, "submission"_a,
        "allow_missing"_a, "only_present"_a, "meteor_resources"_a, "meteor_paraphrase"_a, "label"_a, "strict"_a,
        "threads"_a, "quiet"_a, "json_path"_a,
        "glamm-eval imagecap: (record JSON, '') or, for NoCaps test, ('', submission JSON) "
        "(see glamm_eval.tasks.imagecap)");
  m.def("gcg_default_label", &tasks::gcg_default_label, "pred_dirs"_a,
        "The gcg record's label when none is given: the first predictions folder's name");
}

}  // namespace glamm::python
