// The shipped files (glamm-eval, the plugins, the METEOR data generator) contain no path of the development
// checkout or of the build: everything they read at run time is found relative to themselves or given by the user.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/io.h"
#include "support/shared_data.h"

namespace fs = std::filesystem;

TEST(ShippedBinaries, ContainNoPathOfTheCheckoutOrTheBuild) {
  const fs::path build = fs::path(GLAMM_EVAL_BINARY).parent_path();
  const std::string checkout = fs::weakly_canonical(GLAMM_SOURCE_DIR).string();
  const std::string build_dir = fs::weakly_canonical(build).string();
  ASSERT_GT(checkout.size(), 1u);
  int checked = 0;
  for (const char* name : {"glamm-eval", "libglamm_overlay.so", "libglamm_bert.so", "libglamm_runner.so"}) {
    const fs::path f = build / name;
    if (!fs::exists(f)) {
      GLAMM_REQUIRE(std::string(name).find("bert") != std::string::npos ||
                        std::string(name).find("runner") != std::string::npos,
                    f << " not built");
      continue;  // the libtorch plugins exist only in builds with libtorch
    }
    const std::string bytes = glamm::io::read_file(f);
    EXPECT_EQ(bytes.find(checkout), std::string::npos) << name << " contains " << checkout;
    EXPECT_EQ(bytes.find(build_dir), std::string::npos) << name << " contains " << build_dir;
    EXPECT_EQ(bytes.find("../shared"), std::string::npos) << name;
    ++checked;
  }
  EXPECT_GE(checked, 2);
}
