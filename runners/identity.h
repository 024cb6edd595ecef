// What produced the outputs of an inference folder: task, item list, model files and generation options, stored in
// every manifest as "identity". A rerun into a folder whose manifests record another identity is refused before
// anything is loaded or written, so that one prediction file never mixes two models or two settings.
// Torch-free and cheap: the model files are identified by their paths and the SHA-256 of their small text files
// (config.json, added_tokens.json, tokenizer.model, CLIP config.json), never by the weight shards.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace glamm::runners {

/// SHA-256 (hex) of `file` when it is a regular file, else JSON null. Throws InputError when it exists but cannot
/// be read.
nlohmann::ordered_json optional_sha256(const std::filesystem::path& file);

/// `p` made absolute (against the current folder) and lexically normalised ("a/./b/../c" → "a/c"); "" stays "".
std::string absolute_text(const std::filesystem::path& p);

/// The fields of two identity objects that differ, one line each: "<field>: recorded <old>, now <new>" (values as
/// compact JSON; a field missing on one side reads "(none)"). Empty when equal. Order: `now`'s fields, then fields
/// only `recorded` has.
std::vector<std::string> identity_differences(const nlohmann::ordered_json& recorded, const nlohmann::ordered_json& now);

/// The manifest files of an output folder: out/manifest.json and out/manifest.<shard tag>.json, sorted by name.
std::vector<std::filesystem::path> manifest_files(const std::filesystem::path& out);

/// Refuse to write into `out` when one of its manifests records an identity other than `identity`. Manifests
/// without an "identity" (written by an older glamm-eval, or by run_items without one) are not checked. Throws
/// InputError naming the manifest, listing the differing fields and telling the user to choose a new --out; throws
/// InputError naming a manifest that does not parse.
void check_identity(const std::filesystem::path& out, const nlohmann::ordered_json& identity);

}  // namespace glamm::runners
