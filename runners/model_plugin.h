// Loading the GLaMM model for glamm-eval without linking libtorch: the libtorch model (model/glamm.cpp) is built
// into the plugin libglamm_runner.so (runners/plugin_entry.cpp), loaded with dlopen only by `infer` / `run`.
// Torch-free header and loader (same pattern as model/similarity_plugin.h for BERT).
#pragma once

#include <memory>

#include "model/glamm.h"

namespace glamm::runners {

/// File name of the plugin library.
constexpr const char* kRunnerPluginFile = "libglamm_runner.so";
/// Interface version: bumped whenever model/glamm.h changes its structs or virtual functions, so an old plugin
/// next to a new glamm-eval is refused instead of crashing.
constexpr int kRunnerPluginAbi = 2;

/// Symbols the plugin exports (extern "C").
using RunnerPluginAbi = int (*)();
using RunnerPluginLoad = model::InferenceModel* (*)(const model::GlammOptions* options);
constexpr const char* kRunnerPluginAbiSymbol = "glamm_runner_plugin_abi";
constexpr const char* kRunnerPluginLoadSymbol = "glamm_runner_plugin_load";

/// Load GLaMM as `options` says through the plugin: $GLAMM_RUNNER_PLUGIN when set, else libglamm_runner.so in the
/// folder of the running executable. Throws InputError when the plugin is missing (built without libtorch, or the
/// glamm_runner target not built), cannot be loaded (dlerror text included, e.g. an undefined symbol when
/// model/glamm.cpp is missing), has another ABI version, and passes on load_glamm's own errors (InputError for a bad
/// checkpoint, std::runtime_error for an unavailable device).
std::unique_ptr<model::InferenceModel> load_model_plugin(const model::GlammOptions& options);

}  // namespace glamm::runners
