// Linked into every test executable (an object library, so it is never dropped): code that tests call in-process
// finds plugins next to the module it runs in (common/locate.h), which for a test is build/tests/, not the build
// folder where the plugins are. Search the build folder first, in the test process only (glamm-eval run as a child
// process still finds its plugins by itself).
#include "common/locate.h"

namespace {

struct PluginDir {
  PluginDir() { glamm::locate::add_plugin_dir(GLAMM_TEST_PLUGIN_DIR); }
};
const PluginDir plugin_dir;

}  // namespace
