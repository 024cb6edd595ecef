// Finding the product's own files (plugins, derived resources) relative to the binary that needs them.
//
// glamm-eval's plugins (libglamm_bert.so, libglamm_runner.so, libglamm_overlay.so) and its derived data
// (share/glamm-eval/meteor/...) are found next to the executable or shared object whose code asks for them, never
// through a path fixed at build time and never through /proc/self/exe alone (inside a Python process that is the
// python3 binary). The same files then work in the build tree, in an install prefix and inside a Python package:
//
//   build tree      build/glamm-eval            build/libglamm_*.so        build/share/glamm-eval/
//   install prefix  PREFIX/bin/glamm-eval       PREFIX/lib/glamm-eval/     PREFIX/share/glamm-eval/
//   Python package  glamm_eval/_core*.so        glamm_eval/                glamm_eval/share/glamm-eval/
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace glamm::locate {

/// The folder of the executable or shared object that contains the code at `address` (found with
/// dl_iterate_phdr; the main program resolves through /proc/self/exe). Empty path when it cannot be told.
std::filesystem::path module_dir(const void* address);

/// The folder of the module this library (glamm_common) is linked into.
std::filesystem::path self_dir();

/// Folders to search for a plugin, in order: those added by add_plugin_dir(), `self_dir()`,
/// `self_dir()/../lib/glamm-eval` (install tree).
std::vector<std::filesystem::path> plugin_dirs();

/// Search `dir` for plugins before the default folders, in this process only (not inherited by child processes).
/// For programs that run the library's code outside the folder of the plugins, e.g. test executables in
/// build/tests/ whose plugins are in build/.
void add_plugin_dir(const std::filesystem::path& dir);

/// The first existing `<dir>/<file_name>` over plugin_dirs(), after the environment variable `env_var` (a full
/// path to the library) when it is set and non-empty. Returns the env value even when that file does not exist
/// (so the caller's error names it); "" when nothing was found.
std::filesystem::path find_plugin(const std::string& file_name, const char* env_var);

/// Folders holding the product's data (`share/glamm-eval`), in order: `self_dir()/share/glamm-eval` (build tree,
/// Python package), `self_dir()/../share/glamm-eval` (install tree). Only existing folders are listed.
std::vector<std::filesystem::path> data_dirs();

/// The first existing `<data dir>/<relative>` over data_dirs(); "" when none exists.
std::filesystem::path find_data(const std::filesystem::path& relative);

}  // namespace glamm::locate
