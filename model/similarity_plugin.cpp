// dlopen loader of the BERT plugin. See similarity_plugin.h.
#include "model/similarity_plugin.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "common/error.h"
#include "common/locate.h"

namespace glamm::model {

using PluginLoad = TextSimilarity* (*)(const char* dir);

std::unique_ptr<TextSimilarity> load_bert_plugin(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path lib = locate::find_plugin(kBertPluginFile, "GLAMM_BERT_PLUGIN");
  if (lib.empty()) lib = kBertPluginFile;
  if (!fs::is_regular_file(lib, ec))
    throw InputError(lib.string(), "",
                     "BERT plugin not found: this glamm-eval was built without libtorch (GLAMM_WITH_TORCH=OFF) or "
                     "the glamm_bert target was not built; install libtorch-dev (scripts/setup.sh), rebuild, or set "
                     "GLAMM_BERT_PLUGIN to the library");
  // Never unloaded: objects it made may outlive any handle we could close.
  void* h = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) throw InputError(lib.string(), "", std::string("cannot load the BERT plugin: ") + dlerror());
  auto load = reinterpret_cast<PluginLoad>(dlsym(h, "glamm_bert_plugin_load"));
  if (!load) throw InputError(lib.string(), "", "not a glamm BERT plugin (no glamm_bert_plugin_load)");
  return std::unique_ptr<TextSimilarity>(load(dir.c_str()));
}

}  // namespace glamm::model
