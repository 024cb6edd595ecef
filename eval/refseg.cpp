// `glamm-eval refseg`: referring-expression segmentation (RefCOCO/RefCOCO+/RefCOCOg) cIoU and gIoU as GLaMM's
// eval/referring_seg/infer_and_evaluate.py computes them (paper Table 4). Wires datasets/refer (REFER pickle,
// instances.json, split, GT masks, prediction JSONL) → metrics/mask RefSegAccumulator → Result record.
// Specs: dataset-formats.md §4, mask-metrics.md §4.3 and §5 item 11.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "common/result.h"
#include "datasets/refer.h"
#include "datasets/json_util.h"
#include "eval/command.h"
#include "eval/progress.h"
#include "metrics/mask/glamm_metrics.h"

namespace glamm::cli {
namespace {

namespace fs = std::filesystem;
using namespace glamm::datasets;

struct RefsegOptions {
  CommonOptions common;
  std::string dataset, split_by, split = "val", data_root = "./data", refer_dir, pred;
  bool allow_missing = false, only_present = false;
  std::optional<uint64_t> sampling_seed;
  std::string gt_overlap = "union";
};

constexpr const char* kStrictHelp =
    "Exact arithmetic for cIoU/gIoU: integer intersection/union sums and IoU = I/U (1 when U = 0) in double, instead "
    "of GLaMM's float32 sums and its 1e-5 / 1e-10 epsilons (docs/quirks.md q11)";

/// The ≤ 3 sentences per image GLaMM's ReferSegmDataset draws (np.random.choice without replacement), made
/// reproducible with an explicit seed: a partial Fisher–Yates shuffle on a 64-bit Mersenne Twister, the index drawn
/// by rejection so it does not depend on the standard library's distributions. Returns positions in draw order.
std::vector<std::size_t> draw_three(std::size_t n, std::mt19937_64& rng) {
  std::vector<std::size_t> idx(n);
  for (std::size_t k = 0; k < n; ++k) idx[k] = k;
  if (n < 3) return idx;
  for (std::size_t k = 0; k < 3; ++k) {
    const uint64_t range = n - k;
    const uint64_t limit = UINT64_MAX - UINT64_MAX % range;
    uint64_t r;
    do r = rng(); while (r >= limit);
    std::swap(idx[k], idx[k + r % range]);
  }
  idx.resize(3);
  return idx;
}

std::string list_ids(const std::vector<int64_t>& ids) {
  std::string s;
  for (std::size_t k = 0; k < ids.size() && k < 20; ++k) s += (k ? ", " : "") + std::to_string(ids[k]);
  if (ids.size() > 20) s += fmt::format(", ... ({} in all)", ids.size());
  return s;
}

std::string f32_str(double v) { return fmt::format("{}", static_cast<float>(v)); }

void run_refseg(const RefsegOptions& o) {
  if (o.allow_missing && o.only_present) throw InputError("", "--allow-missing", "use --allow-missing or --only-present, not both");
  const std::string split_by = o.split_by.empty() ? refer::default_split_by(o.dataset) : o.split_by;
  refer::split_names(o.dataset, split_by);  // unknown pair → error before reading any file
  check_record_writable(o.common.json_path.empty()
                            ? "glamm-results/refseg_" + o.dataset + "_" + o.split + "_" +
                                  label_for_file_name(o.common.label.empty() ? default_label_from_file(o.pred)
                                                                             : o.common.label) +
                                  ".json"
                            : o.common.json_path,
                        "--json");
  const refer::GtOverlap overlap = o.gt_overlap == "sum" ? refer::GtOverlap::kSum : refer::GtOverlap::kUnion;
  const fs::path dir = o.refer_dir.empty() ? fs::path(o.data_root) / "Refer_Segm" / o.dataset : fs::path(o.refer_dir);
  const fs::path refs_file = dir / ("refs(" + split_by + ").p");
  const fs::path inst_file = dir / "instances.json";
  for (const fs::path& f : {refs_file, inst_file})
    if (!fs::exists(fs::symlink_status(f)))  // a dangling link is named by the reader
      throw InputError(f.string(), "", "file not found (REFER layout: <data-root>/Refer_Segm/<dataset>/)");
  Progress progress(o.common.quiet);
  std::vector<std::string> warnings;

  progress.start("loading " + refs_file.string() + " and " + inst_file.string() + "...");
  const refer::RefsFile refs = refer::load_refs(refs_file);
  const refer::Instances inst = refer::load_instances(inst_file);
  const refer::Split split = refer::select_split(refs, inst, o.dataset, split_by, o.split);
  const std::vector<refer::Prediction> preds = refer::load_predictions(o.pred);
  progress.done();
  for (std::string& w : datasets::take_duplicate_key_warnings()) warnings.push_back(std::move(w));
  if (refs.latin1_strings)
    warnings.push_back(fmt::format("{} byte string(s) of the refs pickle are not UTF-8 and were read as Latin-1",
                                   refs.latin1_strings));

  // Match predictions to sentences: unknown ids, mismatched ref/image ids, wrong sizes, duplicates → errors.
  std::vector<const refer::Prediction*> by_sample(split.samples.size(), nullptr);
  for (const refer::Prediction& p : preds) {
    const std::string rec = fmt::format("line {} (sent_id {})", p.line, p.sent_id);
    auto check = [&](const std::string& field, const std::string& have, const std::string& want) {
      if (!have.empty() && have != want)
        throw InputError(o.pred, rec, fmt::format("'{}' is '{}' but the evaluation is for '{}'", field, have, want));
    };
    check("dataset", p.dataset, o.dataset);
    check("split_by", p.split_by, split_by);
    check("split", p.split, o.split);
    auto it = split.sent_index.find(p.sent_id);
    if (it == split.sent_index.end())
      throw InputError(o.pred, rec, fmt::format("sent_id {} is not a sentence of {} ({}) split {}", p.sent_id,
                                                o.dataset, split_by, o.split));
    const refer::Sample& s = split.samples[it->second];
    if (p.ref_id != s.ref_id)
      throw InputError(o.pred, rec, fmt::format("ref_id {} but sent_id {} belongs to ref {}", p.ref_id, p.sent_id, s.ref_id));
    if (p.image_id != s.image_id)
      throw InputError(o.pred, rec,
                       fmt::format("image_id {} but sent_id {} belongs to image {}", p.image_id, p.sent_id, s.image_id));
    const refer::Image& im = inst.images[s.image];
    if (p.mask.h != im.height || p.mask.w != im.width)
      throw InputError(o.pred, rec, fmt::format("mask size [{}, {}] differs from the image size [{}, {}] (image {})",
                                                p.mask.h, p.mask.w, im.height, im.width, s.image_id));
    if (by_sample[it->second])
      throw InputError(o.pred, rec, fmt::format("duplicate prediction for sent_id {} (first on line {})", p.sent_id,
                                                by_sample[it->second]->line));
    by_sample[it->second] = &p;
  }

  // The evaluated items: every image of the split with all (or ≤ 3 drawn) sentences.
  std::unique_ptr<std::mt19937_64> rng;
  if (o.sampling_seed) rng = std::make_unique<std::mt19937_64>(*o.sampling_seed);
  std::vector<std::vector<std::size_t>> items;
  for (const auto& [b, e] : split.items) {
    std::vector<std::size_t> sel;
    if (rng) {
      for (std::size_t k : draw_three(e - b, *rng)) sel.push_back(b + k);
    } else {
      for (std::size_t k = b; k < e; ++k) sel.push_back(k);
    }
    items.push_back(std::move(sel));
  }
  std::vector<int64_t> missing;
  for (const auto& it : items)
    for (std::size_t k : it)
      if (!by_sample[k]) missing.push_back(split.samples[k].sent_id);
  std::vector<bool> drawn(split.samples.size(), false);
  for (const auto& it : items)
    for (std::size_t k : it) drawn[k] = true;
  std::size_t unused = 0;
  for (std::size_t k = 0; k < split.samples.size(); ++k) unused += (by_sample[k] && !drawn[k]) ? 1 : 0;
  if (!missing.empty()) {
    if (!o.allow_missing && !o.only_present)
      throw InputError(o.pred, "", fmt::format("{} of {} evaluated sentences have no prediction: sent_id {}. Pass "
                                               "--allow-missing to score them as empty masks or --only-present to "
                                               "score only the predicted ones",
                                               missing.size(), split.samples.size(), list_ids(missing)));
    if (o.allow_missing)
      warnings.push_back(fmt::format("{} sentence(s) without a prediction scored as empty masks (--allow-missing)",
                                     missing.size()));
    else
      warnings.push_back(fmt::format("{} sentence(s) without a prediction left out (--only-present): the score "
                                     "covers only part of the split", missing.size()));
  }
  if (o.only_present) {
    for (auto& it : items)
      it.erase(std::remove_if(it.begin(), it.end(), [&](std::size_t k) { return !by_sample[k]; }), it.end());
    items.erase(std::remove_if(items.begin(), items.end(), [](const auto& v) { return v.empty(); }), items.end());
    if (items.empty()) throw InputError(o.pred, "", "no prediction matches a sentence of the split");
  }

  // Per-target intersection/union, in parallel over images; accumulated in item order afterwards.
  progress.start(fmt::format("scoring {} images...", items.size()));
  std::vector<std::vector<mask::RefSegAccumulator::Counts>> counts(items.size());
  std::atomic<std::size_t> next{0};
  std::vector<std::string> errors(items.size());
  auto work = [&] {
    for (std::size_t i = next++; i < items.size(); i = next++) {
      try {
        if (overlap == refer::GtOverlap::kUnion) {  // 0/1 masks: counts straight from the runs
          std::unordered_map<std::size_t, mask::Rle> gts;
          for (std::size_t k : items[i]) {
            const refer::Sample& s = split.samples[k];
            auto g = gts.find(s.annotation);
            if (g == gts.end()) g = gts.emplace(s.annotation, refer::gt_rle(inst, s.annotation)).first;
            const int64_t ag = mask::area(g->second);
            if (!by_sample[k]) {
              counts[i].push_back({0, ag});
              continue;
            }
            const mask::Rle& pr = by_sample[k]->mask;
            const int64_t inter = mask::area(mask::merge({pr, g->second}, true));
            counts[i].push_back({inter, static_cast<int64_t>(mask::area(pr)) + ag - inter});
          }
          continue;
        }
        std::unordered_map<std::size_t, std::vector<uint8_t>> gts;
        for (std::size_t k : items[i]) {
          const refer::Sample& s = split.samples[k];
          auto g = gts.find(s.annotation);
          if (g == gts.end()) g = gts.emplace(s.annotation, refer::gt_mask(inst, s.annotation, overlap)).first;
          std::vector<uint8_t> pm = by_sample[k] ? mask::decode(by_sample[k]->mask)
                                                 : std::vector<uint8_t>(g->second.size(), 0);
          counts[i].push_back(mask::RefSegAccumulator::target_counts(pm.data(), g->second.data(), pm.size()));
        }
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    }
  };
  const int nt = std::max(1, std::min<int>(resolve_threads(o.common), static_cast<int>(items.size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < nt; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (const auto& e : errors)
    if (!e.empty()) throw InputError(e);

  mask::RefSegAccumulator acc(o.common.strict);
  nlohmann::json per = nlohmann::json::array();
  std::size_t n_sent = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::vector<double> ious = acc.add_item(counts[i]);
    for (std::size_t t = 0; t < items[i].size(); ++t) {
      const refer::Sample& s = split.samples[items[i][t]];
      per.push_back({{"sent_id", s.sent_id}, {"ref_id", s.ref_id}, {"image_id", s.image_id}, {"item", i},
                     {"intersection", counts[i][t].intersection}, {"union", counts[i][t].union_},
                     {"iou", ious[t]}, {"predicted", by_sample[items[i][t]] != nullptr}});
      ++n_sent;
    }
  }
  progress.done();
  const double giou = acc.giou(), ciou = acc.ciou();

  for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
  std::cout << fmt::format("refseg {} ({}) {}: {} sentences, {} refs, {} images{}{}\n", o.dataset, split_by, o.split,
                           n_sent, split.num_refs, items.size(),
                           o.sampling_seed ? fmt::format(", GLaMM <=3-per-image draw (seed {})", *o.sampling_seed) : "",
                           o.only_present ? ", ONLY PRESENT predictions" : "");
  {
    std::string counts;
    for (const auto& [name, c] : refer::count_splits(refs))
      counts += fmt::format("{}{}: {} images / {} refs / {} sentences", counts.empty() ? "" : "; ", name, c.images,
                            c.refs, c.sentences);
    std::cout << fmt::format("refs({}).p splits: {}\n", split_by, counts);
  }
  if (o.common.strict)
    std::cout << fmt::format("giou: {:.7f}  ciou: {:.7f}  (--strict: exact arithmetic)\n", giou, ciou);
  else
    std::cout << fmt::format("giou: {}  ciou: {}\n", f32_str(giou), f32_str(ciou));
  std::cout.flush();

  Result r;
  r.task = "refseg";
  r.dataset = o.dataset;
  r.split = o.split;
  r.label = o.common.label.empty() ? cli::default_label_from_file(o.pred) : o.common.label;
  r.metrics = {{"cIoU", ciou}, {"gIoU", giou}};
  r.signature.set("metric", "glamm-refseg");
  r.signature.set("reference", "groundingLMM eval/referring_seg/infer_and_evaluate.py");
  r.signature.set("dataset", o.dataset);
  r.signature.set("split_by", split_by);
  r.signature.set("split", o.split);
  r.signature.set("sentences", o.sampling_seed ? fmt::format("glamm-draw-3-per-image(seed={})", *o.sampling_seed)
                                               : std::string("all"));
  r.signature.set("gt_overlap", o.gt_overlap);
  r.signature.set("coverage", o.only_present ? "only-present" : o.allow_missing ? "allow-missing" : "complete");
  r.signature.set("arithmetic", o.common.strict ? "exact" : "float32(eps 1e-5/1e-10)");
  r.signature.set("strict", o.common.strict ? "on(exact_arithmetic)" : "off");
  r.signature.set("version", tool_version());
  r.add_input("refs", refs_file);
  r.add_input("instances", inst_file);
  r.add_input("predictions", o.pred);
  r.warnings = warnings;
  r.details["num_sentences"] = n_sent;
  r.details["num_images"] = items.size();
  r.details["num_refs"] = split.num_refs;
  r.details["num_split_sentences"] = split.samples.size();
  r.details["num_predictions"] = preds.size();
  r.details["num_missing"] = missing.size();
  r.details["num_predictions_not_drawn"] = unused;
  r.details["intersection_sum"] = acc.intersection_sum();
  r.details["union_sum"] = acc.union_sum();
  r.details["giou_str"] = f32_str(giou);
  r.details["ciou_str"] = f32_str(ciou);
  nlohmann::json sc = nlohmann::json::object();
  for (const auto& [name, c] : refer::count_splits(refs))
    sc[name] = {{"images", c.images}, {"refs", c.refs}, {"sentences", c.sentences}};
  r.details["split_counts"] = sc;
  r.details["refs_py2_strings"] = refs.py2_strings;
  r.details["refs_latin1_strings"] = refs.latin1_strings;
  r.details["per_sample_fields"] = {
      {"intersection", "foreground pixels in both masks (GT 255 ignored)"},
      {"union", "area_pred + area_gt - intersection"},
      {"item", "index of the image item: gIoU/cIoU accumulate per item in this order"},
      {"iou", "the per-target IoU as the reference computes it (float32 with eps, or exact under --strict)"}};
  r.per_sample = std::move(per);
  const std::string out = o.common.json_path.empty()
                              ? "glamm-results/refseg_" + o.dataset + "_" + o.split + "_" + cli::label_for_file_name(r.label) + ".json"
                              : o.common.json_path;
  write_record(out, r);
}

void add_refseg(CLI::App& app) {
  auto o = std::make_shared<RefsegOptions>();
  CLI::App* sub = app.add_subcommand(
      "refseg",
      "Referring-expression segmentation cIoU / gIoU on RefCOCO, RefCOCO+ and RefCOCOg (paper Table 4) and "
      "RefCLEF (ReferItGame; REFER layout too, not in the paper) as GLaMM's eval/referring_seg computes them; every "
      "sentence of the split by default");
  sub->add_option("--dataset", o->dataset, "refcoco, refcoco+, refcocog or refclef")
      ->required()
      ->check(CLI::IsMember({"refcoco", "refcoco+", "refcocog", "refclef"}));
  sub->add_option("--split-by", o->split_by, "unc, umd, google, berkeley (refclef) (default: umd for refcocog, unc otherwise, as GLaMM)");
  sub->add_option("--split", o->split, "val, testA, testB (unc; refclef also testC), val, test (umd, berkeley), ...; 'test' selects every split "
                                       "containing 'test' as the REFER API does")
      ->capture_default_str();
  sub->add_option("--data-root", o->data_root, "GLaMM's data folder; the REFER files are read from "
                                               "<data-root>/Refer_Segm/<dataset>/")
      ->capture_default_str();
  sub->add_option("--refer-dir", o->refer_dir, "Folder with refs(<splitBy>).p and instances.json (overrides "
                                               "--data-root)");
  sub->add_option("--pred", o->pred, "Predictions: JSON Lines, one {sent_id, ref_id, image_id, mask: compressed RLE} "
                                     "per sentence (docs/quirks.md, formats), or a JSON array of them")
      ->required();
  sub->add_flag("--allow-missing", o->allow_missing, "Score sentences without a prediction as empty masks (counted "
                                                     "and printed) instead of failing");
  sub->add_flag("--only-present", o->only_present, "Score only the sentences that have a prediction (named in the "
                                                   "output and the signature)");
  sub->add_option("--glamm-sampling", o->sampling_seed,
                  "Reproduce GLaMM's protocol of at most 3 random sentences per image, drawn with this seed "
                  "(the official script draws without a seed)");
  sub->add_option("--gt-overlap", o->gt_overlap, "union (default): overlapping polygon parts give 1; sum: GLaMM's "
                                                 "summed parts (overlap pixels leave the GT area)")
      ->check(CLI::IsMember({"union", "sum"}))
      ->capture_default_str();
  add_common_options(sub, o->common, kStrictHelp, "glamm-results/refseg_<dataset>_<split>_<label>.json");
  sub->callback([o] { run_refseg(*o); });
}

GLAMM_REGISTER_COMMAND(60, add_refseg);

}  // namespace
}  // namespace glamm::cli
