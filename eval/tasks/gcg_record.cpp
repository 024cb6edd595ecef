// The GCG results record and the quirk table of `gcg --strict`. See gcg.h.
#include "eval/tasks/gcg.h"

namespace glamm::tasks {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void sign(Result& r, const GcgReport& g, bool builtin_sample) {
  r.signature.set("metric", "glamm-gcg");
  r.signature.set("reference", "groundingLMM eval/gcg/evaluate.py + pycocotools-2.0.6 + pycocoevalcap");
  r.signature.set("split", g.files.split);
  r.signature.set("text_similarity", g.similarity_signature);
  r.signature.set("tokenizer", std::string("ptb-corenlp-3.4.1+pycocoevalcap-filter:") +
                                   (g.strict ? "strict" : "reference"));
  if (g.with_meteor) {
    for (const auto& [k, v] : g.meteor_signature.fields) r.signature.set(k, v);
  } else {
    r.signature.set("meteor", "not-computed(no-resources)");
  }
  r.signature.set("strict", gcg_quirks().signature_value(g.strict));
  if (builtin_sample) r.signature.set("data", kSyntheticSampleData);
  r.signature.set("version", tool_version());
}

void add_inputs(Result& r, const GcgReport& g, bool builtin_sample) {
  r.add_input("caption_gt", g.files.caption_gt_file());
  r.add_input("mask_gt", g.files.mask_gt_file());
  if (g.similarity_role == "text_sim") {
    r.add_input("text_sim", g.similarity_path);
  } else {
    r.inputs[g.similarity_role] = g.similarity_path;  // BERT: the weights checksum is in the signature
  }
  if (builtin_sample) r.inputs["images"] = (fs::path(g.files.gt_dir) / "images").string();
  const std::vector<std::string>& dirs = g.files.pred_dirs;
  if (!dirs.empty()) r.inputs["predictions"] = dirs.front();
  for (std::size_t k = 1; k < dirs.size(); ++k) r.inputs["predictions_" + std::to_string(k)] = dirs[k];
}

void add_details(Result& r, const GcgReport& g) {
  r.details["coco_stats"] = g.coco_stats;
  r.details["num_images"] = g.num_images;
  r.details["num_pred_masks"] = g.num_pred_masks;
  r.details["num_gt_masks"] = g.num_gt_masks;
  r.details["recall_true_positives"] = g.recall_true_positives;
  r.details["recall_actual_positives"] = g.recall_actual_positives;
  r.details["failure_breakdown"] = g.failures.to_json();
  if (g.similarity_role == "text_sim") r.details["text_sim_coverage"] = g.similarity_coverage;
  r.details["bleu_info"] = {{"testlen", g.bleu_total.testlen},
                            {"reflen", g.bleu_total.reflen},
                            {"guess", g.bleu_total.guess},
                            {"correct", g.bleu_total.correct},
                            {"ratio", g.bleu_ratio}};
}

}  // namespace

Result to_record(const GcgReport& g, const GcgRecordInfo& info) {
  Result r;
  r.task = "gcg";
  r.dataset = "grandf";
  r.split = g.files.split;
  r.label = info.label.empty() ? gcg_default_label(g.files.pred_dirs) : info.label;
  const double ap50 = g.coco_stats.size() > 1 ? g.coco_stats[1] : 0.0, ap = g.coco_stats.empty() ? 0.0 : g.coco_stats[0];
  if (g.with_meteor) r.metrics.emplace_back("METEOR", g.caption_metric("METEOR"));
  r.metrics.insert(r.metrics.end(), {{"CIDEr", g.caption_metric("CIDEr")},
                                     {"AP50", ap50},
                                     {"mIoU", g.miou},
                                     {"Recall", g.recall},
                                     {"AP", ap}});
  for (const auto& kv : g.caption_metrics)
    if (kv.first != "METEOR" && kv.first != "CIDEr") r.metrics.push_back(kv);
  sign(r, g, info.builtin_sample);
  add_inputs(r, g, info.builtin_sample);
  r.warnings = g.warnings;
  add_details(r, g);
  json per = json::array();
  for (const GcgSample& s : g.samples) per.push_back(s.to_json());
  r.per_sample = std::move(per);
  return r;
}

std::string gcg_default_label(const std::vector<std::string>& pred_dirs) {
  if (pred_dirs.empty()) return "run";
  fs::path p = fs::path(pred_dirs.front()).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  const std::string s = p.filename().string();
  return s.empty() ? "run" : s;
}

const QuirkTable& gcg_quirks() {
  // Signature order (records are compared by it): q1, q2, q3, q5, q6, q4, q7, q13.
  static const QuirkTable table{
      "gcg",
      "Use the corrected GCG variants",
      {{"q1", "miou_nan_as_1", "empty-vs-empty mask pairs count IoU 1 in mIoU"},
       {"q2", "miou_unmatched_count", "unmatched masks count 0 in mIoU"},
       {"q3", "recall_no_break", "recall keeps looking past a rejected pair"},
       {"q5", "recall_no_nan", "recall never accepts NaN-IoU pairs"},
       {"q6", "recall_label_coupling", "recall pairs only masks that have a phrase"},
       {"q4", "recall_errors_fatal", "recall fails loudly instead of skipping an image"},
       {"q7", "gt_id_zero_matchable", "GT id 0 can match in AP"},
       {"q13", "gt_category1_noncrowd", "mIoU/recall use only category-1 non-crowd GT like AP"},
       // Recorded in the signature's `tokenizer` entry (":strict"), not in `strict`.
       {"", "", "caption line breaks become spaces (as captions --strict)"}},
      "not comparable to the paper"};
  return table;
}

std::string gcg_strict_help() {
  return gcg_quirks().help_text();
}

}  // namespace glamm::tasks
