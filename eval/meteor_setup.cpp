#include "eval/meteor_setup.h"

#include <filesystem>

#include "common/error.h"
#include "common/locate.h"
#include "metrics/meteor/discovery.h"

namespace glamm::cli {

namespace fs = std::filesystem;

std::string locate_meteor_resources(const std::string& cli_value) {
  std::string found = meteor::find_resources(cli_value);
  if (!found.empty()) return found;
  // The build's own copy (english.synsets/english.exceptions derived from WordNet, the two METEOR lists).
  const fs::path derived = locate::find_data("meteor");
  std::error_code ec;
  if (!derived.empty() && fs::is_regular_file(derived / "english.synsets", ec)) return derived.string();
  return "";
}

std::string meteor_resources_missing_message() {
  return "METEOR resources not found: they are built with glamm-eval into share/glamm-eval/meteor next to the "
         "binary (<prefix>/share/glamm-eval/meteor once installed), which is missing here; pass --meteor-resources "
         "DIR_OR_JAR (a folder with english.synsets, english.exceptions, english.words, english.prefixes, or "
         "pycocoevalcap's meteor-1.5.jar) or set GLAMM_METEOR_RESOURCES. Without them, `captions --metrics "
         "bleu,rouge,cider` scores the other metrics";
}

MeteorLoader::MeteorLoader(const std::string& cli_resources, const std::string& cli_paraphrase,
                           const Progress& progress)
    : source_(locate_meteor_resources(cli_resources)) {
  if (source_.empty()) throw InputError(meteor_resources_missing_message());
  progress.note("loading METEOR resources from " + source_ + "...");
  progress_ = &progress;
  loading_ = std::async(std::launch::async, [source = source_, para = cli_paraphrase] {
    return meteor::Resources::load(source, locate_meteor_paraphrase(source, para));
  });
}

std::string locate_meteor_paraphrase(const std::string& source, const std::string& cli_paraphrase) {
  meteor::DiscoveryOptions opt;
  opt.resources_cli = source;
  opt.paraphrase_cli = cli_paraphrase;
  const meteor::Discovery d = meteor::discover(opt);
  return d.paraphrase.found() ? d.paraphrase.path : "-";
}

std::string meteor_paraphrase_line(const meteor::Resources& r) {
  if (!r.paraphrase)
    return "METEOR paraphrase: off \xE2\x80\x94 not comparable with pycocoevalcap's METEOR (no paraphrase table: "
           "`pip install pycocoevalcap` provides the official one, or pass --meteor-paraphrase paraphrase-en.gz; "
           "docs/meteor-resources.md)";
  if (!r.paraphrase_official)
    return "METEOR paraphrase: other table (sha256 " + r.paraphrase_sha256.substr(0, 12) + ", " + r.paraphrase_source +
           ") \xE2\x80\x94 not pycocoevalcap's paraphrase-en.gz: not comparable with pycocoevalcap's METEOR";
  return "METEOR paraphrase: official table (" + r.paraphrase_source + ")";
}

MeteorSetup MeteorLoader::finish(std::vector<std::string>& warnings) {
  MeteorSetup m;
  m.source = source_;
  m.resources = std::make_shared<const meteor::Resources>(loading_.get());
  meteor::Config cfg;
  cfg.paraphrase = m.resources->paraphrase != nullptr;
  m.scorer = std::make_unique<meteor::Scorer>(m.resources, cfg);
  if (std::string w = meteor::resources_variant_warning(*m.resources); !w.empty()) warnings.push_back(std::move(w));
  if (!m.resources->paraphrase_official) warnings.push_back(meteor_paraphrase_line(*m.resources));
  else if (progress_) progress_->note(meteor_paraphrase_line(*m.resources));
  return m;
}

MeteorSetup load_meteor(const std::string& cli_resources, const std::string& cli_paraphrase, Progress& progress,
                        std::vector<std::string>& warnings) {
  return MeteorLoader(cli_resources, cli_paraphrase, progress).finish(warnings);
}

void sign_meteor(Signature& sig, const MeteorSetup& m) {
  sig.set("meteor", "1.5-coco(-l en -norm)");
  sig.set("meteor_resources", m.source);
  sig.set("meteor_resources_sha256", m.resources->checksum);
  sig.set("meteor_resources_variant", m.resources->variant());
  const meteor::Resources& r = *m.resources;
  sig.set("meteor_paraphrase", meteor::paraphrase_signature(r.paraphrase != nullptr, r.paraphrase_official,
                                                            r.paraphrase_sha256));
  if (r.paraphrase) {
    std::error_code ec;
    const fs::path abs = fs::absolute(r.paraphrase_source, ec);
    sig.set("meteor_paraphrase_source", ec ? r.paraphrase_source : abs.lexically_normal().string());
  }
}

void preflight_meteor_resources(const std::string& cli_value) {
  if (locate_meteor_resources(cli_value).empty())
    throw InputError(meteor_resources_missing_message() + " (checked before inference)");
}

}  // namespace glamm::cli
