// glamm_eval._core.caption: the C++ side of glamm_eval.caption (python/glamm_eval/caption.py), which gives these
// functions pycocoevalcap's classes, dict handling and printed output. Each function calls the library function the
// `glamm-eval captions` command calls (eval/tasks/captions.cpp, eval/tasks/caption_tasks.cpp, eval/meteor_setup.cpp),
// so the numbers are the command line's bit for bit. The GIL is released while C++ computes.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "eval/meteor_setup.h"
#include "eval/progress.h"
#include "eval/tasks/caption_tasks.h"
#include "metrics/caption/coco_eval_cap.h"
#include "metrics/caption/rouge.h"
#include "metrics/meteor/discovery.h"
#include "metrics/meteor/meteor.h"
#include "metrics/ptb/ptb_tokenizer.h"
#include "metrics/spice/spice.h"
#include "python/src/bindings.h"
#include "eval/run_support.h"
#include "python/src/convert.h"

namespace py = pybind11;

namespace glamm::python {
namespace {

/// Worker threads: 0 → all cores (the command line's --threads 0), else the value (≥ 1).
int worker_threads(int threads) {
  if (threads < 0) throw py::value_error("threads must be >= 0 (0 = all cores), got " + std::to_string(threads));
  return cli::resolve_thread_count(threads);
}

/// A caption as UTF-8: `what` names it in the TypeError (not a str) or ValueError (not encodable, e.g. a lone
/// surrogate) raised otherwise.
std::string utf8_text(py::handle v, const std::string& what) {
  if (!PyUnicode_Check(v.ptr()))
    throw py::type_error(what + " must be a str, got " +
                         py::str(py::type::handle_of(v).attr("__name__")).cast<std::string>());
  Py_ssize_t n = 0;
  const char* s = PyUnicode_AsUTF8AndSize(v.ptr(), &n);
  if (s == nullptr) {
    PyErr_Clear();
    throw py::value_error(what + " cannot be encoded as UTF-8 (it holds a lone surrogate)");
  }
  return std::string(s, static_cast<std::size_t>(n));
}

std::vector<std::string> utf8_list(py::handle seq, const std::string& what) {
  py::sequence items = py::reinterpret_borrow<py::sequence>(seq);
  std::vector<std::string> out;
  out.reserve(items.size());
  std::size_t k = 0;
  for (py::handle v : items) out.push_back(utf8_text(v, what + "[" + std::to_string(k++) + "]"));
  return out;
}

/// An image key of a gts/res dict as an ImageId (only used in messages): int and str as themselves, anything else
/// (pycocoevalcap accepts any hashable key) by its repr().
ImageId key_of(py::handle k) {
  if (PyUnicode_Check(k.ptr()) ||
      (!py::isinstance<py::bool_>(k) &&
       (PyLong_Check(k.ptr()) || py::isinstance(k, py::module_::import("numpy").attr("integer"))))) {
    try {
      return image_id_from_py(k);
    } catch (const py::error_already_set&) {  // an int beyond int64
    }
  }
  return ImageId(py::repr(k).cast<std::string>());
}

/// The scorer inputs: parallel arrays by image in the order of `keys`.
struct ScorerInput {
  std::vector<ImageId> ids;
  std::vector<std::vector<std::string>> refs;
  std::vector<std::string> hyps;
};

ScorerInput scorer_input(py::sequence keys, py::sequence refs, py::sequence hyps) {
  ScorerInput in;
  for (py::handle k : keys) in.ids.push_back(key_of(k));
  std::size_t i = 0;
  for (py::handle r : refs) {
    in.refs.push_back(utf8_list(r, "gts[" + (i < in.ids.size() ? in.ids[i].display() : std::to_string(i)) + "]"));
    ++i;
  }
  i = 0;
  for (py::handle h : hyps) {
    in.hyps.push_back(utf8_text(h, "res[" + (i < in.ids.size() ? in.ids[i].display() : std::to_string(i)) + "][0]"));
    ++i;
  }
  return in;
}

/// A loaded METEOR scorer (or, for SPICE-style alone, METEOR's resources), as the command line loads it.
struct Meteor {
  cli::MeteorSetup setup;
  std::vector<std::string> warnings;  ///< what the command line prints as warnings when METEOR runs
};

const char* kMissingResources =
    "METEOR resources not found: glamm_eval looks for them in the resources argument, env GLAMM_METEOR_RESOURCES, "
    "an installed pycocoevalcap's meteor-1.5.jar, then the copy built with the package "
    "(glamm_eval/share/glamm-eval/meteor), which is missing here; pass resources=DIR_OR_JAR (a folder with "
    "english.synsets, english.exceptions, english.words, english.prefixes, or pycocoevalcap's meteor-1.5.jar) or set "
    "GLAMM_METEOR_RESOURCES (docs/meteor-resources.md). Bleu, Rouge and Cider need no resources";

/// Locate and load METEOR's resources as `glamm-eval captions` does (--meteor-resources `resources`,
/// --meteor-paraphrase `paraphrase`; "" = not given). `spice_only`: only the synonym files are needed (no paraphrase
/// table, no warnings about it), as the command line loads them for --spice without METEOR.
std::unique_ptr<Meteor> load_meteor(const std::string& resources, const std::string& paraphrase, bool spice_only) {
  auto m = std::make_unique<Meteor>();
  py::gil_scoped_release nogil;
  const std::string source = cli::locate_meteor_resources(resources);
  if (source.empty()) throw InputError("", "", kMissingResources);
  cli::Progress quiet(true);
  std::vector<std::string> warnings;
  m->setup = cli::load_meteor(source, spice_only ? "-" : paraphrase, quiet, warnings);
  if (!spice_only) m->warnings = std::move(warnings);
  return m;
}

py::list bleu_counts_py(const std::array<std::int64_t, caption::kMaxNgram>& a) {
  py::list l;
  for (std::int64_t v : a) l.append(py::int_(v));
  return l;
}

/// The scorer stage of COCOEvalCap (caption::score_tokenized) for the metrics in `metrics` ("bleu", "meteor",
/// "rouge", "cider", comma-separated) on already tokenized strings. Returns a dict:
///   metrics: [(name, value)] in pycocoevalcap's order; bleu: per order a list of per-image floats;
///   bleu_counts: per image (testlen, reflen, guess, correct); bleu_total: the printed dict's values, bleu_ratio;
///   meteor / rouge / cider: per-image floats.
py::dict score(py::sequence keys, py::sequence refs, py::sequence hyps, const std::string& metrics,
               const Meteor* meteor, int threads) {
  ScorerInput in = scorer_input(keys, refs, hyps);
  caption::EvalCapOptions opt;
  opt.metrics = caption::MetricSet::parse(metrics);
  if (opt.metrics.meteor) {
    if (meteor == nullptr) throw py::value_error("METEOR needs a loaded scorer");
    opt.meteor = meteor->setup.scorer.get();
  }
  opt.threads = worker_threads(threads);
  caption::EvalCapResult r;
  {
    py::gil_scoped_release nogil;
    r = caption::score_tokenized(std::move(in.ids), std::move(in.refs), std::move(in.hyps), opt);
  }
  py::dict out;
  py::list names;
  for (const auto& [name, value] : r.metrics) names.append(py::make_tuple(name, value));
  out["metrics"] = names;
  const std::size_t n = r.per_image.size();
  if (opt.metrics.bleu) {
    py::list orders;
    for (int k = 0; k < caption::kMaxNgram; ++k) {
      py::list per;
      for (std::size_t i = 0; i < n; ++i) per.append(py::float_(r.per_image[i].bleu[static_cast<std::size_t>(k)]));
      orders.append(per);
    }
    out["bleu"] = orders;
    py::list counts;
    for (std::size_t i = 0; i < n; ++i) {
      const caption::BleuCounts& c = r.per_image[i].bleu_counts;
      counts.append(py::make_tuple(c.testlen, c.reflen, bleu_counts_py(c.guess), bleu_counts_py(c.correct)));
    }
    out["bleu_counts"] = counts;
    const caption::BleuCounts& t = r.bleu_total;
    out["bleu_total"] = py::make_tuple(t.testlen, t.reflen, bleu_counts_py(t.guess), bleu_counts_py(t.correct));
    out["bleu_ratio"] = r.bleu_ratio;
  }
  auto per_image = [&](double caption::ImageEval::*field) {
    py::list l;
    for (const caption::ImageEval& e : r.per_image) l.append(py::float_(e.*field));
    return l;
  };
  if (opt.metrics.meteor) out["meteor"] = per_image(&caption::ImageEval::meteor);
  if (opt.metrics.rouge) out["rouge"] = per_image(&caption::ImageEval::rouge_l);
  if (opt.metrics.cider) out["cider"] = per_image(&caption::ImageEval::cider);
  return out;
}

/// pycocoevalcap's PTBTokenizer on a flat list of captions (image order, then caption order): one tokenized string
/// per caption, the number of captions holding a Java line-break character, and the tokenizer's warnings.
py::tuple tokenize(py::sequence captions, bool strict, int threads) {
  std::vector<std::string> text = utf8_list(captions, "caption");
  const int workers = worker_threads(threads);
  ptb::BatchResult r;
  {
    py::gil_scoped_release nogil;
    r = ptb::tokenize_batch(text, strict ? ptb::LineBreakMode::kStrict : ptb::LineBreakMode::kReference, workers);
  }
  return py::make_tuple(r.tokenized, r.captions_with_line_breaks, r.warnings);
}

py::dict evaluation_py(const spice::Evaluation& e) {
  // SPICE's per-category keys; pycocoevalcap's Spice turns every value into a float (None → nan).
  py::dict d;
  d["pr"] = py::float_(e.pr);
  d["re"] = py::float_(e.re);
  d["f"] = py::float_(e.f);
  d["fn"] = py::float_(static_cast<double>(e.fn));
  d["numImages"] = py::float_(static_cast<double>(e.num_images));
  d["fp"] = py::float_(static_cast<double>(e.fp));
  d["tp"] = py::float_(static_cast<double>(e.tp));
  return d;
}

/// SPICE-style (Link Grammar parser) over tokenized captions, as `glamm-eval captions --spice` scores them
/// (tasks::score_spice_style). Returns {score, per_image: [{subset: {pr, re, f, fn, numImages, fp, tp}}],
/// average: {subset: {...}}, counts: {...}, parser}.
py::dict spice_style(py::sequence keys, py::sequence refs, py::sequence hyps, const Meteor& resources, int threads) {
  ScorerInput in = scorer_input(keys, refs, hyps);
  if (in.hyps.size() != in.refs.size() || in.ids.size() != in.hyps.size())
    throw py::value_error("spice_style: keys, refs and hyps differ in length");
  caption::EvalCapResult ev;
  ev.hyps_tokenized = std::move(in.hyps);
  ev.refs_tokenized = std::move(in.refs);
  const int workers = worker_threads(threads);
  tasks::SpiceStyleRun run;
  {
    py::gil_scoped_release nogil;
    run = tasks::score_spice_style(ev, resources.setup.resources, workers, {},
                                   "construct COCOEvalCap without spice='style' to skip it");
  }
  py::dict out;
  out["score"] = run.score.spice;
  py::list per;
  for (const spice::ImageScore& im : run.score.per_image) {
    py::dict cats;
    for (std::size_t k = 0; k < im.scores.size(); ++k)
      cats[py::str(spice::subset_name(spice::kSubsets[k]))] = evaluation_py(im.scores[k]);
    per.append(cats);
  }
  out["per_image"] = per;
  py::dict avg;
  for (std::size_t k = 0; k < run.score.average.size(); ++k)
    avg[py::str(spice::subset_name(spice::kSubsets[k]))] = evaluation_py(run.score.average[k]);
  out["average"] = avg;
  const spice::ParseCounts& c = run.score.counts;
  py::dict counts;
  counts["distinct_captions"] = c.total();
  counts["complete"] = c.complete;
  counts["with_prefix"] = c.with_prefix;
  counts["null_links"] = c.null_links;
  counts["nouns_only"] = c.nouns_only;
  counts["empty"] = c.empty;
  out["counts"] = counts;
  out["parser"] = run.parser_version;
  return out;
}

double rouge_l(py::handle candidate, py::sequence refs) {
  const std::string hyp = utf8_text(candidate, "candidate[0]");
  const std::vector<std::string> r = utf8_list(refs, "refs");
  return caption::rouge_l(hyp, r);
}

}  // namespace

void bind_caption(py::module_ m) {
  py::class_<Meteor>(m, "Meteor", "METEOR 1.5's resources and scorer as `glamm-eval captions` loads them")
      .def_property_readonly("source", [](const Meteor& x) { return x.setup.source; },
                             "the resource folder or jar in use")
      .def_property_readonly("paraphrase",
                             [](const Meteor& x) {
                               const meteor::Resources& r = *x.setup.resources;
                               return meteor::paraphrase_signature(r.paraphrase != nullptr, r.paraphrase_official,
                                                                   r.paraphrase_sha256);
                             },
                             "'official', 'other:<sha256 prefix>' or 'off' (the record's meteor_paraphrase)")
      .def_property_readonly("paraphrase_source", [](const Meteor& x) { return x.setup.resources->paraphrase_source; },
                             "the paraphrase table's path ('' when off)")
      .def_property_readonly("checksum", [](const Meteor& x) { return x.setup.resources->checksum; },
                             "SHA-256 over the loaded resource files (the record's meteor_resources_sha256)")
      .def_property_readonly("variant", [](const Meteor& x) { return x.setup.resources->variant(); },
                             "'official' or 'modified(...)' (the record's meteor_resources_variant)")
      .def_property_readonly("warnings", [](const Meteor& x) { return x.warnings; },
                             "the warnings the command line prints for these resources");
  m.def("load_meteor", &load_meteor, py::arg("resources"), py::arg("paraphrase"), py::arg("spice_only"),
        "Locate and load METEOR's resources as the command line does ('' = look them up); InputError when missing");
  m.def("score", &score, py::arg("keys"), py::arg("refs"), py::arg("hyps"), py::arg("metrics"),
        py::arg("meteor").none(true), py::arg("threads"),
        "caption::score_tokenized on tokenized strings -> dict of corpus and per-image values");
  m.def("tokenize", &tokenize, py::arg("captions"), py::arg("strict"), py::arg("threads"),
        "ptb::tokenize_batch -> (tokenized strings, captions with line breaks, warnings)");
  m.def("spice_style", &spice_style, py::arg("keys"), py::arg("refs"), py::arg("hyps"), py::arg("resources"),
        py::arg("threads"), "SPICE-style (Link Grammar parser) on tokenized strings -> dict");
  m.def("rouge_l", &rouge_l, py::arg("candidate"), py::arg("refs"), "ROUGE-L of one candidate against its references");
}

}  // namespace glamm::python
