// BERT text similarity against the golden reference (shared golden/model): WordPiece ids exact, last hidden
// states / mean-pooled embeddings within 1e-5 relative and cosine similarities within 1e-5, from both
// model.safetensors and pytorch_model.bin of tiny-bert-uncased; the real bert-base-uncased vocabulary.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/io.h"
#include "common/safetensors.h"
#include "model/bert.h"
#include "model/bert_tokenizer.h"
#include "model/similarity_plugin.h"
#include "model/text_similarity.h"
#include "support/shared_data.h"

namespace fs = std::filesystem;
using glamm::model::BertConfig;
using glamm::model::BertModel;
using glamm::model::BertSimilarity;
using glamm::model::BertTokenizer;

namespace {

}  // namespace
constexpr double kRelTol = 1e-5;  // README: BERT embeddings within 1e-5 relative, cosine within 1e-5
constexpr double kCosTol = 1e-5;
namespace {

std::vector<float> floats(const glamm::safetensors::TensorView& t) {
  EXPECT_EQ(t.dtype, "F32") << t.name;
  std::vector<float> v(t.nbytes / 4);
  std::memcpy(v.data(), t.data, t.nbytes);
  return v;
}

std::vector<int64_t> longs(const glamm::safetensors::TensorView& t) {
  EXPECT_EQ(t.dtype, "I64") << t.name;
  std::vector<int64_t> v(t.nbytes / 8);
  std::memcpy(v.data(), t.data, t.nbytes);
  return v;
}

/// max |got − ref| and max |ref|.
std::pair<double, double> deltas(const std::vector<float>& got, const std::vector<float>& ref) {
  EXPECT_EQ(got.size(), ref.size());
  double d = 0, m = 0;
  for (std::size_t k = 0; k < std::min(got.size(), ref.size()); ++k) {
    d = std::max(d, std::abs(static_cast<double>(got[k]) - ref[k]));
    m = std::max(m, std::abs(static_cast<double>(ref[k])));
  }
  return {d, m};
}

std::string text_key(std::size_t i) {
  char b[32];
  std::snprintf(b, sizeof b, "text%03zu", i);
  return b;
}

class BertGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    GLAMM_REQUIRE(glamm::model::torch_available(), "built without libtorch");
  }
};

void check_embeddings(const fs::path& weights, const fs::path& model_dir, const fs::path& golden_dir) {
  const BertConfig cfg = BertConfig::from_json_file(model_dir / "config.json");
  const BertModel model = BertModel::load(cfg, weights);
  const BertTokenizer tok = BertTokenizer::load(model_dir / "vocab.txt");
  const nlohmann::json g = glamm::io::load_json(golden_dir / "bert_golden.json");
  const auto emb = glamm::safetensors::File::open(golden_dir / "bert_embeddings.safetensors");
  const std::vector<std::string> texts = g["texts"].get<std::vector<std::string>>();
  ASSERT_EQ(texts.size(), 81u);

  double worst_rel = 0;
  std::vector<std::vector<int64_t>> all_ids;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::vector<int64_t> ids = tok.encode(texts[i]);
    ASSERT_EQ(ids, longs(emb.at(text_key(i) + ".input_ids"))) << "text " << i << ": " << texts[i];
    const auto [d, m] = deltas(model.last_hidden_state(ids), floats(emb.at(text_key(i) + ".last_hidden_state")));
    EXPECT_LE(d, kRelTol * m) << weights << " text " << i << " '" << texts[i] << "'";
    worst_rel = std::max(worst_rel, d / m);
    all_ids.push_back(ids);
  }
  // Batched, padded mean pooling against mean_pooled [81, 32].
  const std::vector<std::vector<float>> pooled = model.mean_pooled(all_ids);
  const std::vector<float> ref = floats(emb.at("mean_pooled"));
  const std::size_t H = static_cast<std::size_t>(cfg.hidden_size);
  double worst_pool = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::vector<float> r(ref.begin() + static_cast<std::ptrdiff_t>(i * H), ref.begin() + static_cast<std::ptrdiff_t>((i + 1) * H));
    const auto [d, m] = deltas(pooled[i], r);
    EXPECT_LE(d, kRelTol * m) << weights << " mean_pooled " << i << " '" << texts[i] << "'";
    worst_pool = std::max(worst_pool, d / m);
  }
  std::printf("[bert golden] %s: max |Δ|/max|ref| last_hidden_state %.3g, batched mean_pooled %.3g\n",
              weights.filename().c_str(), worst_rel, worst_pool);
}

TEST_F(BertGolden, TokenizerIdsMatchEveryGoldenCase) {
  GLAMM_REQUIRE_SHARED(golden, "golden/model/golden/bert_golden.json");
  GLAMM_REQUIRE_SHARED(vocab, "golden/model/tiny-bert-uncased/vocab.txt");
  const BertTokenizer tok = BertTokenizer::load(vocab);
  const nlohmann::json g = glamm::io::load_json(golden);
  ASSERT_EQ(g["tokenizer_cases"].size(), 50u);
  for (const auto& c : g["tokenizer_cases"]) {
    const std::string text = c["text"].get<std::string>();
    EXPECT_EQ(tok.encode(text), c["input_ids"].get<std::vector<int64_t>>()) << "text: " << text;
    std::vector<std::string> tokens = {"[CLS]"};
    for (auto& p : tok.tokenize(text)) tokens.push_back(p);
    tokens.push_back("[SEP]");
    EXPECT_EQ(tokens, c["tokens"].get<std::vector<std::string>>()) << "text: " << text;
  }
}

TEST_F(BertGolden, EmbeddingsFromSafetensorsMatch) {
  GLAMM_REQUIRE_SHARED(dir, "golden/model/tiny-bert-uncased");
  GLAMM_REQUIRE_SHARED(golden, "golden/model/golden");
  check_embeddings(dir / "model.safetensors", dir, golden);
}

TEST_F(BertGolden, EmbeddingsFromPytorchModelBinMatch) {
  GLAMM_REQUIRE_SHARED(dir, "golden/model/tiny-bert-uncased");
  GLAMM_REQUIRE_SHARED(golden, "golden/model/golden");
  check_embeddings(dir / "pytorch_model.bin", dir, golden);
}

/// A temporary folder with links to the tiny model's files (optionally without one of them).
fs::path linked_model_dir(const fs::path& src, const std::string& name, const std::vector<std::string>& files) {
  const fs::path d = fs::temp_directory_path() / ("glamm_bert_golden_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  for (const std::string& f : files) fs::create_symlink(fs::absolute(src / f), d / f);
  return d;
}

void check_pairs(BertSimilarity& sim, const nlohmann::json& g, const char* label) {
  std::vector<std::string> all = g["texts"].get<std::vector<std::string>>();
  sim.prepare(all);
  double worst = 0;
  ASSERT_EQ(g["pairs"].size(), 20u);
  for (const auto& p : g["pairs"]) {
    const double c = sim.similarity(p["a"].get<std::string>(), p["b"].get<std::string>());
    const double ref = p["cosine"].get<double>();
    EXPECT_NEAR(c, ref, kCosTol) << label << ": '" << p["a"].get<std::string>() << "' vs '" << p["b"].get<std::string>() << "'";
    EXPECT_EQ(c >= 0.5, p["above_0.5"].get<bool>()) << p["a"] << " / " << p["b"];
    worst = std::max(worst, std::abs(c - ref));
  }
  std::printf("[bert golden] %s: max |Δ cosine| %.3g over 20 pairs\n", label, worst);
}

TEST_F(BertGolden, PairCosinesMatchFromBothCheckpoints) {
  GLAMM_REQUIRE_SHARED(dir, "golden/model/tiny-bert-uncased");
  GLAMM_REQUIRE_SHARED(golden, "golden/model/golden/bert_golden.json");
  const nlohmann::json g = glamm::io::load_json(golden);
  auto st = BertSimilarity::load(dir.string());
  EXPECT_EQ(st->weights_path().filename(), "model.safetensors");
  EXPECT_EQ(st->signature(), "bert:" + dir.string() + " (sha256 " + glamm::io::sha256_file(dir / "model.safetensors") + ")");
  check_pairs(*st, g, "model.safetensors");

  const fs::path bin_dir = linked_model_dir(dir, "bin", {"config.json", "vocab.txt", "tokenizer_config.json", "pytorch_model.bin"});
  auto bin = BertSimilarity::load(bin_dir.string());
  EXPECT_EQ(bin->weights_path().filename(), "pytorch_model.bin");
  check_pairs(*bin, g, "pytorch_model.bin");
  // Unprepared phrases are embedded on demand, batch of 1.
  EXPECT_NEAR(bin->similarity("a man", "a person"), 0.8279743439025765, kCosTol);
  fs::remove_all(bin_dir);
}

TEST_F(BertGolden, MissingWeightsSayHowToGetBertBase) {
  GLAMM_REQUIRE_SHARED(dir, "golden/model/tiny-bert-uncased");
  const fs::path d = linked_model_dir(dir, "noweights", {"config.json", "vocab.txt"});
  try {
    BertSimilarity::load(d.string());
    FAIL() << "expected an InputError";
  } catch (const glamm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bert-base-uncased"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("model.safetensors"), std::string::npos) << e.what();
  }
  fs::remove_all(d);
}

TEST_F(BertGolden, TruncatedSafetensorsCopyIsRejected) {
  GLAMM_REQUIRE_SHARED(dir, "golden/model/tiny-bert-uncased");
  const fs::path d = linked_model_dir(dir, "trunc", {"config.json", "vocab.txt"});
  const std::string bytes = glamm::io::read_file(dir / "model.safetensors");
  glamm::io::write_file_atomic(d / "model.safetensors", bytes.substr(0, bytes.size() - 1000));
  try {
    BertSimilarity::load(d.string());
    FAIL() << "expected an InputError";
  } catch (const glamm::InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("model.safetensors"), std::string::npos) << m;
    EXPECT_NE(m.find("past the end"), std::string::npos) << m;
  }
  fs::remove_all(d);
}

TEST_F(BertGolden, TruncatedPytorchModelBinIsRejected) {
  GLAMM_REQUIRE_SHARED(dir, "golden/model/tiny-bert-uncased");
  const fs::path d = linked_model_dir(dir, "truncbin", {"config.json", "vocab.txt"});
  const std::string bytes = glamm::io::read_file(dir / "pytorch_model.bin");
  glamm::io::write_file_atomic(d / "pytorch_model.bin", bytes.substr(0, bytes.size() / 2));
  try {
    BertSimilarity::load(d.string());
    FAIL() << "expected an InputError";
  } catch (const glamm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("pytorch_model.bin"), std::string::npos) << e.what();
  }
  fs::remove_all(d);
}

}  // namespace

// The real bert-base-uncased vocabulary (shared data/tokenizers). Expected pieces reasoned from WordPiece:
// whole words present in the vocabulary stay whole; unknown words split greedily from the left.
TEST(BertRealVocab, LoadsAndTokenizesKnownPhrases) {
  GLAMM_REQUIRE_SHARED(vocab, "data/tokenizers/bert-base-uncased-vocab.txt");
  const BertTokenizer tok = BertTokenizer::load(vocab);
  EXPECT_EQ(tok.size(), 30522u);
  EXPECT_EQ(tok.id("[PAD]"), 0);
  EXPECT_EQ(tok.unk_id(), 100);
  EXPECT_EQ(tok.cls_id(), 101);
  EXPECT_EQ(tok.sep_id(), 102);
  EXPECT_EQ(tok.id("[MASK]"), 103);
  EXPECT_EQ(tok.token(1012), ".");
  // "the" is id 1996 and "man" 2158 in bert-base-uncased; "a" is 1037.
  EXPECT_EQ(tok.encode("The man"), (std::vector<int64_t>{101, 1996, 2158, 102}));
  EXPECT_EQ(tok.tokenize("A surfboard!"), (std::vector<std::string>{"a", "surf", "##board", "!"}));
  EXPECT_EQ(tok.tokenize("Zürich's CAFÉ"), (std::vector<std::string>{"zurich", "'", "s", "cafe"}));
  EXPECT_EQ(tok.tokenize("\xe4\xb8\x80\xe4\xba\x8c"), (std::vector<std::string>{"\xe4\xb8\x80", "\xe4\xba\x8c"}));  // 一二
  for (const std::string& p : tok.tokenize("a man riding a wave on a surfboard"))
    EXPECT_NE(tok.id(p), tok.unk_id()) << p;
}

// glamm-eval's lazy path: the plugin library next to the glamm-eval binary gives the same cosines.
TEST(BertPlugin, LoadsTinyBertAndMatchesGoldenPairs) {
  GLAMM_REQUIRE(glamm::model::torch_available(), "built without libtorch");
  GLAMM_REQUIRE_SHARED(dir, "golden/model/tiny-bert-uncased");
  GLAMM_REQUIRE_SHARED(golden, "golden/model/golden/bert_golden.json");
  const fs::path plugin = fs::path(GLAMM_EVAL_BINARY).parent_path() / glamm::model::kBertPluginFile;
  GLAMM_REQUIRE(fs::exists(plugin), "plugin not built: " << plugin << " (build target glamm_bert)");
  ::setenv("GLAMM_BERT_PLUGIN", plugin.c_str(), 1);
  auto sim = glamm::model::load_bert_plugin(dir.string());
  ::unsetenv("GLAMM_BERT_PLUGIN");
  const nlohmann::json g = glamm::io::load_json(golden);
  sim->prepare(g["texts"].get<std::vector<std::string>>());
  for (const auto& p : g["pairs"])
    EXPECT_NEAR(sim->similarity(p["a"].get<std::string>(), p["b"].get<std::string>()), p["cosine"].get<double>(), kCosTol);
  EXPECT_EQ(sim->signature().rfind("bert:" + dir.string() + " (sha256 ", 0), 0u) << sim->signature();
  // A bad folder is reported through the plugin as an InputError.
  ::setenv("GLAMM_BERT_PLUGIN", plugin.c_str(), 1);
  EXPECT_THROW(glamm::model::load_bert_plugin((dir / "absent").string()), glamm::InputError);
  ::setenv("GLAMM_BERT_PLUGIN", (dir / "absent.so").c_str(), 1);
  EXPECT_THROW(glamm::model::load_bert_plugin(dir.string()), glamm::InputError);
  ::unsetenv("GLAMM_BERT_PLUGIN");
}
