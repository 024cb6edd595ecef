#include "eval/resources_probe.h"

#include <cstdlib>
#include <filesystem>
#include <map>

#include "common/error.h"
#include "common/io.h"
#include "common/locate.h"
#include "eval/meteor_setup.h"
#include "metrics/meteor/discovery.h"
#include "metrics/meteor/meteor.h"
#include "metrics/spice/lemmatizer.h"
#include "model/similarity_plugin.h"
#include "runners/model_plugin.h"

namespace glamm::cli {
namespace fs = std::filesystem;
namespace {

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::string();
}

ResourceEntry meteor_tables(const std::string& flag, const meteor::Discovery& d) {
  ResourceEntry e;
  e.name = "METEOR tables";
  e.purpose = "METEOR (captions, gcg, regcap, imagecap, meteor) and SPICE-style synonyms";
  e.required = true;
  e.location = locate_meteor_resources(flag);
  e.found = !e.location.empty();
  if (!e.found) {
    e.hint = "they are built with glamm-eval (build/share/glamm-eval/meteor; scripts/setup.sh) and installed with "
             "it; or pass --meteor-resources DIR_OR_JAR; --metrics bleu,rouge,cider works without them";
    return e;
  }
  if (!flag.empty())
    e.source = "--meteor-resources";
  else if (!env_or_empty("GLAMM_METEOR_RESOURCES").empty())
    e.source = "GLAMM_METEOR_RESOURCES";
  else if (fs::path(e.location).filename() == "meteor-1.5.jar")
    e.source = "an installed pycocoevalcap";
  else
    e.source = "built with glamm-eval (derived from WordNet 3.0)";
  std::error_code ec;
  if (!fs::exists(e.location, ec)) {
    e.found = false;
    e.check = e.location + " does not exist (give a folder with english.synsets, english.exceptions, english.words, "
                           "english.prefixes, or a meteor-1.5.jar)";
    e.location.clear();
    return e;
  }
  if (!fs::is_directory(e.location, ec)) {
    const bool official = d.jar.found() && d.jar.identified && d.jar.path == e.location ? d.jar.official
                                                                                         : meteor::is_official_jar(e.location);
    e.check = official ? "pycocoevalcap's official meteor-1.5.jar (git blob id); its resource files are read from it"
                       : "a jar that is not pycocoevalcap's meteor-1.5.jar (git blob id differs): its resource files "
                         "are read from it";
    return e;
  }
  std::vector<std::string> differ, absent;
  for (const auto& [file, sha] : meteor::meteor15_sha256()) {
    const fs::path p = fs::path(e.location) / file;
    if (!fs::is_regular_file(p, ec)) {
      absent.push_back(file);
      continue;
    }
    try {
      if (io::sha256_file(p) != sha) differ.push_back(file);
    } catch (const InputError&) {
      absent.push_back(file);
    }
  }
  if (!absent.empty()) {
    e.found = false;
    e.check = "incomplete: missing or unreadable " + absent.front() + (absent.size() > 1 ? " and others" : "");
  } else if (differ.empty()) {
    e.check = "identical to METEOR 1.5's files (SHA-256 of all four)";
  } else {
    std::string list;
    for (const auto& d : differ) list += (list.empty() ? "" : ", ") + d;
    e.check = "differs from METEOR 1.5's files: " + list + " (scores may differ from pycocoevalcap's)";
  }
  return e;
}

/// Where the search looked, for a "not found" entry: each search step with how many files it checked.
std::string looked_at(const meteor::Discovery& d, const std::string& what) {
  std::vector<std::pair<std::string, int>> steps;
  for (const auto& c : d.checked) {
    if (c.what != what) continue;
    if (steps.empty() || steps.back().first != c.how) steps.emplace_back(c.how, 0);
    ++steps.back().second;
  }
  std::string out;
  for (const auto& [how, n] : steps) out += (out.empty() ? "" : ", ") + how + (n > 1 ? " (" + std::to_string(n) + " places)" : "");
  return out.empty() ? "no Python environment found" : out;
}

ResourceEntry meteor_paraphrase_entry(const meteor::Discovery& d) {
  ResourceEntry e;
  e.name = "METEOR paraphrase table";
  e.purpose = "METEOR's paraphrase matching (pycocoevalcap runs it; without it METEOR is lower on real data and "
              "marked not comparable in tables)";
  const std::string get_it = "pip install pycocoevalcap (its meteor/data/paraphrase-en.gz is the official table; "
                             "found in the python3 on PATH, CONDA_PREFIX, VIRTUAL_ENV or ~/.local), or pass "
                             "--meteor-paraphrase paraphrase-en.gz";
  if (d.paraphrase_off) {
    e.check = "turned off (--meteor-paraphrase or GLAMM_METEOR_PARAPHRASE is '-' or 'off')";
    e.hint = get_it;
    return e;
  }
  std::error_code ec;
  e.found = d.paraphrase.found() && fs::is_regular_file(d.paraphrase.path, ec);
  if (!e.found) {
    e.check = d.paraphrase.found() ? d.paraphrase.path + " does not exist" : "looked at " + looked_at(d, "paraphrase");
    e.hint = get_it;
    return e;
  }
  e.location = d.paraphrase.path;
  e.source = d.paraphrase.how;
  if (d.paraphrase.official) {
    e.check = "the official copy (pycocoevalcap's paraphrase-en.gz, git blob " + d.paraphrase.blob_id + ")";
  } else {
    e.check = "not the official copy (git blob " + d.paraphrase.blob_id + "): METEOR is signed other:<sha256> and "
              "marked not comparable with pycocoevalcap's";
    e.hint = get_it;
  }
  return e;
}

ResourceEntry bert_model(const std::string& flag) {
  ResourceEntry e;
  e.name = "BERT (GCG mask recall)";
  e.purpose = "gcg recall's phrase similarity (bert-base-uncased cosine, as GLaMM's evaluate.py)";
  const std::string dir = flag.empty() ? env_or_empty("GLAMM_BERT") : flag;
  e.source = flag.empty() ? (dir.empty() ? "" : "GLAMM_BERT") : "--bert";
  std::error_code ec;
  const fs::path d(dir);
  const bool weights = fs::is_regular_file(d / "model.safetensors", ec) || fs::is_regular_file(d / "pytorch_model.bin", ec);
  e.found = !dir.empty() && fs::is_regular_file(d / "config.json", ec) && fs::is_regular_file(d / "vocab.txt", ec) && weights;
  if (e.found) {
    e.location = dir;
    e.check = "config.json, vocab.txt and weights present";
  } else {
    if (!dir.empty()) e.check = dir + " lacks config.json, vocab.txt or the weights";
    e.hint = "pass --bert DIR (or set GLAMM_BERT) with bert-base-uncased's config.json, vocab.txt and "
             "model.safetensors or pytorch_model.bin; or give gcg a --text-sim TABLE.tsv";
  }
  return e;
}

ResourceEntry plugin(const std::string& name, const std::string& file, const char* env, const std::string& purpose) {
  ResourceEntry e;
  e.name = name;
  e.purpose = purpose;
  const fs::path p = locate::find_plugin(file, env);
  std::error_code ec;
  e.found = !p.empty() && fs::is_regular_file(p, ec);
  if (e.found) {
    e.location = p.string();
    const char* v = std::getenv(env);
    e.source = v && *v ? std::string(env) : std::string("next to glamm-eval");
  } else {
    e.hint = "built by scripts/setup.sh --all (needs " +
             std::string(file == "libglamm_overlay.so" ? "OpenCV" : "libtorch") + "); or set " + env +
             " to the library";
  }
  return e;
}

ResourceEntry folder_with(const std::string& name, const std::string& purpose, const fs::path& dir,
                          const std::string& marker, const std::string& source, const std::string& hint) {
  ResourceEntry e;
  e.name = name;
  e.purpose = purpose;
  e.required = true;
  std::error_code ec;
  e.found = fs::is_regular_file(dir / marker, ec);
  if (e.found) {
    e.location = dir.string();
    e.source = source;
  } else {
    e.check = (dir / marker).string() + " not found";
    e.hint = hint;
  }
  return e;
}

}  // namespace

nlohmann::ordered_json ResourceEntry::to_json() const {
  return {{"name", name},         {"purpose", purpose}, {"found", found}, {"required", required},
          {"location", location}, {"source", source},   {"check", check}, {"hint", hint}};
}

std::vector<ResourceEntry> probe_resources(const std::string& meteor_resources, const std::string& meteor_paraphrase,
                                           const std::string& bert) {
  std::vector<ResourceEntry> out;
  meteor::DiscoveryOptions opt;
  opt.resources_cli = meteor_resources;
  opt.paraphrase_cli = meteor_paraphrase;
  opt.identify = true;
  meteor::Discovery d;
  try {
    d = meteor::discover(opt);
  } catch (const InputError&) {  // a chosen file is unreadable: list the search without identifying
    opt.identify = false;
    d = meteor::discover(opt);
  }
  out.push_back(meteor_tables(meteor_resources, d));
  out.push_back(meteor_paraphrase_entry(d));
  out.push_back(bert_model(bert));
  out.push_back(plugin("BERT plugin", model::kBertPluginFile, "GLAMM_BERT_PLUGIN",
                       "runs BERT in libtorch for gcg --bert"));
  const std::string wn = spice::Lemmatizer::default_dir();
  out.push_back(folder_with("WordNet 3.0", "SPICE-style lemmatizer; source of the derived METEOR tables", wn,
                            "index.noun", env_or_empty("GLAMM_WORDNET").empty() ? "Debian wordnet-base" : "GLAMM_WORDNET",
                            "apt-get install wordnet-base (scripts/setup.sh), or set GLAMM_WORDNET"));
  out.push_back(folder_with("Link Grammar dictionary", "SPICE-style parser (imagecap, captions --spice)",
                            "/usr/share/link-grammar/en", "4.0.dict", "Debian link-grammar-dictionaries-en",
                            "apt-get install link-grammar-dictionaries-en (scripts/setup.sh)"));
  out.push_back(plugin("overlay plugin", "libglamm_overlay.so", "GLAMM_OVERLAY_PLUGIN",
                       "mask overlays in report --images"));
  out.push_back(plugin("GLaMM runner plugin", runners::kRunnerPluginFile, "GLAMM_RUNNER_PLUGIN",
                       "infer / run (the GLaMM model in libtorch)"));
  return out;
}

}  // namespace glamm::cli
