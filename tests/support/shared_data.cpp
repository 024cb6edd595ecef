#include "support/shared_data.h"

#include <cstdlib>
#include <cstring>

namespace glamm::testing {

std::optional<std::filesystem::path> shared_dir() {
  const char* env = std::getenv("GLAMM_SHARED");
  std::filesystem::path p = (env && *env) ? std::filesystem::path(env) : std::filesystem::path(GLAMM_SHARED_DEFAULT);
  std::error_code ec;
  if (!std::filesystem::is_directory(p, ec)) return std::nullopt;
  return p;
}

bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci && (std::strcmp(ci, "true") == 0 || std::strcmp(ci, "1") == 0);
}

std::filesystem::path meteor_resources_dir() { return GLAMM_METEOR_DATA_DIR; }

}  // namespace glamm::testing
