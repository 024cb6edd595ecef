// REFER adapter: refs pickles of every protocol (CPython-written fixtures below, generated with
// pickle.dumps(<the §4.8 refs with raw "Brown dög">, protocol=p).hex()), Python-2 byte strings, split rules, GT masks,
// instances.json and the refseg prediction reader. Spec: dataset-formats.md §4.
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "common/error.h"
#include "datasets/refer.h"
#include "datasets/refer_fixture.h"
#include "metrics/mask/rle.h"

namespace fx = glamm::testing::refer_fixture;
namespace refer = glamm::datasets::refer;
using glamm::InputError;

namespace {

// protocol 0
const char* kReferP0 =
    "286c70300a286470310a567265665f69640a70320a493530310a7356616e6e5f69640a70330a49393030310a7356696d6167655f69640a70"
    "340a4934320a735663617465676f72795f69640a70350a49310a735673706c69740a70360a5674657374410a70370a735666696c655f6e61"
    "6d650a70380a56434f434f5f747261696e323031345f3030303030303030303034325f332e6a70670a70390a735673656e745f6964730a70"
    "31300a286c7031310a49373030310a6149373030320a61735673656e74656e6365730a7031320a286c7031330a28647031340a5673656e74"
    "5f69640a7031350a49373030310a735673656e740a7031360a566d616e206f6e206c6566740a7031370a73567261770a7031380a564d616e"
    "206f6e206c6566742e0a7031390a7356746f6b656e730a7032300a286c7032310a566d616e0a7032320a61566f6e0a7032330a61566c6566"
    "740a7032340a61736128647032350a6731350a49373030320a736731360a5667757920696e207265642073686972740a7032360a73673138"
    "0a6732360a736732300a286c7032370a566775790a7032380a6156696e0a7032390a61567265640a7033300a615673686972740a7033310a"
    "617361736128647033320a67320a493530320a7367330a49393030320a7367340a4934320a7367350a49310a7367360a67370a7367380a56"
    "434f434f5f747261696e323031345f3030303030303030303034325f342e6a70670a7033330a736731300a286c7033340a49373030330a61"
    "736731320a286c7033350a28647033360a6731350a49373030330a736731360a56706572736f6e2072696768740a7033370a736731380a67"
    "33370a736732300a286c7033380a56706572736f6e0a7033390a615672696768740a7034300a617361736128647034310a67320a49353033"
    "0a7367330a49393030330a7367340a4937370a7367350a4931380a7367360a5676616c0a7034320a7367380a56434f434f5f747261696e32"
    "3031345f3030303030303030303037375f393030332e6a70670a7034330a736731300a286c7034340a49373130310a61736731320a286c70"
    "34350a28647034360a6731350a49373130310a736731360a5662726f776e20646f670a7034370a736731380a5642726f776e2064f6670a70"
    "34380a736732300a286c7034390a5662726f776e0a7035300a6156646f670a7035310a61736173612e"
    ;
// protocol 2
const char* kReferP2 =
    "80025d7100287d71012858060000007265665f696471024df5015806000000616e6e5f696471034d29235808000000696d6167655f696471"
    "044b2a580b00000063617465676f72795f696471054b01580500000073706c69747106580500000074657374417107580900000066696c65"
    "5f6e616d6571085821000000434f434f5f747261696e323031345f3030303030303030303034325f332e6a70677109580800000073656e74"
    "5f696473710a5d710b284d591b4d5a1b65580900000073656e74656e636573710c5d710d287d710e28580700000073656e745f6964710f4d"
    "591b580400000073656e747110580b0000006d616e206f6e206c656674711158030000007261777112580c0000004d616e206f6e206c6566"
    "742e71135806000000746f6b656e7371145d71152858030000006d616e711658020000006f6e711758040000006c656674711865757d7119"
    "28680f4d5a1b6810581000000067757920696e20726564207368697274711a6812681a68145d711b285803000000677579711c5802000000"
    "696e711d5803000000726564711e58050000007368697274711f657565757d71202868024df60168034d2a2368044b2a68054b0168066807"
    "68085821000000434f434f5f747261696e323031345f3030303030303030303034325f342e6a70677121680a5d71224d5b1b61680c5d7123"
    "7d712428680f4d5b1b6810580c000000706572736f6e20726967687471256812682568145d7126285806000000706572736f6e7127580500"
    "000072696768747128657561757d71292868024df70168034d2b2368044b4d68054b126806580300000076616c712a68085824000000434f"
    "434f5f747261696e323031345f3030303030303030303037375f393030332e6a7067712b680a5d712c4dbd1b61680c5d712d7d712e28680f"
    "4dbd1b6810580900000062726f776e20646f67712f6812580a00000042726f776e2064c3b667713068145d713128580500000062726f776e"
    "71325803000000646f67713365756175652e"
    ;
// protocol 4
const char* kReferP4 =
    "8004954e020000000000005d94287d94288c067265665f6964944df5018c06616e6e5f6964944d29238c08696d6167655f6964944b2a8c0b"
    "63617465676f72795f6964944b018c0573706c6974948c057465737441948c0966696c655f6e616d65948c21434f434f5f747261696e3230"
    "31345f3030303030303030303034325f332e6a7067948c0873656e745f696473945d94284d591b4d5a1b658c0973656e74656e636573945d"
    "94287d94288c0773656e745f6964944d591b8c0473656e74948c0b6d616e206f6e206c656674948c03726177948c0c4d616e206f6e206c65"
    "66742e948c06746f6b656e73945d94288c036d616e948c026f6e948c046c6566749465757d9428680f4d5a1b68108c1067757920696e2072"
    "6564207368697274946812681a68145d94288c03677579948c02696e948c03726564948c05736869727494657565757d942868024df60168"
    "034d2a2368044b2a68054b016806680768088c21434f434f5f747261696e323031345f3030303030303030303034325f342e6a706794680a"
    "5d944d5b1b61680c5d947d9428680f4d5b1b68108c0c706572736f6e207269676874946812682568145d94288c06706572736f6e948c0572"
    "6967687494657561757d942868024df70168034d2b2368044b4d68054b1268068c0376616c9468088c24434f434f5f747261696e32303134"
    "5f3030303030303030303037375f393030332e6a706794680a5d944dbd1b61680c5d947d9428680f4dbd1b68108c0962726f776e20646f67"
    "9468128c0a42726f776e2064c3b6679468145d94288c0562726f776e948c03646f679465756175652e"
    ;
// protocol 5
const char* kReferP5 =
    "8005954e020000000000005d94287d94288c067265665f6964944df5018c06616e6e5f6964944d29238c08696d6167655f6964944b2a8c0b"
    "63617465676f72795f6964944b018c0573706c6974948c057465737441948c0966696c655f6e616d65948c21434f434f5f747261696e3230"
    "31345f3030303030303030303034325f332e6a7067948c0873656e745f696473945d94284d591b4d5a1b658c0973656e74656e636573945d"
    "94287d94288c0773656e745f6964944d591b8c0473656e74948c0b6d616e206f6e206c656674948c03726177948c0c4d616e206f6e206c65"
    "66742e948c06746f6b656e73945d94288c036d616e948c026f6e948c046c6566749465757d9428680f4d5a1b68108c1067757920696e2072"
    "6564207368697274946812681a68145d94288c03677579948c02696e948c03726564948c05736869727494657565757d942868024df60168"
    "034d2a2368044b2a68054b016806680768088c21434f434f5f747261696e323031345f3030303030303030303034325f342e6a706794680a"
    "5d944d5b1b61680c5d947d9428680f4d5b1b68108c0c706572736f6e207269676874946812682568145d94288c06706572736f6e948c0572"
    "6967687494657561757d942868024df70168034d2b2368044b4d68054b1268068c0376616c9468088c24434f434f5f747261696e32303134"
    "5f3030303030303030303037375f393030332e6a706794680a5d944dbd1b61680c5d947d9428680f4dbd1b68108c0962726f776e20646f67"
    "9468128c0a42726f776e2064c3b6679468145d94288c0562726f776e948c03646f679465756175652e"
    ;

std::string unhex(const std::string& h) {
  std::string out;
  for (std::size_t k = 0; k + 1 < h.size(); k += 2) out += static_cast<char>(std::stoi(h.substr(k, 2), nullptr, 16));
  return out;
}

void expect_spec_refs(const refer::RefsFile& f, const std::string& dog_raw) {
  ASSERT_EQ(f.refs.size(), 3u);
  EXPECT_EQ(f.refs[0].ref_id, 501);
  EXPECT_EQ(f.refs[0].ann_id, 9001);
  EXPECT_EQ(f.refs[0].image_id, 42);
  EXPECT_EQ(f.refs[0].split, "testA");
  ASSERT_EQ(f.refs[0].sentences.size(), 2u);
  EXPECT_EQ(f.refs[0].sentences[1].sent_id, 7002);
  EXPECT_EQ(f.refs[0].sentences[1].sent, "guy in red shirt");
  EXPECT_EQ(f.refs[0].sentences[0].raw, "Man on left.");
  EXPECT_EQ(f.refs[2].category_id, 18);
  EXPECT_EQ(f.refs[2].sentences[0].raw, dog_raw);
}

std::string errmsg(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

refer::Instances spec_instances() { return refer::parse_instances(fx::spec_instances().dump(), "instances.json"); }

}  // namespace

TEST(ReferRefs, ReadsCPythonPicklesOfProtocols0245) {
  for (const char* hex : {kReferP0, kReferP2, kReferP4, kReferP5}) {
    const refer::RefsFile f = refer::parse_refs(unhex(hex), "refs(unc).p");
    expect_spec_refs(f, "Brown d\xc3\xb6g");
    EXPECT_EQ(f.latin1_strings, 0u);
  }
}

TEST(ReferRefs, ReadsPython2ByteStringsIncludingLatin1) {
  nlohmann::json refs = fx::spec_refs();
  refs[2]["sentences"][0]["raw"] = std::string("Brown d\xf6g");  // Latin-1 byte, not UTF-8
  const refer::RefsFile f = refer::parse_refs(fx::pickle2(refs, true), "refs(unc).p");
  expect_spec_refs(f, "Brown d\xc3\xb6g");
  EXPECT_GT(f.py2_strings, 10u);
  EXPECT_EQ(f.latin1_strings, 1u);
  // the same data with unicode strings
  const refer::RefsFile g = refer::parse_refs(fx::pickle2(fx::spec_refs(), false), "refs(unc).p");
  expect_spec_refs(g, "Brown dog");
  EXPECT_EQ(g.py2_strings, 0u);
}

TEST(ReferRefs, RejectsPickleCallingAGlobal) {
  const std::string evil = "cos\nsystem\n(S'echo pwned'\ntR.";
  const std::string m = errmsg([&] { refer::parse_refs(evil, "refs(unc).p"); });
  EXPECT_NE(m.find("refs(unc).p"), std::string::npos) << m;
  EXPECT_NE(m.find("os"), std::string::npos) << m;
}

TEST(ReferRefs, DeeplyNestedPickleIsAnInputErrorNamingTheFile) {
  // 200,000 nested lists (protocol 2) crashed the reader (SIGSEGV) when the tree was freed.
  const std::string bytes = std::string("\x80\x02") + std::string(200000, ']') + std::string(199999, 'a') + ".";
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("glamm_refer_deep_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::create_directories(dir);
  const std::filesystem::path file = dir / "refs(unc).p";
  { std::ofstream(file, std::ios::binary) << bytes; }
  const std::string m = errmsg([&] { refer::load_refs(file); });
  EXPECT_NE(m.find(file.string() + ": "), std::string::npos) << m;
  EXPECT_NE(m.find("nested deeper than 10000 levels"), std::string::npos) << m;
  std::ifstream in(file, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), bytes);  // the input is left as it was
  std::filesystem::remove_all(dir);
}

TEST(ReferRefs, RejectsWrongShapesAndRepeatedIds) {
  EXPECT_NE(errmsg([] { refer::parse_refs(fx::pickle2({{"refs", nlohmann::json::array()}}, true), "r.p"); })
                .find("list of ref dicts"),
            std::string::npos);
  nlohmann::json refs = fx::spec_refs();
  refs[1]["sentences"][0]["sent_id"] = 7001;
  EXPECT_NE(errmsg([&] { refer::parse_refs(fx::pickle2(refs, true), "r.p"); }).find("refs[1] (ref_id 502) sentences[0]: sent_id 7001 occurs twice"),
            std::string::npos);
  refs = fx::spec_refs();
  refs[2]["ref_id"] = 501;
  EXPECT_NE(errmsg([&] { refer::parse_refs(fx::pickle2(refs, true), "r.p"); }).find("ref_id 501 occurs twice"),
            std::string::npos);
  refs = fx::spec_refs();
  refs[0].erase("ann_id");
  EXPECT_NE(errmsg([&] { refer::parse_refs(fx::pickle2(refs, true), "r.p"); }).find("refs[0] (ref_id 501): missing field 'ann_id'"),
            std::string::npos);
}

TEST(ReferSplit, SelectsAsTheReferApi) {
  nlohmann::json refs = fx::spec_refs();
  refs.push_back({{"ref_id", 504}, {"ann_id", 9003}, {"image_id", 77}, {"split", "testB"},
                  {"sentences", {{{"sent_id", 7201}, {"sent", "dog"}}}}});
  const refer::RefsFile f = refer::parse_refs(fx::pickle2(refs, true), "refs(unc).p");
  const refer::Instances inst = spec_instances();
  const refer::Split a = refer::select_split(f, inst, "refcoco", "unc", "testA");
  ASSERT_EQ(a.samples.size(), 3u);
  ASSERT_EQ(a.items.size(), 1u);  // both refs are on image 42: one item of 3 sentences
  EXPECT_EQ(a.samples[2].sent_id, 7003);
  EXPECT_EQ(a.num_refs, 2u);
  const refer::Split t = refer::select_split(f, inst, "refcoco", "unc", "test");  // testA ∪ testB
  EXPECT_EQ(t.samples.size(), 4u);
  EXPECT_EQ(t.items.size(), 2u);
  const refer::Split v = refer::select_split(f, inst, "refcoco", "unc", "val");
  ASSERT_EQ(v.samples.size(), 1u);
  EXPECT_EQ(v.samples[0].raw, "Brown dog");
  EXPECT_TRUE(refer::split_selects("testA", "testAB"));
  EXPECT_FALSE(refer::split_selects("testAB", "testA"));
}

TEST(ReferSplit, RefusesSplitNamesOutsideTheSplitBy) {
  const refer::RefsFile f = refer::parse_refs(fx::pickle2(fx::spec_refs(), true), "refs(google).p");
  const refer::Instances inst = spec_instances();
  const std::string m = errmsg([&] { refer::select_split(f, inst, "refcocog", "google", "test"); });
  EXPECT_NE(m.find("split 'test' does not exist in refcocog splitBy google (valid: train, val)"), std::string::npos) << m;
  EXPECT_NE(errmsg([&] { refer::select_split(f, inst, "refcoco", "unc", "testC"); }).find("does not exist"),
            std::string::npos);
  EXPECT_NE(errmsg([] { refer::split_names("refcoco+", "google"); }).find("no 'google' split scheme"),
            std::string::npos);
  EXPECT_EQ(refer::default_split_by("refcocog"), "umd");
  EXPECT_EQ(refer::default_split_by("refcoco+"), "unc");
  // a valid name with no refs in the file
  EXPECT_NE(errmsg([&] { refer::select_split(f, inst, "refcoco", "unc", "train"); }).find("selects no refs"),
            std::string::npos);
}

TEST(ReferSplit, CountsImagesRefsSentencesPerSplit) {
  // umd partitions images; google partitions objects, so one image can be in train and val.
  nlohmann::json google = fx::spec_refs();
  google[0]["split"] = "train";
  google[1]["split"] = "val";
  google[2]["split"] = "val";
  const auto c = refer::count_splits(refer::parse_refs(fx::pickle2(google, true), "refs(google).p"));
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].first, "train");
  EXPECT_EQ(c[0].second.images, 1u);
  EXPECT_EQ(c[0].second.sentences, 2u);
  EXPECT_EQ(c[1].first, "val");
  EXPECT_EQ(c[1].second.images, 2u);
  EXPECT_EQ(c[1].second.refs, 2u);
  EXPECT_EQ(c[1].second.sentences, 2u);
}

TEST(ReferSplit, RefsAndInstancesThatDisagreeNameTheRef) {
  nlohmann::json refs = fx::spec_refs();
  refs[1]["ann_id"] = 123456;
  const refer::RefsFile f = refer::parse_refs(fx::pickle2(refs, true), "refs(unc).p");
  const std::string m = errmsg([&] { refer::select_split(f, spec_instances(), "refcoco", "unc", "testA"); });
  EXPECT_NE(m.find("refs(unc).p: refs[1] (ref_id 502): ann_id 123456 is not in instances.json"), std::string::npos) << m;
  refs = fx::spec_refs();
  refs[1]["image_id"] = 77;
  const refer::RefsFile g = refer::parse_refs(fx::pickle2(refs, true), "refs(unc).p");
  EXPECT_NE(errmsg([&] { refer::select_split(g, spec_instances(), "refcoco", "unc", "testA"); })
                .find("ann_id 9002 belongs to image 42"),
            std::string::npos);
}

TEST(ReferGt, MasksOfTheSpecExample) {
  const refer::Instances inst = spec_instances();
  const char* expected[] = {"724000g0", "j0330004", "3330Q1"};
  for (std::size_t a = 0; a < 3; ++a) {
    const auto m = refer::gt_mask(inst, a, refer::GtOverlap::kUnion);
    EXPECT_EQ(glamm::mask::to_string(glamm::mask::encode(m.data(), 6, 8)), expected[a]);
  }
}

TEST(ReferGt, OverlappingPartsUnionOrSumAndEmptySegmentation) {
  nlohmann::json j = fx::spec_instances();
  // two overlapping squares: x 1..3 × y 1..2 and x 2..4 × y 1..2 (overlap x 2..3 × y 1..2 = 4 px)
  j["annotations"][0]["segmentation"] = {{1, 1, 4, 1, 4, 3, 1, 3}, {2, 1, 5, 1, 5, 3, 2, 3}};
  j["annotations"][1]["segmentation"] = nlohmann::json::array();
  const refer::Instances inst = refer::parse_instances(j.dump(), "instances.json");
  const auto u = refer::gt_mask(inst, 0, refer::GtOverlap::kUnion);
  const auto s = refer::gt_mask(inst, 0, refer::GtOverlap::kSum);
  int n1 = 0, n2 = 0;
  for (std::size_t k = 0; k < u.size(); ++k) {
    EXPECT_EQ(u[k] != 0, s[k] != 0);
    n1 += u[k] == 1;
    n2 += s[k] == 2;
  }
  EXPECT_EQ(n1, 8);
  EXPECT_EQ(n2, 4);
  for (uint8_t v : refer::gt_mask(inst, 1, refer::GtOverlap::kUnion)) EXPECT_EQ(v, 0);
}

// Found by the readers' fuzz test: an annotation on an image absent from images[] made gt_rle / gt_mask throw
// std::out_of_range (exit 1) instead of an InputError naming the annotation.
TEST(ReferGt, AnnotationOnAnUnknownImageIsAnInputError) {
  nlohmann::json j = fx::spec_instances();
  j["annotations"][2]["image_id"] = 12345;
  const refer::Instances inst = refer::parse_instances(j.dump(), "instances.json");
  EXPECT_EQ(errmsg([&] { refer::gt_rle(inst, 2); }),
            "instances.json: annotation id 9003: image_id 12345 is not in images[]");
  EXPECT_EQ(errmsg([&] { refer::gt_mask(inst, 2, refer::GtOverlap::kSum); }),
            "instances.json: annotation id 9003: image_id 12345 is not in images[]");
  EXPECT_EQ(refer::gt_rle(inst, 0).h, 6u);
}

TEST(ReferInstances, RepeatedIdsAndMissingFieldsAreErrors) {
  nlohmann::json j = fx::spec_instances();
  j["annotations"][2]["id"] = 9001;
  EXPECT_NE(errmsg([&] { refer::parse_instances(j.dump(), "instances.json"); })
                .find("instances.json: annotations[2] (id 9001): annotation id 9001 occurs twice"),
            std::string::npos);
  j = fx::spec_instances();
  j["images"][1]["id"] = 42;
  EXPECT_NE(errmsg([&] { refer::parse_instances(j.dump(), "instances.json"); }).find("image id 42 occurs twice"),
            std::string::npos);
  j = fx::spec_instances();
  j["images"][0].erase("height");
  EXPECT_NE(errmsg([&] { refer::parse_instances(j.dump(), "instances.json"); })
                .find("images[0] (id 42): missing field 'height'"),
            std::string::npos);
  // an image without annotations is fine
  const refer::Instances inst = spec_instances();
  EXPECT_EQ(inst.images.size(), 3u);
  EXPECT_EQ(inst.images[2].id, 99);
}

TEST(ReferPredictions, ReadsJsonLinesAndArrays) {
  const std::string jsonl =
      "{\"dataset\":\"refcoco\",\"split_by\":\"unc\",\"split\":\"testA\",\"sent_id\":7001,\"ref_id\":501,\"image_id\":42,"
      "\"mask\":{\"size\":[6,8],\"counts\":\"724000g0\"}}\n\n"
      "{\"sent_id\":7003,\"ref_id\":502,\"image_id\":42,\"mask\":{\"size\":[6,8],\"counts\":\"`1\"}}\n";
  const auto p = refer::parse_predictions(jsonl, "p.jsonl");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].split, "testA");
  EXPECT_EQ(glamm::mask::area(p[0].mask), 6u);
  EXPECT_EQ(p[1].line, 3u);
  EXPECT_EQ(glamm::mask::area(p[1].mask), 0u);
  const auto a = refer::parse_predictions(
      "[{\"sent_id\":7003,\"ref_id\":502,\"image_id\":42,\"mask\":{\"size\":[6,8],\"counts\":\"`1\"}}]", "p.json");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_NE(errmsg([] { refer::parse_predictions("{\"sent_id\":1}\n{\"sent_id\":2,", "p.jsonl"); }).find("p.jsonl: line 1: missing field 'ref_id'"),
            std::string::npos);
  EXPECT_NE(errmsg([] {
              refer::parse_predictions(
                  "{\"sent_id\":1,\"ref_id\":2,\"image_id\":3,\"mask\":{\"size\":[6,8],\"counts\":[48]}}", "p.jsonl");
            }).find("compressed RLE string"),
            std::string::npos);
}
