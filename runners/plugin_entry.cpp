// Entry points of the GLaMM runner plugin libglamm_runner.so (see model_plugin.h): load_glamm behind a C symbol,
// so that glamm-eval reaches the libtorch model without linking libtorch. Built only with GLAMM_WITH_TORCH.
#include "model/glamm.h"
#include "runners/model_plugin.h"

/// The interface version this plugin was built with (runners::kRunnerPluginAbi).
extern "C" __attribute__((visibility("default"))) int glamm_runner_plugin_abi() {
  return glamm::runners::kRunnerPluginAbi;
}

/// Load GLaMM; throws glamm::InputError / std::runtime_error as load_glamm does (same C++ runtime on both sides).
/// The caller owns the returned object.
extern "C" __attribute__((visibility("default"))) glamm::model::InferenceModel* glamm_runner_plugin_load(
    const glamm::model::GlammOptions* options) {
  return glamm::model::load_glamm(*options).release();
}
