// Golden: LlamaTokenizer on the real LLaMA SentencePiece model (shared data/tokenizers) with hand-written added-token
// tables: one id per added token, neighbour stripping with Python whitespace, empty pieces, longest match,
// the non-legacy switch, tokenizer_image_token, decode rules of convert_tokens_to_string, and load errors.
// Spec: glamm-model.md §3.1–§3.3, §3.7.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "model/llama_tokenizer.h"
#include "support/shared_data.h"

namespace fs = std::filesystem;
using glamm::model::LlamaTokenizer;
using Ids = std::vector<int64_t>;
using Strings = std::vector<std::string>;

namespace {

const char* kGlammAdded =
    R"({"</p>": 32006, "<bbox>": 32002, "<im_end>": 32001, "<im_start>": 32000, "<p>": 32005, "<point>": 32003,
        "[SEG]": 32004})";

/// A fresh folder under the temp dir, removed at destruction.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() /
           ("glamm_llama_tok_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  void write(const std::string& name, const std::string& data) const {
    std::ofstream(path / name, std::ios::binary) << data;
  }
};

void link_model(const TempDir& dir, const fs::path& model) { fs::create_symlink(model, dir.path / "tokenizer.model"); }

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Expect load() to throw an InputError whose message contains `needle`.
void expect_load_error(const fs::path& folder, const std::string& needle) {
  try {
    LlamaTokenizer::load(folder);
    ADD_FAILURE() << "no error; expected one mentioning " << needle;
  } catch (const glamm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

}  // namespace

class LlamaTokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GLAMM_REQUIRE_SHARED(model, "data/tokenizers/llama_tokenizer.model");
    model_ = model;
    link_model(dir_, model_);
    dir_.write("added_tokens.json", kGlammAdded);
    tok_ = std::make_unique<LlamaTokenizer>(LlamaTokenizer::load(dir_.path));
  }
  const LlamaTokenizer& tok() const { return *tok_; }
  fs::path model_;
  TempDir dir_;
  std::unique_ptr<LlamaTokenizer> tok_;
};

TEST_F(LlamaTokenizerTest, VocabularyAndSpecialIds) {
  EXPECT_EQ(tok().sp_size(), 32000);
  EXPECT_EQ(tok().size(), 32007);
  EXPECT_EQ(tok().bos_id(), 1);
  EXPECT_EQ(tok().eos_id(), 2);
  EXPECT_EQ(tok().unk_id(), 0);
  EXPECT_EQ(tok().pad_id(), 0);
  EXPECT_TRUE(tok().legacy());
  ASSERT_EQ(tok().added_tokens().size(), 7u);
  EXPECT_EQ(tok().added_tokens().front().first, "<im_start>");
  EXPECT_EQ(tok().added_tokens().back().first, "</p>");
}

TEST_F(LlamaTokenizerTest, SegIsOneTokenNotAWordBoundaryPiece) {
  // Reported failure: taking the first piece of the tokenized "[SEG]" gave "▁[" (a word-boundary piece).
  EXPECT_EQ(tok().encode("[SEG]"), (Ids{1, 32004}));
  EXPECT_EQ(tok().tokenize("[SEG]"), Strings{"[SEG]"});
}

TEST_F(LlamaTokenizerTest, EveryAddedTokenMapsToExactlyItsId) {
  for (const auto& [token, id] : tok().added_tokens()) {
    SCOPED_TRACE(token);
    EXPECT_EQ(tok().encode(token), (Ids{1, id}));
    EXPECT_EQ(tok().encode("  " + token + " \n"), (Ids{1, id}));
    EXPECT_EQ(tok().tokenize(token), Strings{token});
    EXPECT_EQ(tok().token_to_id(token), id);
    EXPECT_EQ(tok().id_to_token(id), token);
    EXPECT_EQ(tok().decode({id}), token);
    const Ids in_text = tok().encode("x" + token + "y");
    EXPECT_EQ(std::count(in_text.begin(), in_text.end(), id), 1);
    EXPECT_EQ(in_text.size(), 4u);
  }
}

TEST_F(LlamaTokenizerTest, KnownPieces) {
  EXPECT_EQ(tok().encode("A man"), (Ids{1, 319, 767}));
  EXPECT_EQ(tok().encode("\n"), (Ids{1, 29871, 13}));
  EXPECT_EQ(tok().encode("<p> A man </p>"), (Ids{1, 32005, 319, 767, 32006}));
  EXPECT_EQ(tok().encode(""), Ids{1});
}

TEST_F(LlamaTokenizerTest, EachTextPieceGetsItsOwnDummyPrefix) {
  // Legacy (transformers 4.29): "?" after <bbox> is encoded alone → "▁?" (1577); "." after [SEG] → "▁." (869).
  EXPECT_EQ(tok().encode("by <bbox>?"), (Ids{1, 491, 32002, 1577}));
  EXPECT_EQ(tok().encode("[SEG]."), (Ids{1, 32004, 869}));
}

TEST_F(LlamaTokenizerTest, NonLegacyDropsThePrefixAfterAddedTokens) {
  const LlamaTokenizer non_legacy = tok().with_legacy(false);
  EXPECT_FALSE(non_legacy.legacy());
  EXPECT_EQ(non_legacy.encode("by <bbox>?"), (Ids{1, 491, 32002, 29973}));
  EXPECT_EQ(non_legacy.encode("[SEG]."), (Ids{1, 32004, 29889}));
  // "provides" without "▁" is not a piece: <unk> (glamm-model.md §3.3 risk note).
  EXPECT_EQ(non_legacy.encode("<im_end> provides"), (Ids{1, 32001, 0}));
  EXPECT_EQ(tok().encode("<im_end> provides"), (Ids{1, 32001, 8128}));
  // Without added tokens both modes agree; a text starting with an added token has no stray "▁".
  EXPECT_EQ(non_legacy.encode("A man"), tok().encode("A man"));
  EXPECT_EQ(non_legacy.encode("[SEG]"), (Ids{1, 32004}));
  EXPECT_EQ(non_legacy.encode(""), Ids{1});
}

TEST_F(LlamaTokenizerTest, NeighboursOfAddedTokensLosePythonWhitespace) {
  EXPECT_EQ(tok().encode("a \n\t<p>\r\n b"), tok().encode("a<p>b"));
  // U+3000 and U+00A0 are whitespace for str.strip …
  EXPECT_EQ(tok().encode("a\xE3\x80\x80<p>\xC2\xA0" "b"), tok().encode("a<p>b"));
  // … U+200B is not.
  EXPECT_NE(tok().encode("a\xE2\x80\x8B<p>"), tok().encode("a<p>"));
  // Whitespace away from the token stays.
  EXPECT_EQ(tok().tokenize("a b <p>"), (Strings{"\xE2\x96\x81" "a", "\xE2\x96\x81" "b", "<p>"}));
}

TEST_F(LlamaTokenizerTest, SpecialTokensSplitButStripNothing) {
  EXPECT_EQ(tok().tokenize("a</s>"), (Strings{"\xE2\x96\x81" "a", "</s>"}));
  EXPECT_EQ(tok().tokenize("a </s>"), (Strings{"\xE2\x96\x81" "a", "\xE2\x96\x81", "</s>"}));
  EXPECT_EQ(tok().tokenize("x<s>y"), (Strings{"\xE2\x96\x81" "x", "<s>", "\xE2\x96\x81" "y"}));
  EXPECT_EQ(tok().encode("x<s>").back(), 1);
  EXPECT_EQ(tok().encode("<unk>"), (Ids{1, 0}));
}

TEST_F(LlamaTokenizerTest, FullyStrippedPiecesAreDropped) {
  EXPECT_EQ(tok().encode("<p> </p>"), (Ids{1, 32005, 32006}));
  EXPECT_EQ(tok().encode(" \n <p>\n\n"), (Ids{1, 32005}));
  EXPECT_EQ(tok().encode("<p><p>"), (Ids{1, 32005, 32005}));
}

TEST_F(LlamaTokenizerTest, ImagePlaceholderSplitsChunks) {
  const Ids a = tok().encode("The ");
  const Ids b = tok().encode(" end");
  Ids expected{1};
  expected.insert(expected.end(), a.begin() + 1, a.end());
  expected.push_back(-200);
  expected.insert(expected.end(), b.begin() + 1, b.end());
  EXPECT_EQ(tok().encode_with_image("The <image> end"), expected);
  EXPECT_EQ(tok().encode_with_image("<image>"), (Ids{1, -200}));
  EXPECT_EQ(tok().encode_with_image("<image><image>"), (Ids{1, -200, -200}));
  EXPECT_EQ(tok().encode_with_image("<im_start><image><im_end>"), (Ids{1, 32000, -200, 32001}));
  EXPECT_EQ(tok().encode_with_image("no image"), tok().encode("no image"));
}

TEST_F(LlamaTokenizerTest, DecodeJoinsAddedTokensWithSpaces) {
  EXPECT_EQ(tok().decode({32005, 319, 767, 32006, 32004}), "<p> A man </p> [SEG]");
  EXPECT_EQ(tok().decode({1, 319, 767}), "<s>A man");
  EXPECT_EQ(tok().decode({319, 13, 767}), "A\n man");
  EXPECT_EQ(tok().decode({}), "");
}

TEST_F(LlamaTokenizerTest, DecodeSpacesBeforeSpecialTokensInsideARun) {
  EXPECT_EQ(tok().decode({29889, 2}), " .</s>");      // " " because "." came first
  EXPECT_EQ(tok().decode({2}), "</s>");               // first piece: no space
  EXPECT_EQ(tok().decode({319, 2, 2}), " A</s></s>");  // previous piece special: no space
  EXPECT_EQ(tok().decode({32004, 29889, 2}), "[SEG]  .</s>");
  EXPECT_EQ(tok().decode({32002, 1577}), "<bbox> ?");
}

// Values checked against libsentencepiece 0.1.97 on the same model (the reference's SentencePiece build).
TEST_F(LlamaTokenizerTest, UnknownCharactersFallBackToBytes) {
  EXPECT_EQ(tok().encode("\xF0\x9F\x98\x80"), (Ids{1, 29871, 243, 162, 155, 131}));  // U+1F600: "▁" + 4 bytes
  EXPECT_EQ(tok().encode("x\x7F"), (Ids{1, 921, 130}));
  EXPECT_EQ(tok().encode("\xC3\xA9"), (Ids{1, 904}));                                 // "é" is a piece
  EXPECT_EQ(tok().encode("\xE2\x96\x81x"), (Ids{1, 29871, 921}));                    // a literal "▁" in the text
}

TEST_F(LlamaTokenizerTest, DecodeAssemblesBytePiecesAndDropsOnlyOneDummyPrefix) {
  EXPECT_EQ(tok().decode({198, 172}), "\xC3\xA9");                 // <0xC3><0xA9> → "é"
  EXPECT_EQ(tok().decode({198}), "\xEF\xBF\xBD");                 // a lone lead byte → U+FFFD
  EXPECT_EQ(tok().decode({198, 319}), "\xEF\xBF\xBD A");           // bytes first: "▁A" keeps its space
  EXPECT_EQ(tok().decode({29871, 319}), " A");                     // only the first "▁" is eaten
  EXPECT_EQ(tok().decode({29871, 29871, 319}), "  A");
  EXPECT_EQ(tok().decode({13, 319}), "\n A");
}

TEST_F(LlamaTokenizerTest, DecodeRejectsIdsOutsideTheVocabulary) {
  EXPECT_THROW(tok().decode({1, -200, 2}), glamm::InputError);
  EXPECT_THROW(tok().decode({32007}), glamm::InputError);
  EXPECT_THROW(tok().id_to_token(-1), glamm::InputError);
  EXPECT_EQ(glamm::model::without_image_tokens({1, -200, 2, -200}), (Ids{1, 2}));
}

TEST_F(LlamaTokenizerTest, RejectsInvalidUtf8Text) {
  EXPECT_THROW(tok().encode("a\xFF"), glamm::InputError);
  EXPECT_THROW(tok().encode("\xC0\x80"), glamm::InputError);  // overlong NUL
}

TEST_F(LlamaTokenizerTest, LongestMatchWins) {
  TempDir d;
  link_model(d, model_);
  d.write("added_tokens.json", R"({"<a>": 32000, "<a>b": 32001})");
  const auto t = LlamaTokenizer::load(d.path);
  EXPECT_EQ(t.encode("<a>b"), (Ids{1, 32001}));
  EXPECT_EQ(t.encode("<a>c"), (Ids{1, 32000, t.encode("c")[1]}));
}

TEST_F(LlamaTokenizerTest, LoadErrorsNameTheFile) {
  {
    TempDir d;
    d.write("added_tokens.json", kGlammAdded);
    expect_load_error(d.path, "tokenizer.model");
  }
  {
    TempDir d;
    d.write("tokenizer.model", "not a sentencepiece model");
    d.write("added_tokens.json", kGlammAdded);
    expect_load_error(d.path, "tokenizer.model");
  }
  {
    TempDir d;
    d.write("tokenizer.model", read_bytes(model_).substr(0, 5000));  // truncated
    d.write("added_tokens.json", kGlammAdded);
    expect_load_error(d.path, "tokenizer.model");
  }
  {
    TempDir d;
    link_model(d, model_);
    expect_load_error(d.path, "added_tokens.json");
  }
  for (const char* bad : {R"({"<a>": 32001})", R"({"<a>": "32000"})", R"({"<s>": 32000})",
                          "{\"\xE2\x96\x81the\": 32000}", R"({"<a>": 32000, "<b>": 32000})", R"(["<a>"])",
                          R"({"<a>": 32000,)"}) {
    SCOPED_TRACE(bad);
    TempDir d;
    link_model(d, model_);
    d.write("added_tokens.json", bad);
    expect_load_error(d.path, "added_tokens.json");
  }
  {
    TempDir d;
    link_model(d, model_);
    d.write("added_tokens.json", kGlammAdded);
    d.write("special_tokens_map.json", R"({"bos_token": "<bos>"})");
    expect_load_error(d.path, "special_tokens_map.json");
  }
}

TEST_F(LlamaTokenizerTest, SpecialTokensMapObjectsAreRead) {
  TempDir d;
  link_model(d, model_);
  d.write("added_tokens.json", kGlammAdded);
  d.write("special_tokens_map.json",
          R"({"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>", "pad_token": "<unk>",
              "unk_token": {"content": "<unk>"}})");
  const auto t = LlamaTokenizer::load(d.path);
  EXPECT_EQ(t.bos_id(), 1);
  EXPECT_EQ(t.eos_id(), 2);
  EXPECT_EQ(t.encode("[SEG]"), (Ids{1, 32004}));
}
