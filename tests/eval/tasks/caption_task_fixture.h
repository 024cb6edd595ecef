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

}  // namespace glamm::testing
