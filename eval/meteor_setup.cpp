#include "eval/meteor_setup.h"

#include <filesystem>

#include "common/error.h"
#include "common/locate.h"

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
  loading_ = std::async(std::launch::async,
                        [source = source_, para = cli_paraphrase] { return meteor::Resources::load(source, para); });
}

MeteorSetup MeteorLoader::finish(std::vector<std::string>& warnings) {
  MeteorSetup m;
  m.source = source_;
  m.resources = std::make_shared<const meteor::Resources>(loading_.get());
  meteor::Config cfg;
  cfg.paraphrase = m.resources->paraphrase != nullptr;
  m.scorer = std::make_unique<meteor::Scorer>(m.resources, cfg);
  if (!cfg.paraphrase)
    warnings.push_back(
        "METEOR paraphrase module off (no paraphrase table; pass --meteor-paraphrase paraphrase-en.gz or a "
        "meteor-1.5.jar): scores equal pycocoevalcap's only where no paraphrase match applies");
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
  sig.set("meteor_paraphrase", m.resources->paraphrase ? "on(" + m.resources->paraphrase_source + ")" : "off");
}

}  // namespace glamm::cli
