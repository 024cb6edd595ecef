// Tokenizer, prompt, decode, post-processing and [SEG] positions against the tiny-GLaMM golden reference
// (official GLaMM code, fp32 CPU): every case of golden/model/golden/index.json. All comparisons are exact.
// Spec: glamm-model.md §3.3–§3.7, §4.4, §4.6; golden/model/README.md.
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "common/safetensors.h"
#include "model/conversation.h"
#include "model/llama_tokenizer.h"
#include "model/text_postprocess.h"
#include "support/shared_data.h"

namespace fs = std::filesystem;
namespace conv = glamm::model::conv;
using glamm::model::LlamaTokenizer;
using Ids = std::vector<int64_t>;

namespace {

/// The I64 tensor `name` of `file` as a flat vector.
Ids read_i64(const glamm::safetensors::File& file, const std::string& name) {
  const auto& t = file.at(name);
  EXPECT_EQ(t.dtype, "I64") << name;
  Ids out(static_cast<std::size_t>(t.numel()));
  if (!out.empty()) std::memcpy(out.data(), t.data, out.size() * sizeof(int64_t));
  return out;
}

Ids json_ids(const nlohmann::json& j) { return j.get<Ids>(); }

// glamm-model.md §3.6: the GCG prompt (legacy path), 83 ids.
const Ids kSpecGcgPrompt = {
    1,     319,   13563, 1546,  263,   12758, 5199,  322,   385,   23116, 21082, 20255, 29889, 450,   20255,
    4076,  8444,  29892, 13173, 29892, 322,   1248,  568,   6089,  304,   278,   5199,  29915, 29879, 5155,
    29889, 3148,  1001,  29901, 450,   32000, -200,  32001, 8128,  385,   975,   1493,  310,   278,   7623,
    29889, 13,    23323, 366,   3113,  2367,  592,   263,   13173, 6139,  310,   278,   1967,  29973, 3529,
    10049, 411,   1006,  280,   10511, 268,   10768, 362,   11105, 29879, 363,   278,   6590,  5633,  310,
    278,   1234,  29889, 319,   1799,  9047,  13566, 29901};
// §3.6: the region-caption prompt has 70 ids and ends like this.
const Ids kSpecRegionTail = {10902, 491, 32002, 1577, 319, 1799, 9047, 13566, 29901};

class TokenizerGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    GLAMM_REQUIRE_SHARED(folder, "golden/model/tiny-glamm");
    GLAMM_REQUIRE_SHARED(golden, "golden/model/golden/index.json");
    tok_ = std::make_unique<LlamaTokenizer>(LlamaTokenizer::load(folder));
    golden_dir_ = golden.parent_path();
    index_ = glamm::io::load_json(golden);
  }
  std::unique_ptr<LlamaTokenizer> tok_;
  fs::path golden_dir_;
  nlohmann::json index_;
};

}  // namespace

TEST_F(TokenizerGolden, GcgPromptMatchesTheSpecVector) {
  const Ids ids = tok_->encode_with_image(conv::single_turn_prompt(conv::kGcgInstruction));
  EXPECT_EQ(ids, kSpecGcgPrompt);
}

TEST_F(TokenizerGolden, RegionCaptionPromptMatchesTheSpecTail) {
  const Ids ids = tok_->encode_with_image(conv::single_turn_prompt(conv::kRegionCaptionInstruction));
  ASSERT_EQ(ids.size(), 70u);
  EXPECT_EQ(Ids(ids.end() - static_cast<long>(kSpecRegionTail.size()), ids.end()), kSpecRegionTail);
}

TEST_F(TokenizerGolden, EveryAddedTokenOfTheCheckpointIsOneId) {
  ASSERT_EQ(tok_->added_tokens().size(), 7u);
  for (const auto& [token, id] : tok_->added_tokens()) EXPECT_EQ(tok_->encode(token), (Ids{1, id})) << token;
  EXPECT_EQ(tok_->encode("[SEG]"), (Ids{1, 32004}));
}

TEST_F(TokenizerGolden, GenerationCases) {
  int checked = 0;
  for (const auto& c : index_.at("cases")) {
    const std::string task = c.at("task");
    if (task == "refseg_tf") continue;
    const std::string name = c.at("case");
    SCOPED_TRACE(name);
    const auto meta = glamm::io::load_json(golden_dir_ / c.at("meta").get<std::string>());
    const auto tensors = glamm::safetensors::File::open(golden_dir_ / c.at("tensors").get<std::string>());

    // Prompt ids: instruction → llava_v1 prompt → tokenizer_image_token.
    const std::string instruction = meta.at("instruction");
    if (task == "gcg") {
      EXPECT_EQ(instruction, conv::kGcgInstruction);
    }
    if (task == "regcap1") {
      EXPECT_EQ(instruction, conv::kRegionCaptionInstruction);
    }
    const Ids prompt = tok_->encode_with_image(conv::single_turn_prompt(instruction));
    EXPECT_EQ(prompt, json_ids(meta.at("prompt_ids")));
    EXPECT_EQ(prompt, read_i64(tensors, "input_ids"));
    if (task == "gcg") {
      EXPECT_EQ(prompt, kSpecGcgPrompt);
    }

    // Decode of the whole sequence (−200 removed) and the eval scripts' post-processing.
    const Ids sequence = read_i64(tensors, "gen.sequences");
    Ids expected_seq = prompt;
    const Ids generated = read_i64(tensors, "gen.generated_ids");
    EXPECT_EQ(generated, json_ids(meta.at("generated_ids")));
    expected_seq.insert(expected_seq.end(), generated.begin(), generated.end());
    EXPECT_EQ(sequence, expected_seq);
    const Ids decode_ids = glamm::model::without_image_tokens(sequence);
    EXPECT_EQ(decode_ids, json_ids(meta.at("decode_input_ids")));
    const std::string raw = tok_->decode(decode_ids);
    EXPECT_EQ(raw, meta.at("raw_decode").get<std::string>());

    const auto text = glamm::model::postprocess_gcg(raw);
    EXPECT_EQ(text.text_output, meta.at("text_output").get<std::string>());
    EXPECT_EQ(text.caption, meta.at("cleaned_caption").get<std::string>());
    if (meta.contains("phrases")) {
      EXPECT_EQ(text.phrases, meta.at("phrases").get<std::vector<std::string>>());
    }

    // [SEG] positions in the last step's hidden states.
    EXPECT_EQ(glamm::model::seg_hidden_positions(sequence), read_i64(tensors, "seg.positions_in_final_step_hidden"));
    EXPECT_EQ(static_cast<int64_t>(glamm::model::seg_hidden_positions(sequence).size()),
              meta.at("num_masks").get<int64_t>());
    ++checked;
  }
  EXPECT_EQ(checked, 6);
}

TEST_F(TokenizerGolden, GcgOfficialOutputFiles) {
  int checked = 0;
  for (const auto& c : index_.at("cases")) {
    if (c.at("task") != "gcg") continue;
    const auto meta = glamm::io::load_json(golden_dir_ / c.at("meta").get<std::string>());
    const std::string stem = fs::path(meta.at("image").get<std::string>()).stem().string();
    const auto official = glamm::io::load_json(golden_dir_ / ("gcg_output__" + stem + ".json"));
    const auto sequence = read_i64(
        glamm::safetensors::File::open(golden_dir_ / c.at("tensors").get<std::string>()), "gen.sequences");
    const auto text = glamm::model::postprocess_gcg(tok_->decode(glamm::model::without_image_tokens(sequence)));
    EXPECT_EQ(text.caption, official.at("caption").get<std::string>()) << stem;
    EXPECT_EQ(text.phrases, official.at("phrases").get<std::vector<std::string>>()) << stem;
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

TEST_F(TokenizerGolden, TeacherForcedRefsegCases) {
  // The golden conversation: SEG_QUESTIONS[0] / ANSWER_LIST[1], then SEG_QUESTIONS[1] / ANSWER_LIST[0].
  const std::string text = conv::teacher_forced_conversation(
      {{conv::fill_template(conv::refseg_question_templates()[0], "man"), conv::refseg_answers()[1]},
       {conv::fill_template(conv::refseg_question_templates()[1], "road"), conv::refseg_answers()[0]}});
  int checked = 0;
  for (const auto& c : index_.at("cases")) {
    if (c.at("task") != "refseg_tf") continue;
    SCOPED_TRACE(c.at("case").get<std::string>());
    const auto meta = glamm::io::load_json(golden_dir_ / c.at("meta").get<std::string>());
    const auto tensors = glamm::safetensors::File::open(golden_dir_ / c.at("tensors").get<std::string>());
    EXPECT_EQ(text, meta.at("conversation_text").get<std::string>());
    const Ids ids = tok_->encode_with_image(text);
    EXPECT_EQ(ids, read_i64(tensors, "input_ids"));
    const Ids positions = glamm::model::seg_hidden_positions(ids);
    EXPECT_EQ(positions, read_i64(tensors, "seg.positions_in_hidden"));
    EXPECT_EQ(static_cast<int64_t>(positions.size()), meta.at("num_masks").get<int64_t>());
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

TEST_F(TokenizerGolden, RegionCaptionOfficialOutput) {
  // regcap_output.json: image_id is the image stem (one box) or stem + "__2boxes" (two boxes).
  const auto official = glamm::io::load_json(golden_dir_ / "regcap_output.json");
  ASSERT_TRUE(official.is_array());
  int checked = 0;
  for (const auto& c : index_.at("cases")) {
    const std::string task = c.at("task");
    if (task != "regcap1" && task != "regcap2") continue;
    const auto meta = glamm::io::load_json(golden_dir_ / c.at("meta").get<std::string>());
    std::string image_id = fs::path(meta.at("image").get<std::string>()).stem().string();
    if (task == "regcap2") image_id += "__2boxes";
    SCOPED_TRACE(image_id);
    const auto sequence = read_i64(
        glamm::safetensors::File::open(golden_dir_ / c.at("tensors").get<std::string>()), "gen.sequences");
    const std::string caption = glamm::model::clean_caption(
        glamm::model::text_output_from_decoded(tok_->decode(glamm::model::without_image_tokens(sequence))));
    int found = 0;
    for (const auto& entry : official) {
      if (entry.at("image_id") != image_id) continue;
      EXPECT_EQ(caption, entry.at("caption").get<std::string>());
      ++found;
    }
    EXPECT_EQ(found, 1);
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}
