// Output records of the inference tasks. See outputs.h.
#include "runners/outputs.h"

#include "metrics/mask/rle.h"
#include "runners/python_json.h"

namespace glamm::runners {

using nlohmann::ordered_json;

namespace {
ordered_json mask_json(const model::PredictedMask& m) {
  ordered_json j;
  j["size"] = {m.height, m.width};
  j["counts"] = m.counts;
  return j;
}
}  // namespace

std::string gcg_output_text(const std::string& image_id, const model::GlammOutput& out) {
  ordered_json j;
  j["image_id"] = image_id;
  j["caption"] = out.caption;
  j["phrases"] = out.phrases;
  ordered_json masks = ordered_json::array();
  for (const auto& m : out.masks) masks.push_back(mask_json(m));
  j["pred_masks"] = std::move(masks);
  return python_dumps(j);
}

ordered_json caption_record(const ordered_json& image_id, const std::string& caption) {
  ordered_json j;
  j["image_id"] = image_id;
  j["caption"] = caption;
  return j;
}

ordered_json refseg_record(const ItemList& list, const WorkItem& item, const RefSentence& s,
                           const model::PredictedMask& mask) {
  ordered_json j;
  j["dataset"] = list.dataset;
  j["split_by"] = list.split_by;
  j["split"] = list.split;
  j["sent_id"] = s.sent_id;
  j["ref_id"] = s.ref_id;
  j["image_id"] = item.refer_image_id;
  j["mask"] = mask_json(mask);
  j["sentence"] = s.text;
  return j;
}

model::PredictedMask empty_mask(int height, int width) {
  mask::Rle r;
  r.h = static_cast<uint32_t>(height);
  r.w = static_cast<uint32_t>(width);
  r.counts = {r.h * r.w};
  model::PredictedMask m;
  m.height = height;
  m.width = width;
  m.counts = mask::to_string(r);
  return m;
}

std::string caption_list_text(const std::vector<ordered_json>& records) {
  return python_dumps(ordered_json(records), 2);
}

std::string jsonl_text(const std::vector<ordered_json>& records) {
  std::string s;
  for (const auto& r : records) s += r.dump() + "\n";
  return s;
}

}  // namespace glamm::runners
