// Subcommand registry of the glamm-eval CLI. Each eval/<task>.cpp registers its subcommand with a static
// GLAMM_REGISTER_COMMAND(order, fn); main() builds the CLI11 app from the registered functions in `order`.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/result.h"
#include "eval/run_support.h"
#include "eval/tasks/quirks.h"

namespace glamm::cli {

/// A function that adds one subcommand (with its options and callback) to the top-level app.
using CommandAdder = std::function<void(CLI::App& app)>;

/// Register a subcommand adder; lower `order` appears first in --help.
bool register_command(int order, CommandAdder adder);

/// Build every registered subcommand into `app`.
void add_registered_commands(CLI::App& app);

/// A task command (gcg, refseg, regcap, imagecap) as an object, so that `run` can drive the evaluation after
/// inference without re-parsing a command line: its flags bound to a CLI11 app, the checks that cost nothing, and the
/// evaluation itself (loading through datasets/, the task function of eval/tasks/, printing, the record).
class TaskCommand {
 public:
  virtual ~TaskCommand() = default;
  /// Add the command's flags to `sub`, writing into this object (which must outlive the parse).
  virtual void bind(CLI::App* sub) = 0;
  /// Before inference: what the evaluation would refuse at once and that costs nothing to check (missing METEOR
  /// resources, no phrase similarity for gcg, a --json folder that does not exist). Throws InputError.
  virtual void preflight() const = 0;
  /// Run the evaluation as the subcommand does. Throws InputError / ExitRequest as the subcommand.
  virtual void run() const = 0;
};

/// Register the factory of task command `name` (e.g. "gcg"); used with GLAMM_REGISTER_TASK_COMMAND.
bool register_task_command(const std::string& name, std::function<std::unique_ptr<TaskCommand>()> make);

/// A fresh command object for task `name`; nullptr when no such task command is registered.
std::unique_ptr<TaskCommand> make_task_command(const std::string& name);

/// Throws InputError(path, option, ...) when the folder of record path `path` does not exist ("" passes): what
/// `run` checks for --json before inference.
void check_record_folder_exists(const std::string& path, const std::string& option);

/// Exit codes: 0 success, 1 internal error, 2 bad input or usage, 3 evaluation finished with a refused result
/// (e.g. scoring a split without public ground truth).
enum ExitCode { kOk = 0, kInternal = 1, kBadInput = 2, kRefused = 3 };

/// Thrown by a command callback to end the program with `code` after it has printed its output.
struct ExitRequest {
  int code;
};

/// Options most commands share. Bind them with add_common_options(); read them in the callback.
struct CommonOptions {
  std::string json_path;  ///< --json PATH: where to write the Result record ("" = command default)
  std::string label;      ///< --label
  bool strict = false;    ///< --strict: fix exactly the quirks the spec lists as arguable bugs
  int threads = 0;        ///< --threads (0 = all cores)
  bool quiet = false;     ///< --quiet: no progress on stderr
};

/// Add --json, --label, --strict, --threads, --quiet to `sub`. `strict_help` says what --strict changes;
/// `default_record` (e.g. "glamm-results/gcg_grandf_<split>_<label>.json") is where the command writes its record
/// without --json, "" for commands that write one only with --json. Either way --help says so.
void add_common_options(CLI::App* sub, CommonOptions& o, const std::string& strict_help,
                        const std::string& default_record = "");

/// Write the Result record `r` to `path` (write_result: atomic, parent folders created) and say where it went on
/// stderr in one line, "results record: PATH", also under --quiet (a record appears on disk only with a line
/// saying so). Throws as write_result. The record is taken by value (pass a temporary or std::move it): its
/// per-sample part moves into the JSON written, and that JSON is handed to keep_until_exit.
void write_record(const std::string& path, Result r);

/// Keep `value` alive until the process exits and let the operating system reclaim its memory then, instead of
/// running its destructor: for the large, pointer-rich results (per-sample JSON, decoded masks) a command has
/// finished with, whose destruction alone can take a tenth of a run (bench/README.md). The command line only: a
/// library user (the Python module) must never call it. Nothing that needs a destructor to complete work (files,
/// threads) may be handed over.
template <class T>
void keep_until_exit(T&& value) {
  static auto* kept = new std::vector<std::shared_ptr<void>>();  // never freed, on purpose
  kept->push_back(std::make_shared<std::decay_t<T>>(std::forward<T>(value)));
}

/// Print every warning on stderr ("warning: ...").
void print_warnings(const std::vector<std::string>& warnings);

/// Print the quirk table's strict line (eval/tasks/quirks.h) on stdout when `strict`.
void print_strict_line(const tasks::QuirkTable& quirks, bool strict);

/// Number of worker threads for `o.threads` (0 → hardware concurrency, at least 1).
int resolve_threads(const CommonOptions& o);

}  // namespace glamm::cli

#define GLAMM_CONCAT_INNER(a, b) a##b
#define GLAMM_CONCAT(a, b) GLAMM_CONCAT_INNER(a, b)
/// Register a subcommand adder from a .cpp of eval/ (linked directly into the executable).
#define GLAMM_REGISTER_COMMAND(order, fn) \
  static const bool GLAMM_CONCAT(glamm_registered_, __LINE__) = ::glamm::cli::register_command((order), (fn))
/// Register a TaskCommand class `cls` (default-constructible) under the task name `name`.
#define GLAMM_REGISTER_TASK_COMMAND(name, cls)                                                    \
  static const bool GLAMM_CONCAT(glamm_registered_task_, __LINE__) = ::glamm::cli::register_task_command( \
      (name), [] { return std::unique_ptr<::glamm::cli::TaskCommand>(new cls()); })
