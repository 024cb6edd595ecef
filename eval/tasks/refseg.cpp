#include "eval/tasks/refseg.h"

#include <algorithm>
#include <memory>
#include <unordered_map>

#include <fmt/format.h>

#include "common/error.h"
#include "datasets/json_util.h"
#include "metrics/mask/glamm_metrics.h"
#include "metrics/parallel.h"

namespace glamm::tasks {

namespace refer = datasets::refer;
using Counts = mask::RefSegAccumulator::Counts;

namespace {

std::string list_ids(const std::vector<int64_t>& ids) {
  std::string s;
  for (std::size_t k = 0; k < ids.size() && k < 20; ++k) s += (k ? ", " : "") + std::to_string(ids[k]);
  if (ids.size() > 20) s += fmt::format(", ... ({} in all)", ids.size());
  return s;
}

std::string f32_str(double v) { return fmt::format("{}", static_cast<float>(v)); }

std::string prediction_record(const refer::Prediction& p) {
  return fmt::format("line {} (sent_id {})", p.line, p.sent_id);
}

/// Check every prediction against the split and index it by sample: a prediction for another dataset/split, an
/// unknown sent_id, a ref/image id or mask size unlike the sentence's, or a second prediction → InputError.
std::vector<const refer::Prediction*> match_predictions(const RefsegInputs& in) {
  const refer::Split& split = in.split;
  std::vector<const refer::Prediction*> by_sample(split.samples.size(), nullptr);
  for (const refer::Prediction& p : in.predictions) {
    const std::string rec = prediction_record(p);
    auto fail = [&](const std::string& why) { throw InputError(in.predictions_file, rec, why); };
    auto check = [&](const std::string& field, const std::string& have, const std::string& want) {
      if (!have.empty() && have != want)
        fail(fmt::format("'{}' is '{}' but the evaluation is for '{}'", field, have, want));
    };
    check("dataset", p.dataset, split.dataset);
    check("split_by", p.split_by, split.split_by);
    check("split", p.split, split.split);
    auto it = split.sent_index.find(p.sent_id);
    if (it == split.sent_index.end())
      fail(fmt::format("sent_id {} is not a sentence of {} ({}) split {}", p.sent_id, split.dataset, split.split_by,
                       split.split));
    const refer::Sample& s = split.samples[it->second];
    if (p.ref_id != s.ref_id)
      fail(fmt::format("ref_id {} but sent_id {} belongs to ref {}", p.ref_id, p.sent_id, s.ref_id));
    if (p.image_id != s.image_id)
      fail(fmt::format("image_id {} but sent_id {} belongs to image {}", p.image_id, p.sent_id, s.image_id));
    const refer::Image& im = in.instances.images[s.image];
    if (p.mask.h != im.height || p.mask.w != im.width)
      fail(fmt::format("mask size [{}, {}] differs from the image size [{}, {}] (image {})", p.mask.h, p.mask.w,
                       im.height, im.width, s.image_id));
    if (by_sample[it->second])
      fail(fmt::format("duplicate prediction for sent_id {} (first on line {})", p.sent_id,
                       by_sample[it->second]->line));
    by_sample[it->second] = &p;
  }
  return by_sample;
}

/// The evaluated items: every image of the split with all its sentences, or <= 3 drawn ones when seeded.
std::vector<std::vector<std::size_t>> select_items(const refer::Split& split, const std::optional<uint64_t>& seed) {
  std::unique_ptr<std::mt19937_64> rng;
  if (seed) rng = std::make_unique<std::mt19937_64>(*seed);
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
  return items;
}

/// Apply the coverage rule to the items: missing predictions are an error (kComplete), kept as empty masks
/// (kAllowMissing) or dropped with the items left empty (kOnlyPresent). Fills the counts and warnings of `r`.
void apply_coverage(const RefsegInputs& in, const std::vector<const refer::Prediction*>& by_sample,
                    RefsegCoverage coverage, std::vector<std::vector<std::size_t>>& items, RefsegReport& r) {
  const refer::Split& split = in.split;
  std::vector<int64_t> missing;
  std::vector<bool> drawn(split.samples.size(), false);
  for (const auto& it : items)
    for (std::size_t k : it) {
      drawn[k] = true;
      if (!by_sample[k]) missing.push_back(split.samples[k].sent_id);
    }
  for (std::size_t k = 0; k < split.samples.size(); ++k) r.num_predictions_not_drawn += (by_sample[k] && !drawn[k]);
  r.num_missing = missing.size();
  if (!missing.empty()) {
    if (coverage == RefsegCoverage::kComplete)
      throw InputError(in.predictions_file, "",
                       fmt::format("{} of {} evaluated sentences have no prediction: sent_id {}. Pass "
                                   "--allow-missing to score them as empty masks or --only-present to score only "
                                   "the predicted ones",
                                   missing.size(), split.samples.size(), list_ids(missing)));
    if (coverage == RefsegCoverage::kAllowMissing)
      r.warnings.push_back(fmt::format(
          "{} sentence(s) without a prediction scored as empty masks (--allow-missing)", missing.size()));
    else
      r.warnings.push_back(fmt::format("{} sentence(s) without a prediction left out (--only-present): the score "
                                       "covers only part of the split",
                                       missing.size()));
  }
  if (coverage == RefsegCoverage::kOnlyPresent) {
    for (auto& it : items)
      it.erase(std::remove_if(it.begin(), it.end(), [&](std::size_t k) { return !by_sample[k]; }), it.end());
    items.erase(std::remove_if(items.begin(), items.end(), [](const auto& v) { return v.empty(); }), items.end());
    if (items.empty()) throw InputError(in.predictions_file, "", "no prediction matches a sentence of the split");
  }
}

/// A prediction mask whose runs do not cover its h*w pixels (possible only for inputs built in memory: the file
/// reader checks it) → InputError naming the prediction.
void check_mask(const RefsegInputs& in, const refer::Prediction& p) {
  uint64_t sum = 0;
  for (uint32_t c : p.mask.counts) sum += c;
  const uint64_t n = static_cast<uint64_t>(p.mask.h) * p.mask.w;
  if (sum != n)
    throw InputError(in.predictions_file, prediction_record(p),
                     fmt::format("bad 'mask': its counts sum to {}, not h*w = {}", sum, n));
}

/// Per-target counts of one item with 0/1 GT masks, straight from the runs (no decoding).
std::vector<Counts> union_counts(const RefsegInputs& in, const std::vector<const refer::Prediction*>& by_sample,
                                 const std::vector<std::size_t>& item) {
  std::vector<Counts> out;
  std::unordered_map<std::size_t, mask::Rle> gts;
  for (std::size_t k : item) {
    const refer::Sample& s = in.split.samples[k];
    auto g = gts.find(s.annotation);
    if (g == gts.end()) g = gts.emplace(s.annotation, refer::gt_rle(in.instances, s.annotation)).first;
    const int64_t ag = mask::area(g->second);
    if (!by_sample[k]) {
      out.push_back({0, ag});
      continue;
    }
    const mask::Rle& pr = by_sample[k]->mask;
    check_mask(in, *by_sample[k]);
    const int64_t inter = mask::area(mask::merge({pr, g->second}, true));
    out.push_back({inter, static_cast<int64_t>(mask::area(pr)) + ag - inter});
  }
  return out;
}

/// Per-target counts of one item on decoded masks (GLaMM's summed GT parts: overlap pixels leave the GT area).
std::vector<Counts> decoded_counts(const RefsegInputs& in, const std::vector<const refer::Prediction*>& by_sample,
                                   const std::vector<std::size_t>& item, refer::GtOverlap overlap) {
  std::vector<Counts> out;
  std::unordered_map<std::size_t, std::vector<uint8_t>> gts;
  for (std::size_t k : item) {
    const refer::Sample& s = in.split.samples[k];
    auto g = gts.find(s.annotation);
    if (g == gts.end()) g = gts.emplace(s.annotation, refer::gt_mask(in.instances, s.annotation, overlap)).first;
    if (by_sample[k]) check_mask(in, *by_sample[k]);
    const std::vector<uint8_t> pm =
        by_sample[k] ? mask::decode(by_sample[k]->mask) : std::vector<uint8_t>(g->second.size(), 0);
    out.push_back(mask::RefSegAccumulator::target_counts(pm.data(), g->second.data(), pm.size()));
  }
  return out;
}

}  // namespace

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

RefsegInputs load_refseg_inputs(const RefsegFiles& f) {
  RefsegInputs in;
  in.refs_file = f.refs;
  in.instances_file = f.instances;
  in.predictions_file = f.predictions;
  in.refs = refer::load_refs(f.refs);
  in.instances = refer::load_instances(f.instances);
  in.split = refer::select_split(in.refs, in.instances, f.dataset, f.split_by, f.split);
  in.predictions = refer::load_predictions(f.predictions);
  for (std::string& w : datasets::take_duplicate_key_warnings()) in.warnings.push_back(std::move(w));
  if (in.refs.latin1_strings)
    in.warnings.push_back(fmt::format("{} byte string(s) of the refs pickle are not UTF-8 and were read as Latin-1",
                                      in.refs.latin1_strings));
  return in;
}

RefsegReport evaluate_refseg(const RefsegInputs& in, const RefsegOptions& o) {
  RefsegReport r;
  r.dataset = in.split.dataset;
  r.split_by = in.split.split_by;
  r.split = in.split.split;
  r.strict = o.strict;
  r.sampling_seed = o.sampling_seed;
  r.coverage = o.coverage;
  r.gt_overlap = o.gt_overlap;
  r.refs_file = in.refs_file;
  r.instances_file = in.instances_file;
  r.predictions_file = in.predictions_file;
  r.warnings = in.warnings;

  const std::vector<const refer::Prediction*> by_sample = match_predictions(in);
  std::vector<std::vector<std::size_t>> items = select_items(in.split, o.sampling_seed);
  apply_coverage(in, by_sample, o.coverage, items, r);

  // Per-target intersection/union, in parallel over images; accumulated in item order afterwards. The loop
  // rethrows the smallest failing item's exception, so the error does not depend on the thread count.
  if (o.stage_started) o.stage_started(fmt::format("scoring {} images...", items.size()));
  std::vector<std::vector<Counts>> counts(items.size());
  metrics::parallel_for(
      items.size(), o.threads,
      [&](std::size_t i) {
        counts[i] = o.gt_overlap == refer::GtOverlap::kUnion ? union_counts(in, by_sample, items[i])
                                                             : decoded_counts(in, by_sample, items[i], o.gt_overlap);
      },
      1);
  mask::RefSegAccumulator acc(o.strict);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::vector<double> ious = acc.add_item(counts[i]);
    for (std::size_t t = 0; t < items[i].size(); ++t) {
      const refer::Sample& s = in.split.samples[items[i][t]];
      r.samples.push_back({s.sent_id, s.ref_id, s.image_id, i, counts[i][t].intersection, counts[i][t].union_,
                           ious[t], by_sample[items[i][t]] != nullptr});
    }
  }
  if (o.stage_done) o.stage_done();

  r.giou = acc.giou();
  r.ciou = acc.ciou();
  r.giou_str = f32_str(r.giou);
  r.ciou_str = f32_str(r.ciou);
  r.intersection_sum = acc.intersection_sum();
  r.union_sum = acc.union_sum();
  r.num_sentences = r.samples.size();
  r.num_images = items.size();
  r.num_refs = in.split.num_refs;
  r.num_split_sentences = in.split.samples.size();
  r.num_predictions = in.predictions.size();
  r.split_counts = refer::count_splits(in.refs);
  r.refs_py2_strings = in.refs.py2_strings;
  r.refs_latin1_strings = in.refs.latin1_strings;
  return r;
}

namespace {
std::string coverage_name(RefsegCoverage c) {
  switch (c) {
    case RefsegCoverage::kOnlyPresent: return "only-present";
    case RefsegCoverage::kAllowMissing: return "allow-missing";
    case RefsegCoverage::kComplete: break;
  }
  return "complete";
}
}  // namespace

Result to_record(const RefsegReport& r, const std::string& label) {
  Result out;
  out.task = "refseg";
  out.dataset = r.dataset;
  out.split = r.split;
  out.label = label;
  out.metrics = {{"cIoU", r.ciou}, {"gIoU", r.giou}};
  Signature& sig = out.signature;
  sig.set("metric", "glamm-refseg");
  sig.set("reference", "groundingLMM eval/referring_seg/infer_and_evaluate.py");
  sig.set("dataset", r.dataset);
  sig.set("split_by", r.split_by);
  sig.set("split", r.split);
  sig.set("sentences", r.sampling_seed ? fmt::format("glamm-draw-3-per-image(seed={})", *r.sampling_seed)
                                       : std::string("all"));
  sig.set("gt_overlap", r.gt_overlap == refer::GtOverlap::kSum ? "sum" : "union");
  sig.set("coverage", coverage_name(r.coverage));
  sig.set("arithmetic", r.strict ? "exact" : "float32(eps 1e-5/1e-10)");
  sig.set("strict", refseg_quirks().signature_value(r.strict));
  sig.set("version", tool_version());
  out.add_input("refs", r.refs_file);
  out.add_input("instances", r.instances_file);
  out.add_input("predictions", r.predictions_file);
  out.warnings = r.warnings;
  nlohmann::json& d = out.details;
  d["num_sentences"] = r.num_sentences;
  d["num_images"] = r.num_images;
  d["num_refs"] = r.num_refs;
  d["num_split_sentences"] = r.num_split_sentences;
  d["num_predictions"] = r.num_predictions;
  d["num_missing"] = r.num_missing;
  d["num_predictions_not_drawn"] = r.num_predictions_not_drawn;
  d["intersection_sum"] = r.intersection_sum;
  d["union_sum"] = r.union_sum;
  d["giou_str"] = r.giou_str;
  d["ciou_str"] = r.ciou_str;
  nlohmann::json sc = nlohmann::json::object();
  for (const auto& [name, c] : r.split_counts)
    sc[name] = {{"images", c.images}, {"refs", c.refs}, {"sentences", c.sentences}};
  d["split_counts"] = sc;
  d["refs_py2_strings"] = r.refs_py2_strings;
  d["refs_latin1_strings"] = r.refs_latin1_strings;
  d["per_sample_fields"] = RefsegSample::field_descriptions();
  for (const RefsegSample& s : r.samples) out.per_sample.push_back(s.to_json());
  return out;
}

const QuirkTable& refseg_quirks() {
  static const QuirkTable table{
      "refseg",
      "Exact arithmetic for cIoU/gIoU",
      {{"q11", "exact_arithmetic",
        "integer intersection/union sums and IoU = I/U (1 when U = 0) in double, instead of GLaMM's float32 sums and "
        "its 1e-5 / 1e-10 epsilons"}},
      ""};
  return table;
}

}  // namespace glamm::tasks
