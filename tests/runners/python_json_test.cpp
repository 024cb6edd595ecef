// Python json.dumps text (runners/python_json.h): the exact bytes CPython writes.
#include <gtest/gtest.h>

#include "runners/python_json.h"

using glamm::runners::python_dumps;
using glamm::runners::python_float_repr;
using glamm::runners::python_string_literal;
using nlohmann::ordered_json;

TEST(PythonJson, DefaultSeparatorsKeepKeyOrder) {
  ordered_json j;
  j["image_id"] = "a";
  j["caption"] = "b";
  j["phrases"] = {"x", "y"};
  j["pred_masks"] = ordered_json::array();
  // json.dumps({"image_id": "a", "caption": "b", "phrases": ["x", "y"], "pred_masks": []})
  EXPECT_EQ(python_dumps(j), R"({"image_id": "a", "caption": "b", "phrases": ["x", "y"], "pred_masks": []})");
}

TEST(PythonJson, IndentTwoAsJsonDump) {
  ordered_json a = ordered_json::array();
  a.push_back({{"image_id", 1}, {"caption", "c"}});
  a.push_back({{"image_id", "s"}, {"caption", ""}});
  EXPECT_EQ(python_dumps(a, 2),
            "[\n  {\n    \"image_id\": 1,\n    \"caption\": \"c\"\n  },\n  {\n    \"image_id\": \"s\",\n"
            "    \"caption\": \"\"\n  }\n]");
  EXPECT_EQ(python_dumps(ordered_json::array(), 2), "[]");
  EXPECT_EQ(python_dumps(ordered_json::object(), 2), "{}");
}

TEST(PythonJson, EnsureAsciiEscapes) {
  // json.dumps('a"b\\c\n\t\x01\x7f é 中 😀')
  EXPECT_EQ(python_string_literal("a\"b\\c\n\t\x01\x7f \xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80"),
            "\"a\\\"b\\\\c\\n\\t\\u0001\x7f \\u00e9 \\u4e2d \\ud83d\\ude00\"");
  EXPECT_EQ(python_string_literal("\xff"), "\"\\ufffd\"");  // invalid UTF-8 byte
  EXPECT_EQ(python_string_literal("\b\f\r/"), "\"\\b\\f\\r/\"");
}

TEST(PythonJson, FloatRepr) {
  EXPECT_EQ(python_float_repr(1.0), "1.0");
  EXPECT_EQ(python_float_repr(0.1), "0.1");
  EXPECT_EQ(python_float_repr(1e-5), "1e-05");
  EXPECT_EQ(python_float_repr(0.0001), "0.0001");
  EXPECT_EQ(python_float_repr(1e16), "1e+16");
  EXPECT_EQ(python_float_repr(123456789012345.6), "123456789012345.6");
  EXPECT_EQ(python_float_repr(-2.5), "-2.5");
  EXPECT_EQ(python_float_repr(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(python_dumps(ordered_json{{"v", true}, {"n", nullptr}, {"f", 0.5}}),
            R"({"v": true, "n": null, "f": 0.5})");
}
