#include "eval/tasks/refseg_schema.h"

#include <fmt/format.h>

#include "common/error.h"

namespace glamm::tasks {

using nlohmann::json;

json RefsegSample::to_json() const {
  return {{"sent_id", sent_id},           {"ref_id", ref_id}, {"image_id", image_id}, {"item", item},
          {"intersection", intersection}, {"union", union_},  {"iou", iou},           {"predicted", predicted}};
}

RefsegSample RefsegSample::from_json(const json& j, const std::string& source, std::size_t index) {
  const std::string rec = fmt::format("per_sample[{}]", index);
  if (!j.is_object()) throw InputError(source, rec, "a refseg sample must be an object");
  auto integer = [&](const char* key) -> const json& {
    if (!j.contains(key)) throw InputError(source, rec, fmt::format("'{}' is missing", key));
    const json& v = j.at(key);
    if (!v.is_number_integer()) throw InputError(source, rec, fmt::format("'{}' must be an integer", key));
    return v;
  };
  RefsegSample s;
  s.sent_id = integer("sent_id").get<int64_t>();
  s.ref_id = integer("ref_id").get<int64_t>();
  s.image_id = integer("image_id").get<int64_t>();
  const json& item = integer("item");
  if (item.get<int64_t>() < 0) throw InputError(source, rec, "'item' must not be negative");
  s.item = item.get<std::size_t>();
  s.intersection = integer("intersection").get<int64_t>();
  s.union_ = integer("union").get<int64_t>();
  if (!j.contains("iou") || !j.at("iou").is_number()) throw InputError(source, rec, "'iou' must be a number");
  s.iou = j.at("iou").get<double>();
  if (!j.contains("predicted") || !j.at("predicted").is_boolean())
    throw InputError(source, rec, "'predicted' must be true or false");
  s.predicted = j.at("predicted").get<bool>();
  return s;
}

json RefsegSample::field_descriptions() {
  return {{"intersection", "foreground pixels in both masks (GT 255 ignored)"},
          {"union", "area_pred + area_gt - intersection"},
          {"item", "index of the image item: gIoU/cIoU accumulate per item in this order"},
          {"iou", "the per-target IoU as the reference computes it (float32 with eps, or exact under --strict)"}};
}

}  // namespace glamm::tasks
