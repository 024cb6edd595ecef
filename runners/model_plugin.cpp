// dlopen loader of the GLaMM runner plugin. See model_plugin.h.
#include "runners/model_plugin.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "common/error.h"
#include "common/locate.h"

namespace glamm::runners {

std::unique_ptr<model::InferenceModel> load_model_plugin(const model::GlammOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path lib = locate::find_plugin(kRunnerPluginFile, "GLAMM_RUNNER_PLUGIN");
  if (lib.empty()) lib = kRunnerPluginFile;
  if (!fs::is_regular_file(lib, ec))
    throw InputError(lib.string(), "",
                     "GLaMM runner plugin not found: this glamm-eval was built without libtorch (GLAMM_WITH_TORCH=OFF) "
                     "or the glamm_runner target was not built; install libtorch-dev (scripts/setup.sh), rebuild, or "
                     "set GLAMM_RUNNER_PLUGIN to the library");
  // Never unloaded: the model object lives in it.
  void* h = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) throw InputError(lib.string(), "", std::string("cannot load the GLaMM runner plugin: ") + dlerror());
  auto abi = reinterpret_cast<RunnerPluginAbi>(dlsym(h, kRunnerPluginAbiSymbol));
  auto load = reinterpret_cast<RunnerPluginLoad>(dlsym(h, kRunnerPluginLoadSymbol));
  if (!abi || !load)
    throw InputError(lib.string(), "", "not a glamm runner plugin (no glamm_runner_plugin_abi/_load)");
  if (abi() != kRunnerPluginAbi)
    throw InputError(lib.string(), "",
                     "runner plugin interface version " + std::to_string(abi()) + ", this glamm-eval needs " +
                         std::to_string(kRunnerPluginAbi) + ": rebuild both (glamm-eval and glamm_runner)");
  return std::unique_ptr<model::InferenceModel>(load(&options));
}

}  // namespace glamm::runners
