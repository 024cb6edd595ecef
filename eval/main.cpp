// glamm-eval: the command-line entry point. Subcommands live in eval/<task>.cpp and register themselves.
#include <filesystem>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <thread>

#include <signal.h>
#include <unistd.h>

#ifdef GLAMM_USE_MIMALLOC
#include <mimalloc.h>
#endif

#include "common/error.h"
#include "common/io.h"
#include "common/output_guard.h"
#include "common/result.h"
#include "eval/command.h"

namespace glamm::cli {

namespace {
std::multimap<int, CommandAdder>& registry() {
  static std::multimap<int, CommandAdder> r;
  return r;
}
}  // namespace

bool register_command(int order, CommandAdder adder) {
  registry().emplace(order, std::move(adder));
  return true;
}

void add_registered_commands(CLI::App& app) {
  for (auto& [order, adder] : registry()) adder(app);
}

namespace {
std::map<std::string, std::function<std::unique_ptr<TaskCommand>()>>& task_registry() {
  static std::map<std::string, std::function<std::unique_ptr<TaskCommand>()>> r;
  return r;
}
}  // namespace

bool register_task_command(const std::string& name, std::function<std::unique_ptr<TaskCommand>()> make) {
  task_registry()[name] = std::move(make);
  return true;
}

std::unique_ptr<TaskCommand> make_task_command(const std::string& name) {
  auto it = task_registry().find(name);
  return it == task_registry().end() ? nullptr : it->second();
}

void print_warnings(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
}

void print_strict_line(const tasks::QuirkTable& quirks, bool strict) {
  if (strict) std::cout << quirks.strict_line() << "\n";
}

void check_record_folder_exists(const std::string& path, const std::string& option) {
  if (path.empty()) return;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
    throw InputError(path, option, "its folder does not exist (checked before inference)");
}

void add_common_options(CLI::App* sub, CommonOptions& o, const std::string& strict_help,
                        const std::string& default_record) {
  sub->add_option("--json", o.json_path,
                  default_record.empty()
                      ? std::string("Write the run's Result record (JSON) to this path (one line on stderr says where)")
                      : "Where to write the run's Result record (JSON). Without --json the record is written to " +
                            default_record + " under the current folder; one line on stderr says where, also "
                            "with -q");
  sub->add_option("--label", o.label, "Model/checkpoint label stored in the Result record");
  sub->add_flag("--strict", o.strict, strict_help);
  sub->add_option("--threads", o.threads, "Worker threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  sub->add_flag("-q,--quiet", o.quiet, "No progress messages on stderr");
}

void write_record(const std::string& path, Result r) {
  io::OutputGuard guard;  // the last line of defence; commands check their outputs before any work too
  for (const auto& [role, input] : r.inputs) guard.add_input(input, role);
  guard.check_output(path, "--json");
  keep_until_exit(write_result(path, std::move(r)));
  std::cerr << "results record: " << path << "\n";
}

int resolve_threads(const CommonOptions& o) { return resolve_thread_count(o.threads); }

}  // namespace glamm::cli

#ifdef GLAMM_USE_MIMALLOC
namespace {
// mimalloc (linked in place of malloc, CMakeLists.txt) reads its options once, when it initialises, before any
// constructor of this program runs; a function in .preinit_array runs earlier still. Large OS pages with eager
// commit: memory comes in 2 MiB transparent huge pages, so a COCO run takes ~600 page faults instead of ~28,000
// (bench/README.md). Allocation only, never results; MIMALLOC_LARGE_OS_PAGES / MIMALLOC_EAGER_COMMIT_DELAY in the
// environment still decide when set.
void mimalloc_options(int, char**, char** envp) {  // getenv() does not work yet here: read envp
  bool large_given = false, delay_given = false;
  for (char** e = envp; e && *e; ++e) {
    large_given |= std::strncmp(*e, "MIMALLOC_LARGE_OS_PAGES=", 24) == 0;
    delay_given |= std::strncmp(*e, "MIMALLOC_EAGER_COMMIT_DELAY=", 28) == 0;
  }
  if (!large_given) mi_option_set(mi_option_large_os_pages, 1);
  if (!delay_given) mi_option_set(mi_option_eager_commit_delay, 0);
}
__attribute__((section(".preinit_array"), used)) void (*const preinit_mimalloc_options)(int, char**, char**) =
    mimalloc_options;
}  // namespace
#endif

namespace {
/// SIGBUS while inputs are mapped (io::MappedFile): another program truncated a file being read. Said in plain
/// words, exit status 2 as for any bad input; nothing has been written (outputs are written atomically, later).
extern "C" void on_sigbus(int) {
  static const char msg[] =
      "error: an input file became shorter while glamm-eval was reading it (another program changed it); nothing "
      "was written\n";
  const ssize_t ignored = ::write(2, msg, sizeof msg - 1);
  (void)ignored;
  ::_exit(glamm::cli::kBadInput);
}
}  // namespace

int main(int argc, char** argv) {
  // Numbers are printed and parsed by our own locale-independent code; keep the C locale regardless of LC_ALL.
  std::setlocale(LC_ALL, "C");
  // Large JSON inputs are parsed straight from the page cache (io::MappedFile): no copy, no fresh memory.
  struct sigaction bus {};
  bus.sa_handler = on_sigbus;
  sigemptyset(&bus.sa_mask);
  if (::sigaction(SIGBUS, &bus, nullptr) == 0) glamm::io::enable_file_mapping();
  // Checksums being computed in the background (io::prefetch_sha256) finish before the exit handlers run.
  struct PrefetchWait {
    ~PrefetchWait() { glamm::io::wait_for_prefetched_sha256(); }
  } prefetch_wait;
  CLI::App app{glamm::tool_version() +
               " — evaluation toolkit for pixel-grounded multimodal models (GLaMM), metrics at parity with the "
               "official Python/Java evaluators"};
  app.set_version_flag("--version", glamm::tool_version());
  app.require_subcommand(1);
  glamm::cli::add_registered_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : glamm::cli::kBadInput;
  } catch (const glamm::cli::ExitRequest& e) {
    return e.code;
  } catch (const glamm::InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return glamm::cli::kBadInput;
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << "\n";
    return glamm::cli::kInternal;
  }
  return glamm::cli::kOk;
}
