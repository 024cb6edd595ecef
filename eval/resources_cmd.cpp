// `glamm-eval resources`: every resource the tool can use, where it was found, whether it is the verified
// reference copy, and for what is missing what the user can do. Exit 0 even when optional parts are missing.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/io.h"
#include "common/locate.h"
#include "eval/command.h"
#include "eval/meteor_setup.h"
#include "eval/resources_probe.h"

namespace glamm::cli {
namespace {

struct ResourcesOptions {
  std::string meteor_resources;
  std::string meteor_paraphrase;
  std::string bert;
  std::string json_path;
};

void print_entry(const ResourceEntry& e) {
  std::cout << fmt::format("{:<28} {}\n", e.name, e.found ? e.location : std::string("not found"));
  std::cout << fmt::format("{:<28}   used for: {}\n", "", e.purpose);
  if (!e.source.empty()) std::cout << fmt::format("{:<28}   found through: {}\n", "", e.source);
  if (!e.check.empty()) std::cout << fmt::format("{:<28}   check: {}\n", "", e.check);
  if (!e.hint.empty()) std::cout << fmt::format("{:<28}   to get it: {}\n", "", e.hint);
}

void run_resources(const ResourcesOptions& o) {
  const std::vector<ResourceEntry> entries = probe_resources(o.meteor_resources, o.meteor_paraphrase, o.bert);
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  std::size_t missing = 0;
  for (const auto& e : entries) {
    print_entry(e);
    missing += !e.found;
    j.push_back(e.to_json());
  }
  const std::filesystem::path self = locate::self_dir();
  std::cout << fmt::format("\n{} of {} found; glamm-eval looks next to itself ({}) and in ../share/glamm-eval, "
                           "../lib/glamm-eval (an install prefix); see docs/resources.md\n",
                           entries.size() - missing, entries.size(), self.string());
  if (!o.json_path.empty()) io::save_json(o.json_path, {{"tool", tool_version()}, {"resources", j}});
}

void add_resources(CLI::App& app) {
  auto o = std::make_shared<ResourcesOptions>();
  CLI::App* sub = app.add_subcommand(
      "resources",
      "List every resource glamm-eval can use (METEOR tables and paraphrase table, BERT for GCG recall, Link "
      "Grammar dictionary, WordNet, plugins): where each was found, whether it is the verified official copy, and "
      "what to do about what is missing. Exit status 0 even when optional parts are missing");
  sub->add_option("--meteor-resources", o->meteor_resources,
                  "Check this METEOR resource folder or meteor-1.5.jar instead of the default search");
  sub->add_option("--meteor-paraphrase", o->meteor_paraphrase, "Check this paraphrase table (paraphrase-en.gz)");
  sub->add_option("--bert", o->bert, "Check this bert-base-uncased folder (default: env GLAMM_BERT)");
  sub->add_option("--json", o->json_path, "Also write the list as JSON to this path");
  sub->callback([o] { run_resources(*o); });
}

GLAMM_REGISTER_COMMAND(95, add_resources);

}  // namespace
}  // namespace glamm::cli
