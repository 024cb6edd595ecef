// Refusing, before any work, an output path that would overwrite one of the command's inputs.
//
// A command registers every input file it reads (and every folder it reads files from, with the rule saying which
// names it reads there), then checks each output path. An output is refused when it resolves to the same file as an
// input (device + inode after following links, so a symlink or hard link to an input is caught too) or when it would
// land in an input folder under a name the command reads from that folder (e.g. `<image_id>.json` inside a GCG
// `--pred` folder). The refusal is an InputError naming the output option, the path and the input it would
// destroy (exit status 2).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace glamm::io {

class OutputGuard {
 public:
  /// A file the command reads; `role` names it in messages (e.g. "--gt"). Files that do not exist are ignored
  /// (their readers report them).
  void add_input(const std::filesystem::path& path, const std::string& role);

  /// A folder the command reads files from: `reads(file_name)` says whether a file of that name in it would be
  /// read (default: every `*.json`).
  void add_input_folder(const std::filesystem::path& dir, const std::string& role,
                        std::function<bool(const std::string& file_name)> reads = nullptr);

  /// Throws InputError(path, option, ...) when `path` would overwrite a registered input (see the file comment).
  /// An empty path is accepted (no output).
  void check_output(const std::filesystem::path& path, const std::string& option) const;

 private:
  struct Input {
    std::filesystem::path path;
    std::string role;
    bool folder = false;
    std::function<bool(const std::string&)> reads;
  };
  std::vector<Input> inputs_;
};

}  // namespace glamm::io
