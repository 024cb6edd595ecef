// A fresh folder for one test: <gtest temp dir>/<prefix>_<test name>_<pid>, emptied first (parallel ctest processes
// and reruns never share one).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace glamm::testing {

inline std::filesystem::path per_test_dir(const std::string& prefix) {
  const std::filesystem::path d =
      std::filesystem::path(::testing::TempDir()) /
      (prefix + "_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
       std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace glamm::testing
