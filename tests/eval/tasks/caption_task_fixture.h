// Helpers of the in-process caption-task tests: a METEOR scorer handed to the task layer as the command line hands
// it (without the command line's signature entries), and small file writers.
#pragma once

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "eval/tasks/caption_tasks.h"
#include "metrics/meteor/meteor.h"

namespace glamm::testing {

/// A METEOR scorer on the resources in `dir` (paraphrase module off) and the CaptionMeteor that points at it.
struct TaskMeteor {
  std::shared_ptr<const meteor::Resources> resources;
  std::unique_ptr<meteor::Scorer> scorer;
  tasks::CaptionMeteor meteor;

  explicit TaskMeteor(const std::filesystem::path& dir)
      : resources(std::make_shared<const meteor::Resources>(meteor::Resources::load(dir.string(), "-"))),
        scorer(std::make_unique<meteor::Scorer>(resources, meteor::Config{})) {
    meteor.scorer = scorer.get();
    meteor.resources = resources;
    meteor.source = dir.string();
  }
};

/// Write `text` to `path`.
inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

/// A region-caption GT of 3 regions on 2 photos (two regions share 2301.jpg) and predictions for regions 1 and 3:
/// the RegcapCli tests (tests/eval/regcap) and their in-process twins.
inline const char* const kRegcapGt = R"({"images": [
   {"id": 1, "file_name": "2301.jpg", "height": 6, "width": 8},
   {"id": 2, "file_name": "2301.jpg", "height": 6, "width": 8},
   {"id": 3, "file_name": "2417.jpg", "height": 6, "width": 8}],
 "annotations": [
   {"id": 1, "image_id": 1, "bbox": [1.0, 1.0, 3.0, 2.0], "area": 6.0, "caption": "red kite in the sky"},
   {"id": 2, "image_id": 2, "bbox": [4.0, 2.0, 3.0, 3.0], "area": 9.0, "caption": "a wooden bench"},
   {"id": 3, "image_id": 3, "bbox": [0.0, 3.0, 2.0, 3.0], "area": 6.0, "caption": "white dog"}]})";
inline const char* const kRegcapRes = R"([{"image_id": 1, "caption": "a red kite flying high"},
 {"image_id": 3, "caption": "a white dog lying down"}])";

}  // namespace glamm::testing
