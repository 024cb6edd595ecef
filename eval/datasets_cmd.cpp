// `glamm-eval datasets`: which of GLaMM's evaluation data exists under a data root (default ./data) and what is
// missing, task by task. Wires datasets/catalog; writes nothing unless --json is given.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/io.h"
#include "datasets/catalog.h"
#include "eval/command.h"

namespace glamm::cli {
namespace {

struct DatasetsOptions {
  std::string root = "./data";
  std::string json_path;
};

void run_datasets(const DatasetsOptions& o) {
  std::error_code ec;
  if (!std::filesystem::exists(o.root, ec))
    throw InputError(o.root, "--data-root",
                     "the data root itself does not exist (give GLaMM's data folder, the one that holds GranDf/, "
                     "Refer_Segm/, ...)");
  if (!std::filesystem::is_directory(o.root, ec))
    throw InputError(o.root, "--data-root", "is not a folder (give GLaMM's data folder)");
  const auto st = datasets::catalog::scan(o.root);
  std::size_t found = 0;
  std::string task;
  nlohmann::json j = nlohmann::json::array();
  std::cout << "data root: " << o.root << "\n";
  for (const auto& s : st) {
    if (s.entry.task != task) {
      task = s.entry.task;
      std::cout << "\n" << task << ":\n";
    }
    found += s.found;
    std::cout << fmt::format("  [{}] {:<10} {}{}{}\n", s.found ? "found  " : "missing", s.entry.dataset, s.entry.path,
                             s.entry.is_dir ? "/" : "",
                             s.found && s.found_path.find(s.entry.path) == std::string::npos
                                 ? "  (at " + s.found_path + ")"
                                 : (s.entry.alternative.empty() ? "" : "  (or " + s.entry.alternative + ")"));
    j.push_back({{"task", s.entry.task}, {"dataset", s.entry.dataset}, {"path", s.entry.path},
                 {"found", s.found}, {"found_path", s.found_path}, {"note", s.entry.note}});
  }
  std::cout << fmt::format("\n{} of {} expected files/folders found\n", found, st.size());
  if (!o.json_path.empty()) io::save_json(o.json_path, {{"root", o.root}, {"entries", j}});
}

void add_datasets(CLI::App& app) {
  auto o = std::make_shared<DatasetsOptions>();
  CLI::App* sub = app.add_subcommand(
      "datasets", "List which evaluation files of GLaMM's data layout exist under a data root and which are missing");
  sub->add_option("--data-root", o->root, "GLaMM's data folder")->capture_default_str();
  sub->add_option("--json", o->json_path, "Also write the list as JSON to this path");
  sub->callback([o] { run_datasets(*o); });
}

GLAMM_REGISTER_COMMAND(90, add_datasets);

}  // namespace
}  // namespace glamm::cli
