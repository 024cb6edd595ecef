// The HTML report reads GCG prediction files with the one GCG prediction reader (datasets::grandf), so a
// prediction nested under a key ({"<key>": {caption, phrases, pred_masks}}, a form evaluate.py and gcg accept)
// shows its predicted masks exactly as the flat form does (the report used to parse the files itself and drew no
// predicted mask for the nested form, without a word).
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "reports/html_report.h"
#include "reports/record.h"
#include "support/shared_data.h"
#include "tests/reports/report_fixtures.h"

namespace {

using namespace glamm::reports;
using namespace glamm::reports_test;
using nlohmann::json;
namespace fs = std::filesystem;

/// The data: URLs of the overlays of a rendered page, in page order.
std::vector<std::string> overlays(const std::string& html) {
  std::vector<std::string> out;
  const std::string tag = "src=\"data:image/jpeg;base64,";
  for (std::size_t p = html.find(tag); p != std::string::npos; p = html.find(tag, p + 1))
    out.push_back(html.substr(p + tag.size(), html.find('"', p + tag.size()) - p - tag.size()));
  return out;
}

class PredictionForms : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path plugin = fs::path(GLAMM_EVAL_BINARY).parent_path() / "libglamm_overlay.so";
    if (!fs::exists(plugin)) {
      if (glamm::testing::running_in_ci()) FAIL() << "overlay plugin missing under CI: " << plugin;
      GTEST_SKIP() << "overlay plugin not built (target glamm_overlay): " << plugin;
    }
    dir_ = test_dir("prediction_forms");
    rec_ = dir_ / "sample.json";
    const CliResult r = run_cli("gcg --sample -q --json " + q(rec_));
    ASSERT_EQ(r.code, 0) << r.output;
    const json record = read_json(rec_);
    for (const auto& s : record["per_sample"]) {
      files_.emplace_back(s["prediction_file"].get<std::string>());
      originals_.push_back(read_json(files_.back()));
    }
    ASSERT_EQ(files_.size(), 6u);
  }

  /// The page of the sample record (its own images), with the prediction files as they are now.
  std::string render(std::vector<std::string>* warnings = nullptr) const {
    ReportOptions opt;
    opt.worst = 8;
    return render_html_report(load_record(rec_.string()), opt, warnings);
  }

  /// Rewrites every prediction file as `edit` makes it from the sample's original (flat) content.
  template <class F>
  void rewrite(F edit) const {
    for (std::size_t i = 0; i < files_.size(); ++i)
      glamm::io::write_file_atomic(files_[i], edit(originals_[i], files_[i].stem().string()).dump());
  }

  fs::path dir_, rec_;
  std::vector<fs::path> files_;
  std::vector<json> originals_;  ///< the sample's prediction files as gcg --sample wrote them (flat form)
};

TEST_F(PredictionForms, NestedPredictionsShowTheSameMasksAsFlatOnes) {
  std::vector<std::string> warnings;
  const std::string flat_page = render(&warnings);
  const std::vector<std::string> flat = overlays(flat_page);
  ASSERT_EQ(flat.size(), 6u);
  EXPECT_EQ(flat_page.find("no overlay"), std::string::npos);
  EXPECT_TRUE(warnings.empty());

  // The predicted masks are visible: without them every overlay of an image with predicted masks changes.
  rewrite([](json j, const std::string&) {
    j["pred_masks"] = json::array();
    return j;
  });
  const std::vector<std::string> no_masks = overlays(render());
  ASSERT_EQ(no_masks.size(), 6u);
  std::size_t changed = 0;
  for (std::size_t i = 0; i < 6; ++i) changed += no_masks[i] != flat[i];
  EXPECT_EQ(changed, 5u);  // one sample image has no predicted mask

  // Nested under a key, with the original masks: the same overlays as the flat files, byte for byte.
  rewrite([](json body, const std::string& key) {
    body.erase("image_id");
    return json{{key, body}};
  });
  ASSERT_TRUE(read_json(files_[0]).begin()->contains("pred_masks"));  // really nested
  warnings.clear();
  const std::string nested_page = render(&warnings);
  EXPECT_EQ(nested_page.find("no overlay"), std::string::npos);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(overlays(nested_page), flat);
}

TEST_F(PredictionForms, AnUndecodablePredictedMaskIsANoteNamingTheFileAndMask) {
  rewrite([](json j, const std::string&) {
    if (!j["pred_masks"].empty()) j["pred_masks"][0]["size"] = json::array({48.5, 64});
    return j;
  });
  std::vector<std::string> warnings;
  const std::string page = render(&warnings);
  EXPECT_EQ(overlays(page).size(), 1u);  // the image without predicted masks
  ASSERT_EQ(warnings.size(), 5u);
  EXPECT_NE(warnings[0].find(".json: pred_masks[0]: RLE size[0] (height) must be an integer in [0, 2^32-1], got 48.5"),
            std::string::npos)
      << warnings[0];
}

}  // namespace
