// Locating and loading METEOR's resources for the commands that score captions (captions, gcg, regcap, imagecap).
#pragma once

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

/// Where the METEOR resources come from: --meteor-resources, env GLAMM_METEOR_RESOURCES, an installed
/// pycocoevalcap jar, else <GLAMM_SHARED or the build's shared folder>/data/meteor. "" when none exists.
std::string locate_meteor_resources(const std::string& cli_value);

/// Locate and load the resources and build the scorer (paraphrase on when a table was found). Appends warnings
/// (paraphrase off, approximate synonyms). Throws InputError saying how to get the resources when none are found.
MeteorSetup load_meteor(const std::string& cli_resources, const std::string& cli_paraphrase, Progress& progress,
                        std::vector<std::string>& warnings);

/// Add METEOR's entries to a Signature (version, resources and checksum, paraphrase on/off, approximate).
void sign_meteor(Signature& sig, const MeteorSetup& m);

}  // namespace glamm::cli
