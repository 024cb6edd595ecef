// Locating and loading METEOR's resources for the commands that score captions (captions, gcg, regcap, imagecap).
#pragma once

#include <future>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "eval/progress.h"
#include "metrics/meteor/meteor.h"

namespace glamm::cli {

/// A loaded METEOR scorer and where its resources came from.
struct MeteorSetup {
  std::string source;  ///< resource folder or jar
  std::shared_ptr<const meteor::Resources> resources;
  std::unique_ptr<meteor::Scorer> scorer;
};

/// Where the METEOR resources come from, in order: `cli_value` (--meteor-resources), env GLAMM_METEOR_RESOURCES, an
/// installed pycocoevalcap meteor-1.5.jar (meteor::find_resources), else the folder the build derives and installs
/// with glamm-eval, `share/glamm-eval/meteor` (common/locate.h: next to the binary, then <prefix>/share). "" when
/// none exists.
std::string locate_meteor_resources(const std::string& cli_value);

/// The error text for "no METEOR resources": where they normally come from (built with glamm-eval into
/// share/glamm-eval/meteor), how to name another copy, and that `captions --metrics bleu,rouge,cider` needs none.
std::string meteor_resources_missing_message();

/// Before inference (`run`): throws InputError(meteor_resources_missing_message() + " (checked before inference)")
/// when no METEOR resources are found for the --meteor-resources value `cli_value`.
void preflight_meteor_resources(const std::string& cli_value);

/// Loads METEOR's resources on a second thread so that the caller can parse its input files meanwhile. The
/// constructor locates the resources first (a missing folder fails at once, with InputError saying how to get them).
class MeteorLoader {
 public:
  MeteorLoader(const std::string& cli_resources, const std::string& cli_paraphrase, const Progress& progress);
  /// Wait for the load, build the scorer (paraphrase on when a table was found), append a warning when the paraphrase
  /// table is off or not the official one (the official table is named in a progress note). Passes on the loader's
  /// InputError for unreadable resources. Call once.
  MeteorSetup finish(std::vector<std::string>& warnings);

 private:
  std::string source_;
  std::future<meteor::Resources> loading_;
  const Progress* progress_ = nullptr;
};

/// Locate and load the resources and build the scorer (paraphrase on when a table was found). Appends a warning when
/// the paraphrase module is off. Throws InputError (meteor_resources_missing_message) when none are found.
MeteorSetup load_meteor(const std::string& cli_resources, const std::string& cli_paraphrase, Progress& progress,
                        std::vector<std::string>& warnings);

/// The paraphrase table the loader uses: `cli_paraphrase` ("-"/"off" = none), env GLAMM_METEOR_PARAPHRASE, next
/// to the resources at `source`, then an installed pycocoevalcap (meteor::discover). "-" when there is none.
std::string locate_meteor_paraphrase(const std::string& source, const std::string& cli_paraphrase);

/// One line for the human output: "METEOR paraphrase: official table (PATH)", "METEOR paraphrase: other table
/// (sha256 PREFIX, PATH) — ...", or "METEOR paraphrase: off — not comparable with pycocoevalcap's METEOR ...".
std::string meteor_paraphrase_line(const meteor::Resources& r);

/// Add METEOR's entries to a Signature (version, resources and checksum, paraphrase official / other:SHA256-PREFIX
/// / off with the table's absolute path in meteor_paraphrase_source).
void sign_meteor(Signature& sig, const MeteorSetup& m);

}  // namespace glamm::cli
