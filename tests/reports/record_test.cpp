// Reading results records back: version check, truncated files, field checks, metric variants.
#include <cmath>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "reports/record.h"
#include "tests/reports/report_fixtures.h"

namespace {

using glamm::InputError;
using namespace glamm::reports;
using nlohmann::json;

json minimal() {
  return {{"schema_version", 1}, {"task", "gcg"}, {"dataset", "grandf"}, {"split", "val"}, {"label", "x"},
          {"metrics", {{"mIoU", 0.5}, {"AP50", nullptr}}}, {"metric_order", {"mIoU", "AP50"}},
          {"signature", {{"metric", "glamm-gcg"}, {"split", "val"}, {"text_similarity", "table:/a/b.tsv"},
                         {"meteor_resources", "/x/meteor"}, {"strict", "off"}}},
          {"signature_string", "metric:glamm-gcg|split:val|text_similarity:table:/a/b.tsv|meteor_resources:/x/meteor|strict:off"},
          {"per_sample", json::array({{{"image_id", "a"}, {"miou", 0.5}}})}};
}

std::string error_of(const json& j) {
  try {
    record_from_json(j, "run.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Record, ReadsFieldsInTheWritersOrder) {
  const RunRecord r = record_from_json(minimal(), "run.json");
  EXPECT_EQ(r.task, "gcg");
  ASSERT_EQ(r.metrics.size(), 2u);
  EXPECT_EQ(r.metrics[0].first, "mIoU");
  EXPECT_TRUE(std::isnan(r.metrics[1].second));
  EXPECT_EQ(r.signature.fields.front().first, "metric");
  EXPECT_EQ(r.signature.fields.back().first, "strict");
  EXPECT_EQ(metric_variant(r), "metric:glamm-gcg|text_similarity:table|strict:off");
}

TEST(Record, OtherSchemaVersionIsRefused) {
  json j = minimal();
  j["schema_version"] = 2;
  EXPECT_EQ(error_of(j), "run.json: schema_version: record has schema version 2; this glamm-eval reads version 1 only "
                         "(re-run the evaluation with this version)");
  j.erase("schema_version");
  EXPECT_NE(error_of(j).find("no 'schema_version'"), std::string::npos);
}

TEST(Record, MissingOrMistypedFieldsAreNamed) {
  json j = minimal();
  j.erase("per_sample");
  EXPECT_EQ(error_of(j), "run.json: not a glamm-eval results record: no 'per_sample' field");
  j = minimal();
  j["metrics"]["mIoU"] = "high";
  EXPECT_EQ(error_of(j), "run.json: metrics.mIoU: is not a number");
  EXPECT_EQ(error_of(json::array()), "run.json: not a glamm-eval results record (not a JSON object)");
}

TEST(Record, TruncatedFileIsAClearError) {
  const auto dir = glamm::reports_test::test_dir("record");
  struct RemoveAtEnd {  // leave nothing behind in the temporary folder, also when an assertion returns early
    std::filesystem::path p;
    ~RemoveAtEnd() { std::filesystem::remove_all(p); }
  } cleanup{dir};
  const std::string text = minimal().dump();
  glamm::reports_test::write_text(dir / "cut.json", text.substr(0, text.size() - 20));
  try {
    load_record(dir / "cut.json");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cut.json: not valid JSON (truncated or corrupt results record?)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(load_record(dir / "absent.json"), InputError);
}

TEST(Record, MixingTasksIsRefused) {
  json other = minimal();
  other["task"] = "refseg";
  std::vector<RunRecord> runs = {record_from_json(minimal(), "a.json"), record_from_json(other, "b.json")};
  try {
    require_same_task(runs);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "b.json: task: mixes tasks: 'refseg' here but 'gcg' in a.json (give records of one task)");
  }
}

}  // namespace
