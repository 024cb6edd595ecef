// One set of segmentation rules for every reader (docs/input-rules.md, "Segmentations and RLE masks"): a table of
// RLE objects (size as integers, as 480.0-style floats, fractional, negative, above 2^32-1, above 1,000,000,
// booleans, strings; counts as string or list, missing, out of range, undecodable) goes through each entry point
// that reads one: the COCO GT and results loaders, REFER's instances (and its GT mask) and refseg predictions,
// GranD-f predictions in flat and nested form (what gcg and the HTML report's overlays read, with pred_mask_rles)
// and the GCG mask GT (gcg's mIoU reader and the report's GT overlays). Every reader either accepts a case with the
// same RLE or refuses it with an InputError that names the file and the record and, for the rules checked while
// reading, says the same thing.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/io.h"
#include "datasets/coco_json.h"
#include "datasets/grandf.h"
#include "datasets/json_util.h"
#include "datasets/refer.h"
#include "metrics/mask/rle.h"
#include "metrics/mask/segmentation.h"
#include "support/test_dir.h"

namespace {

namespace fs = std::filesystem;
using glamm::InputError;
using glamm::mask::Rle;
namespace ds = glamm::datasets;

/// What one reader did with one case.
struct Outcome {
  bool accepted = false;
  std::optional<Rle> rle;  ///< accepted with a decoded RLE (the GCG mask GT keeps only compressed ones)
  std::string file, record, message;
};

std::string describe(const Outcome& o) {
  if (o.accepted) return o.rle ? "accepted, RLE " + glamm::mask::to_string(*o.rle) : "accepted without an RLE";
  return "refused: " + o.file + " | " + o.record + " | " + o.message;
}

Outcome run(const std::function<std::optional<Rle>()>& read) {
  Outcome o;
  try {
    o.rle = read();
    o.accepted = true;
  } catch (const InputError& e) {
    o.file = e.file();
    o.record = e.record();
    o.message = e.message();
  }
  return o;
}

std::string quoted(const std::string& s) { return nlohmann::json(s).dump(); }

/// A JSON segmentation value (RLE object or polygons) and the image size it is read on.
struct Input {
  std::string seg;
  std::string height = "3", width = "2";
};

/// The entry points. Each writes the case into the file format it reads and returns the RLE it got.
class Readers {
 public:
  explicit Readers(fs::path dir) : dir_(std::move(dir)) {}

  std::optional<Rle> coco_gt(const Input& in) const {
    std::vector<std::string> w;
    const auto gt = ds::parse_coco_gt(gt_json(in), "gt.json", {}, w);
    return gt.annotations.at(0).rle;
  }
  std::optional<Rle> coco_results(const Input& in) const {
    std::vector<std::string> w;
    const Input image_only{"[[0, 0, 1, 0, 1, 1]]", in.height, in.width};
    const auto gt = ds::parse_coco_gt(gt_json(image_only), "gt.json", {}, w);
    const auto dt = ds::parse_coco_results(
        R"([{"image_id": 1, "category_id": 1, "score": 0.9, "segmentation": )" + in.seg + "}]", "dt.json", gt, {}, w);
    return dt.results.at(0).rle;
  }
  std::optional<Rle> refer_instances(const Input& in) const {
    const auto inst = ds::refer::parse_instances(
        R"({"images": [{"id": 1, "file_name": "a.jpg", "height": )" + in.height + ", \"width\": " + in.width +
            R"(}], "annotations": [{"id": 5, "image_id": 1, "segmentation": )" + in.seg + "}]}",
        "instances.json");
    return ds::refer::gt_rle(inst, 0);
  }
  std::optional<Rle> refer_predictions(const Input& in) const {
    const auto p = ds::refer::parse_predictions(
        R"({"sent_id": 1, "ref_id": 2, "image_id": 1, "mask": )" + in.seg + "}\n", "pred.jsonl");
    return p.at(0).mask;
  }
  std::optional<Rle> gcg_prediction_flat(const Input& in) const {
    return prediction(R"({"image_id": "img", "caption": "a cat", "phrases": ["a cat"], "pred_masks": [)" + in.seg +
                      "]}");
  }
  std::optional<Rle> gcg_prediction_nested(const Input& in) const {
    return prediction(R"({"img": {"caption": "a cat", "phrases": ["a cat"], "pred_masks": [)" + in.seg + "]}}");
  }
  std::optional<Rle> gcg_mask_gt(const Input& in) const {
    const fs::path f = dir_ / "mask_gt.json";
    glamm::io::write_file_atomic(
        f, R"({"images": [{"id": "img", "file_name": "img.jpg", "height": )" + in.height + ", \"width\": " +
               in.width + R"(}], "annotations": [{"id": 1, "image_id": "img", "category_id": 1, "iscrowd": 0, )"
               R"("segmentation": )" + in.seg + "}]}");
    const ds::grandf::MaskGt gt = ds::grandf::load_mask_gt(f);
    return gt.annotations.at(0).rle;
  }

 private:
  static std::string gt_json(const Input& in) {
    return R"({"images": [{"id": 1, "height": )" + in.height + ", \"width\": " + in.width +
           R"(}], "categories": [{"id": 1}], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, )"
           R"("area": 1.0, "iscrowd": 0, "segmentation": )" + in.seg + "}]}";
  }
  std::optional<Rle> prediction(const std::string& text) const {
    glamm::io::write_file_atomic(dir_ / "img.json", text);
    const auto p = ds::grandf::load_prediction(dir_, "img");
    if (!p) throw std::runtime_error("prediction file not found");
    return ds::grandf::pred_mask_rles(*p).at(0);  // as the HTML report's overlays decode them
  }
  fs::path dir_;
};

/// The entry points by name, with the file and record each names for a value that breaks a reading rule.
struct EntryPoint {
  const char* name;
  std::optional<Rle> (Readers::*read)(const Input&) const;
  bool reads_uncompressed;  ///< refseg predictions hold compressed RLE only (docs/input-rules.md)
  bool decodes_uncompressed;  ///< the GCG mask GT keeps only compressed RLEs (gcg refuses the others)
  const char* file;           ///< file name, or its last component
  const char* record;         ///< record named for a value refused while reading
};

const std::vector<EntryPoint>& entry_points() {
  static const std::vector<EntryPoint> e = {
      {"coco GT", &Readers::coco_gt, true, true, "gt.json", "annotations[0] (id 1)"},
      {"coco results", &Readers::coco_results, true, true, "dt.json", "results[0]"},
      {"refer instances", &Readers::refer_instances, true, true, "instances.json", "annotations[0] (id 5)"},
      {"refseg predictions", &Readers::refer_predictions, false, false, "pred.jsonl", "line 1 mask"},
      {"gcg prediction (flat)", &Readers::gcg_prediction_flat, true, true, "img.json", "pred_masks[0]"},
      {"gcg prediction (nested)", &Readers::gcg_prediction_nested, true, true, "img.json", "pred_masks[0]"},
      {"gcg mask GT", &Readers::gcg_mask_gt, true, false, "mask_gt.json", "annotations[0]"},
  };
  return e;
}

Rle rle(uint32_t h, uint32_t w, std::vector<uint32_t> counts) { return Rle{h, w, std::move(counts)}; }

/// One row: the RLE object, and either the RLE every reader gets or how they all refuse it.
struct Case {
  const char* name;
  std::string seg;
  std::optional<Rle> expect;     ///< accepted: this RLE
  bool compressed = true;        ///< the counts are a string
  std::string refusal;           ///< refused while reading: the message every reader gives
  std::string decode_error;      ///< refused when decoding: the mask library's message, which every reader quotes
};

std::string rle_json(const std::string& size, const std::string& counts) {
  return R"({"size": )" + size + R"(, "counts": )" + counts + "}";
}

std::vector<Case> cases() {
  const Rle m = rle(3, 2, {1, 2, 3});
  const std::string s = quoted(glamm::mask::to_string(m));
  const std::string side_range = " must be an integer in [0, 2^32-1], got ";
  std::vector<Case> c;
  auto ok = [&](const char* name, std::string seg, Rle r, bool compressed = true) {
    c.push_back({name, std::move(seg), std::move(r), compressed, "", ""});
  };
  auto refused = [&](const char* name, std::string seg, std::string message, bool compressed = true) {
    c.push_back({name, std::move(seg), std::nullopt, compressed, std::move(message), ""});
  };
  auto undecodable = [&](const char* name, std::string seg, std::string error, bool compressed = true) {
    c.push_back({name, std::move(seg), std::nullopt, compressed, "", std::move(error)});
  };
  const auto rle_error = [](std::function<void()> f) {
    try {
      f();
    } catch (const glamm::mask::RleError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };

  // size
  ok("size as integers, compressed counts", rle_json("[3, 2]", s), m);
  ok("size as integers, uncompressed counts", rle_json("[3, 2]", "[1, 2, 3]"), m, false);
  ok("size as floats holding integers (480.0)", rle_json("[3.0, 2.0]", s), m);
  ok("size as floats, uncompressed counts", rle_json("[3.0, 2e0]", "[1, 2, 3]"), m, false);
  refused("fractional size (480.5)", rle_json("[3.5, 2]", s), "RLE size[0] (height)" + side_range + "3.5");
  refused("negative size", rle_json("[3, -2]", s), "RLE size[1] (width)" + side_range + "-2");
  refused("negative zero point five", rle_json("[-0.5, 2]", s), "RLE size[0] (height)" + side_range + "-0.5");
  refused("size 2^32", rle_json("[4294967296, 1]", quoted(glamm::mask::to_string(rle(1, 1, {1})))),
          "RLE size[0] (height)" + side_range + "4294967296");
  refused("size above 2^63 (uint64)", rle_json("[3, 18446744073709551615]", s),
          "RLE size[1] (width)" + side_range + "18446744073709551615");
  refused("size 1e20", rle_json("[1e20, 2]", s), "RLE size[0] (height)" + side_range + "1e+20");
  refused("size as booleans", rle_json("[true, 2]", s), "RLE size[0] (height)" + side_range + "a boolean");
  refused("size as strings", rle_json(R"(["3", "2"])", s), "RLE size[0] (height)" + side_range + "a string");
  refused("size null", rle_json("[null, 2]", s), "RLE size[0] (height)" + side_range + "null");
  refused("size of one number", rle_json("[3]", s), "RLE 'size' must be [height, width], got a list of 1");
  refused("size of three numbers", rle_json("[3, 2, 1]", s), "RLE 'size' must be [height, width], got a list of 3");
  refused("size as a string", rle_json(R"("3x2")", s), "RLE 'size' must be [height, width], got a string");
  ok("size above 1,000,000", rle_json("[1000001, 1]", quoted(glamm::mask::to_string(rle(1000001, 1, {0, 1000001})))),
     rle(1000001, 1, {0, 1000001}));
  ok("size 2^32-1", rle_json("[4294967295, 1]", quoted(glamm::mask::to_string(rle(4294967295u, 1, {4294967295u})))),
     rle(4294967295u, 1, {4294967295u}));
  // missing fields
  refused("missing counts", R"({"size": [3, 2]})", "an RLE object needs 'size' and 'counts' (missing 'counts')");
  refused("missing size", R"({"counts": )" + s + "}", "an RLE object needs 'size' and 'counts' (missing 'size')");
  // counts
  refused("counts a number", rle_json("[3, 2]", "6"),
          "RLE 'counts' must be a string (compressed RLE) or a list of integers (uncompressed RLE), got 6");
  refused("counts null", rle_json("[3, 2]", "null"),
          "RLE 'counts' must be a string (compressed RLE) or a list of integers (uncompressed RLE), got null");
  ok("counts list with floats holding integers", rle_json("[3, 2]", "[1.0, 2, 3]"), m, false);
  refused("counts list with a fraction", rle_json("[3, 2]", "[1.5, 2, 3]"),
          "RLE counts[0] must be an integer in [0, 2^32-1], got 1.5", false);
  refused("counts list with a negative", rle_json("[3, 2]", "[1, -2, 3]"),
          "RLE counts[1] must be an integer in [0, 2^32-1], got -2", false);
  refused("counts list above 2^32-1", rle_json("[3, 2]", "[1, 2, 4294967296]"),
          "RLE counts[2] must be an integer in [0, 2^32-1], got 4294967296", false);
  refused("counts list with a string", rle_json("[3, 2]", R"([1, "2", 3])"),
          "RLE counts[1] must be an integer in [0, 2^32-1], got a string", false);
  undecodable("compressed counts outside the alphabet", rle_json("[3, 2]", R"("~~~")"),
              rle_error([] { glamm::mask::from_string("~~~", 3, 2); }));
  undecodable("compressed counts that do not sum to h*w", rle_json("[3, 3]", s),
              rle_error([&] { glamm::mask::from_string(glamm::mask::to_string(m), 3, 3); }));
  undecodable("uncompressed counts that do not sum to h*w", rle_json("[3, 2]", "[1, 2]"),
              rle_error([] { glamm::mask::to_rle(glamm::mask::UncompressedRle{3, 2, {1, 2}}, 3, 2); }), false);
  // not an RLE object
  refused("an RLE that is a string", R"("abc")", "", true);  // refused by every reader, each in its own words
  return c;
}

class SegmentationRules : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = glamm::testing::per_test_dir("segrules");
    (void)ds::take_duplicate_key_warnings();
  }
  fs::path dir_;
};

TEST_F(SegmentationRules, EveryReaderAcceptsAndRefusesTheSameRleObjects) {
  const Readers readers(dir_);
  for (const Case& c : cases()) {
    // The image has the RLE's size where the case is valid (REFER requires it), else 3 x 2.
    Input in{c.seg};
    if (c.expect) in.height = std::to_string(c.expect->h), in.width = std::to_string(c.expect->w);
    for (const EntryPoint& ep : entry_points()) {
      SCOPED_TRACE(std::string(c.name) + " through " + ep.name + ": " + c.seg);
      const Outcome o = run([&] { return (readers.*ep.read)(in); });
      if (!o.accepted) {
        EXPECT_NE(o.file.find(ep.file), std::string::npos) << describe(o);
        EXPECT_FALSE(o.record.empty()) << describe(o);
      }
      if (!c.compressed && !ep.reads_uncompressed) {  // refseg predictions: compressed RLE only
        EXPECT_FALSE(o.accepted) << describe(o);
        if (c.refusal.empty() || !c.decode_error.empty()) {
          EXPECT_EQ(o.message, "'mask' counts must be a compressed RLE string") << describe(o);
        } else {
          EXPECT_EQ(o.message, c.refusal) << describe(o);  // the shared rules come first
        }
        continue;
      }
      if (c.expect) {
        ASSERT_TRUE(o.accepted) << describe(o);
        if (!c.compressed && !ep.decodes_uncompressed) {
          EXPECT_FALSE(o.rle.has_value()) << describe(o);  // gcg's mIoU refuses it as "not compressed RLE"
          continue;
        }
        ASSERT_TRUE(o.rle.has_value());
        EXPECT_EQ(o.rle->h, c.expect->h);
        EXPECT_EQ(o.rle->w, c.expect->w);
        EXPECT_EQ(o.rle->counts, c.expect->counts);
      } else if (!c.decode_error.empty()) {
        if (!c.compressed && !ep.decodes_uncompressed) {  // kept undecoded (gcg refuses it)
          EXPECT_TRUE(o.accepted && !o.rle) << describe(o);
          continue;
        }
        ASSERT_FALSE(o.accepted) << describe(o);
        // Each reader quotes the mask library's message after its own prefix.
        ASSERT_GE(o.message.size(), c.decode_error.size()) << describe(o);
        EXPECT_EQ(o.message.substr(o.message.size() - c.decode_error.size()), c.decode_error) << describe(o);
      } else {
        ASSERT_FALSE(o.accepted) << describe(o);
        EXPECT_EQ(o.record, ep.record) << describe(o);
        if (!c.refusal.empty()) {
          EXPECT_EQ(o.message, c.refusal) << describe(o);
        }
      }
    }
  }
}

// The polygon form: the readers that take polygons (COCO GT and results, REFER instances) rasterise the same mask
// and refuse the same coordinates.
TEST_F(SegmentationRules, PolygonsReadTheSameEverywhere) {
  const Readers readers(dir_);
  const std::vector<std::optional<Rle> (Readers::*)(const Input&) const> polygon_readers = {
      &Readers::coco_gt, &Readers::coco_results, &Readers::refer_instances};
  const Input square{"[[1, 1, 5, 1, 5, 4, 1, 4]]", "6", "7"};
  const Rle expected = glamm::mask::from_polygon({1, 1, 5, 1, 5, 4, 1, 4}, 6, 7);
  ASSERT_EQ(glamm::mask::area(expected), 12u);
  for (auto read : polygon_readers) {
    const Outcome o = run([&] { return (readers.*read)(square); });
    ASSERT_TRUE(o.accepted && o.rle) << describe(o);
    EXPECT_EQ(o.rle->counts, expected.counts);
    const Outcome f = run([&] { return (readers.*read)(Input{"[[1, 1, 5, 1, 5.0, 4, 1, 4]]", "6.0", "7"}); });
    ASSERT_TRUE(f.accepted && f.rle) << describe(f);  // image height 6.0 reads as 6
    EXPECT_EQ(f.rle->counts, expected.counts);
    for (const char* bad : {R"([[1, 1, 5, "1", 5, 4, 1, 4]])", "[[1, 1, 5, true, 5, 4, 1, 4]]"}) {
      const Outcome b = run([&] { return (readers.*read)(Input{bad, "6", "7"}); });
      ASSERT_FALSE(b.accepted) << bad;
      EXPECT_EQ(b.message.rfind("polygon coordinates must be numbers, got ", 0), 0u) << describe(b);
    }
    const Outcome n = run([&] { return (readers.*read)(Input{"[[1, 1, 5], 7]", "6", "7"}); });
    ASSERT_FALSE(n.accepted);
    EXPECT_EQ(n.message, "field 'segmentation' must be a list of polygons (lists of numbers), found 7 in it");
  }
  // GCG predictions hold RLE objects only.
  for (auto read : {&Readers::gcg_prediction_flat, &Readers::gcg_prediction_nested}) {
    const Outcome o = run([&] { return (readers.*read)(square); });
    ASSERT_FALSE(o.accepted);
    EXPECT_EQ(o.record, "pred_masks[0]");
    EXPECT_NE(o.message.find("an RLE mask must be an object"), std::string::npos) << describe(o);
  }
}

// Image height/width (COCO GT images, REFER instances images) follow the RLE size rule.
TEST_F(SegmentationRules, ImageSidesFollowTheRleSizeRule) {
  const Readers readers(dir_);
  struct Side {
    const char* value;
    bool ok;
  };
  for (const Side& s : {Side{"3", true}, Side{"3.0", true}, Side{"3.5", false}, Side{"-3", false},
                        Side{"true", false}, Side{"\"3\"", false}, Side{"4294967296", false}}) {
    const std::string poly = "[[0, 0, 1, 0, 1, 1]]";
    const Outcome g = run([&] { return readers.coco_gt(Input{poly, s.value, "2"}); });
    const Outcome r = run([&] { return readers.refer_instances(Input{poly, s.value, "2"}); });
    EXPECT_EQ(g.accepted, s.ok) << s.value << ": " << describe(g);
    EXPECT_EQ(r.accepted, s.ok) << s.value << ": " << describe(r);
    if (!s.ok) {
      EXPECT_EQ(g.message, r.message);
      EXPECT_EQ(g.message.rfind("'height' must be an integer in [0, 2^32-1], got ", 0), 0u) << g.message;
      EXPECT_EQ(g.record, "images[0]");
      EXPECT_EQ(r.record, "images[0] (id 1)");
    } else {
      ASSERT_TRUE(g.rle && r.rle);
      EXPECT_EQ(g.rle->counts, r.rle->counts);
    }
  }
  // Above 1,000,000 (REFER used to refuse it, the others not): read by both.
  const Rle tall = rle(1000001, 1, {0, 1000001});
  const Input big{rle_json("[1000001, 1]", quoted(glamm::mask::to_string(tall))), "1000001", "1"};
  for (auto read : {&Readers::coco_gt, &Readers::refer_instances}) {
    const Outcome o = run([&] { return (readers.*read)(big); });
    ASSERT_TRUE(o.accepted && o.rle) << describe(o);
    EXPECT_EQ(o.rle->counts, tall.counts);
  }
}

// The COCO results file may hold NaN/Infinity literals (read for `score`): in a polygon they are refused with a
// message that says so.
TEST_F(SegmentationRules, NanInAResultPolygonIsNamed) {
  std::vector<std::string> w;
  const auto gt = ds::parse_coco_gt(
      R"({"images": [{"id": 1, "height": 6, "width": 7}], "categories": [{"id": 1}], "annotations": []})", "gt.json",
      {}, w);
  try {
    ds::parse_coco_results(
        R"([{"image_id": 1, "category_id": 1, "score": 0.5, "segmentation": [[1, 1, NaN, 1, 5, 4, 1, 4]]}])",
        "dt.json", gt, {}, w);
    FAIL() << "NaN coordinate accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.record(), "results[0]");
    EXPECT_NE(e.message().find("a polygon coordinate is NaN or Infinity"), std::string::npos) << e.what();
  }
}

}  // namespace
