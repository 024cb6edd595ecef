// Finding METEOR 1.5's own files on the user's machine: meteor-1.5.jar and its paraphrase table paraphrase-en.gz,
// from the command line, the environment, a METEOR distribution folder or a pycocoevalcap install in any Python
// environment, and telling pycocoevalcap's official copies apart from other files by content (git blob id).
// See docs/meteor-resources.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace glamm::meteor {

/// git blob ids (sha1 of "blob <size>\0<bytes>") of pycocoevalcap's meteor/data/paraphrase-en.gz and
/// meteor/meteor-1.5.jar: a file with this id is the official copy.
inline constexpr const char* kOfficialParaphraseBlobId = "88033c84fb2f8ecbc77fe57b7eee2913d1acd919";
inline constexpr const char* kOfficialJarBlobId = "a833bc017bba3ceb07f3c251d5b4679e581255a3";

/// git's blob id of `bytes`: lowercase hex SHA-1 of "blob " + decimal size + '\0' + bytes (what `git hash-object`
/// prints). "" → e69de29bb2d1d6434b8b29ae775ad8c2e48c5391.
std::string git_blob_id(const std::string& bytes);

/// The blob id of a file's contents, streamed. Throws InputError naming the file when it cannot be read.
std::string git_blob_id_file(const std::string& path);

/// True when the file at `path` is pycocoevalcap's meteor-1.5.jar / paraphrase-en.gz (by blob id); false when it
/// is another file or cannot be read. Reads the whole file (the jar: 3.7 MB; the table: tens of MB).
bool is_official_jar(const std::string& path);
bool is_official_paraphrase(const std::string& path);

/// One location looked at by discover(), in the order they were checked.
struct DiscoveryCandidate {
  std::string what;   ///< "jar" or "paraphrase"
  std::string how;    ///< where the location came from: "--meteor-paraphrase", "GLAMM_METEOR_PARAPHRASE",
                      ///< "next to the METEOR resources", "python3 on PATH", "CONDA_PREFIX", "VIRTUAL_ENV",
                      ///< "~/.local", "/usr/lib", "/usr/local/lib", ...
  std::string path;   ///< the file looked for
  bool exists = false;     ///< a regular file is there
  bool identified = false; ///< its content was checked (DiscoveryOptions::identify)
  bool official = false;   ///< its blob id is pycocoevalcap's (only when identified)
};

/// What discover() chose for one kind of file.
struct DiscoveredFile {
  std::string path;  ///< "" when nothing was found
  std::string how;   ///< DiscoveryCandidate::how of the chosen location
  bool identified = false;
  bool official = false;
  std::string blob_id;  ///< when identified
  bool found() const { return !path.empty(); }
};

struct DiscoveryOptions {
  std::string resources_cli;   ///< --meteor-resources value ("" = not given)
  std::string paraphrase_cli;  ///< --meteor-paraphrase value ("" = not given; "-" or "off" = no table)
  bool identify = false;       ///< compute the blob id of the chosen files (reads them; tens of MB for the table)
  bool run_python = true;      ///< may run `python3` (short timeout) when its site-packages cannot be found otherwise
  int python_timeout_ms = 2000;
};

/// The result of discover(): the chosen jar and paraphrase table and every location checked.
struct Discovery {
  DiscoveredFile jar;         ///< a METEOR resource location (jar or folder) from the CLI/env, else an installed jar
  DiscoveredFile paraphrase;  ///< the paraphrase table; empty when none was found or it is off
  bool paraphrase_off = false;  ///< turned off explicitly ("-"/"off" from the CLI or GLAMM_METEOR_PARAPHRASE)
  std::vector<DiscoveryCandidate> checked;
};

/// Site-packages folders of the user's Python environments, in the order discover() searches them, each with
/// its origin label: the `python3` on PATH (its prefix from the interpreter's path, symlink or not; for a pyenv
/// shim <root>/shims/python3 every <root>/versions/*; only when neither gives a lib/python3*/ folder is `python3`
/// run, with a timeout, to print its paths), CONDA_PREFIX,
/// VIRTUAL_ENV, ~/.local/lib/python3*, /usr/lib/python3*, /usr/local/lib/python3* (site-packages and
/// dist-packages). Folders that do not exist are left out; duplicates are kept once.
std::vector<std::pair<std::string, std::string>> python_site_dirs(const DiscoveryOptions& opt);

/// Find METEOR's files. Jar / resource location: resources_cli, env GLAMM_METEOR_RESOURCES (a METEOR 1.5
/// distribution folder, with meteor-1.5.jar and no english.synsets, gives its jar), then
/// pycocoevalcap/meteor/meteor-1.5.jar in python_site_dirs(). Paraphrase table: paraphrase_cli ("-"/"off" =
/// off), env GLAMM_METEOR_PARAPHRASE (same), data/paraphrase-en.gz next to the chosen jar (or in / under data/ of
/// a METEOR folder), then pycocoevalcap/meteor/data/paraphrase-en.gz in python_site_dirs(). A path given on the
/// command line or in the environment is taken as is (a missing file fails later, when it is loaded). Never
/// throws for missing files; throws InputError only when identify is set and a chosen file cannot be read.
Discovery discover(const DiscoveryOptions& opt);

/// "official", "other:<first 12 hex of sha256>" or "off": the paraphrase entry of a METEOR signature.
std::string paraphrase_signature(bool loaded, bool official, const std::string& sha256_hex);

}  // namespace glamm::meteor
