// Locating the read-only shared data folder (specs, data, golden) from tests.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace glamm::testing {

/// The shared folder: env GLAMM_SHARED if set, else the default fixed at configure time
/// (<source>/../shared). Returns nullopt when the folder does not exist.
std::optional<std::filesystem::path> shared_dir();

/// True when running under CI (env CI=true): missing shared data is then a failure, not a skip.
bool running_in_ci();

/// The METEOR resources this build derives and ships (build/share/glamm-eval/meteor): what glamm-eval finds next to
/// itself. Unit tests that need METEOR's tables use these, not the shared data.
std::filesystem::path meteor_resources_dir();

}  // namespace glamm::testing

/// Resolve `rel` inside the shared folder into `var` (a std::filesystem::path). If the file or folder is missing,
/// the test fails under CI=true and is skipped with a clear message otherwise.
#define GLAMM_REQUIRE_SHARED(var, rel)                                                                  \
  std::filesystem::path var;                                                                            \
  do {                                                                                                  \
    auto glamm_dir_ = ::glamm::testing::shared_dir();                                                   \
    std::filesystem::path glamm_p_ = glamm_dir_ ? (*glamm_dir_ / (rel)) : std::filesystem::path(rel);   \
    if (!glamm_dir_ || !std::filesystem::exists(glamm_p_)) {                                            \
      if (::glamm::testing::running_in_ci()) {                                                          \
        FAIL() << "shared data missing under CI: " << glamm_p_.string() << " (set GLAMM_SHARED)";       \
      } else {                                                                                          \
        GTEST_SKIP() << "shared data not found: " << glamm_p_.string()                                  \
                     << " (set GLAMM_SHARED to the shared folder to run golden tests)";                 \
      }                                                                                                 \
    }                                                                                                   \
    var = glamm_p_;                                                                                     \
  } while (0)

/// A test prerequisite that the project's own setup provides (the glamm-eval binary, a plugin, chromium, a locale,
/// libtorch): when `cond` is false the test fails under CI=true (a partial build or setup must not pass) and is
/// skipped with `msg` otherwise. `msg` is streamed (use << to add values).
#define GLAMM_REQUIRE(cond, msg)                                                                        \
  do {                                                                                                  \
    if (!(cond)) {                                                                                      \
      if (::glamm::testing::running_in_ci()) {                                                          \
        FAIL() << "missing under CI: " << msg;                                                          \
      } else {                                                                                          \
        GTEST_SKIP() << msg;                                                                            \
      }                                                                                                 \
    }                                                                                                   \
  } while (0)
