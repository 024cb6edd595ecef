// BertModel on small random checkpoints written by the tests: name rules (bert. prefix, gamma/beta, ignored
// pooler/cls), missing / unexpected keys and shape mismatches, dtype conversion, batched = batch-of-1, a forward
// pass checked by hand, input and config errors, and sklearn-style float32 cosine similarity.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/io.h"
#include "common/safetensors.h"
#include "model/bert.h"
#include "model/text_similarity.h"
#include "support/shared_data.h"

namespace fs = std::filesystem;
using glamm::model::BertConfig;
using glamm::model::BertModel;
using glamm::model::cosine_similarity_f32;

namespace {

BertConfig tiny() {
  BertConfig c;
  c.vocab_size = 12;
  c.hidden_size = 8;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 16;
  c.max_position_embeddings = 10;
  c.type_vocab_size = 2;
  return c;
}

/// Parameter name → (shape, values) for `c`, random normal(0, 0.5) (LayerNorm weights around 1).
struct Weights {
  std::map<std::string, std::pair<std::vector<int64_t>, std::vector<float>>> t;
};

Weights random_weights(const BertConfig& c, unsigned seed, bool zero_layers = false) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 0.5f);
  Weights w;
  auto add = [&](const std::string& n, std::vector<int64_t> shape) {
    int64_t k = 1;
    for (int64_t d : shape) k *= d;
    std::vector<float> v(static_cast<std::size_t>(k));
    const bool ln = n.find("LayerNorm") != std::string::npos;
    const bool in_layer = n.rfind("encoder.", 0) == 0;
    for (float& x : v) {
      x = nd(rng);
      if (ln && n.find("weight") != std::string::npos) x = 1.0f + 0.1f * x;
      if (zero_layers && in_layer && !ln) x = 0.0f;
      if (zero_layers && ln) x = n.find("weight") != std::string::npos ? 1.0f : 0.0f;
    }
    w.t[n] = {shape, v};
  };
  const int64_t H = c.hidden_size, I = c.intermediate_size;
  add("embeddings.word_embeddings.weight", {c.vocab_size, H});
  add("embeddings.position_embeddings.weight", {c.max_position_embeddings, H});
  add("embeddings.token_type_embeddings.weight", {c.type_vocab_size, H});
  add("embeddings.LayerNorm.weight", {H});
  add("embeddings.LayerNorm.bias", {H});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    for (const char* q : {"query", "key", "value"}) {
      add(p + "attention.self." + q + ".weight", {H, H});
      add(p + "attention.self." + q + ".bias", {H});
    }
    add(p + "attention.output.dense.weight", {H, H});
    add(p + "attention.output.dense.bias", {H});
    add(p + "attention.output.LayerNorm.weight", {H});
    add(p + "attention.output.LayerNorm.bias", {H});
    add(p + "intermediate.dense.weight", {I, H});
    add(p + "intermediate.dense.bias", {I});
    add(p + "output.dense.weight", {H, I});
    add(p + "output.dense.bias", {H});
    add(p + "output.LayerNorm.weight", {H});
    add(p + "output.LayerNorm.bias", {H});
  }
  return w;
}

/// bf16 bytes (round to nearest even) of floats, and the floats they represent.
std::string to_bf16(const std::vector<float>& v, std::vector<float>* rounded) {
  std::string out;
  for (float x : v) {
    uint32_t u;
    std::memcpy(&u, &x, 4);
    u += 0x7fff + ((u >> 16) & 1);
    const uint16_t h = static_cast<uint16_t>(u >> 16);
    out.push_back(static_cast<char>(h & 0xff));
    out.push_back(static_cast<char>(h >> 8));
    const uint32_t back = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &back, 4);
    rounded->push_back(f);
  }
  return out;
}

class BertModelTest : public ::testing::Test {
 protected:
  fs::path dir;
  void SetUp() override {
    GLAMM_REQUIRE(glamm::model::torch_available(), "built without libtorch");
    dir = fs::temp_directory_path() / ("glamm_bert_model_test_" + std::to_string(::getpid()));
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  /// Write `w` with names mapped by `rename` (empty result = leave out) plus `extra` tensors.
  fs::path write(const std::string& file, const Weights& w, const std::function<std::string(const std::string&)>& rename,
                 const std::vector<std::string>& extra = {}) {
    std::vector<glamm::safetensors::TensorToWrite> ts;
    static const float zeros[64] = {};
    for (const auto& [n, sv] : w.t) {
      const std::string name = rename(n);
      if (name.empty()) continue;
      ts.push_back({name, "F32", sv.first, {reinterpret_cast<const char*>(sv.second.data()), sv.second.size() * 4}});
    }
    for (const std::string& e : extra) ts.push_back({e, "F32", {4}, {reinterpret_cast<const char*>(zeros), 16}});
    const fs::path p = dir / file;
    glamm::safetensors::write_file(p, ts);
    return p;
  }
  std::string load_error(const fs::path& p, const BertConfig& c = tiny()) {
    try {
      BertModel::load(c, p);
    } catch (const glamm::InputError& e) {
      EXPECT_EQ(e.file(), p.string());
      return e.what();
    }
    ADD_FAILURE() << "loaded " << p;
    return "";
  }
};

std::string same(const std::string& n) { return n; }

std::string old_style(const std::string& n) {
  std::string s = "bert." + n;
  if (s.find("LayerNorm.weight") != std::string::npos) s.replace(s.size() - 6, 6, "gamma");
  else if (s.find("LayerNorm.bias") != std::string::npos) s.replace(s.size() - 4, 4, "beta");
  return s;
}

TEST_F(BertModelTest, OldStyleNamesAndIgnoredHeadsLoadTheSameModel) {
  const Weights w = random_weights(tiny(), 1);
  const BertModel a = BertModel::load(tiny(), write("plain.safetensors", w, same));
  const BertModel b = BertModel::load(
      tiny(), write("old.safetensors", w, old_style,
                    {"bert.pooler.dense.bias", "cls.predictions.bias", "cls.seq_relationship.bias", "bert.embeddings.position_ids"}));
  const std::vector<int64_t> ids = {2, 5, 7, 3};
  EXPECT_EQ(a.last_hidden_state(ids), b.last_hidden_state(ids));
}

TEST_F(BertModelTest, MissingUnexpectedAndMisshapenKeysAreAllReported) {
  const Weights w = random_weights(tiny(), 2);
  std::string m = load_error(write("missing.safetensors", w, [](const std::string& n) {
    return n == "encoder.layer.1.output.dense.bias" ? std::string() : n;
  }));
  EXPECT_NE(m.find("missing keys (1): encoder.layer.1.output.dense.bias"), std::string::npos) << m;

  m = load_error(write("extra.safetensors", w, same, {"encoder.layer.2.output.dense.bias"}));
  EXPECT_NE(m.find("unexpected keys (1): encoder.layer.2.output.dense.bias"), std::string::npos) << m;

  // A checkpoint of a bigger model: every matrix has the wrong shape for the tiny config.
  BertConfig bigger = tiny();
  bigger.intermediate_size = 32;
  m = load_error(write("shape.safetensors", random_weights(bigger, 3), same));
  EXPECT_NE(m.find("'encoder.layer.0.intermediate.dense.weight' is [32, 8], expected [16, 8]"), std::string::npos) << m;

  // gamma and weight for the same parameter.
  m = load_error(write("twice.safetensors", w, same, {"embeddings.LayerNorm.gamma"}));
  EXPECT_NE(m.find("given twice"), std::string::npos) << m;
}

TEST_F(BertModelTest, Bf16WeightsAreWidenedToFloat32) {
  const Weights w = random_weights(tiny(), 4);
  Weights rounded;
  std::vector<std::string> keep;
  std::vector<glamm::safetensors::TensorToWrite> ts;
  keep.reserve(w.t.size());
  for (const auto& [n, sv] : w.t) {
    std::vector<float> r;
    keep.push_back(to_bf16(sv.second, &r));
    rounded.t[n] = {sv.first, r};
    ts.push_back({n, "BF16", sv.first, keep.back()});
  }
  glamm::safetensors::write_file(dir / "bf16.safetensors", ts);
  const BertModel a = BertModel::load(tiny(), dir / "bf16.safetensors");
  const BertModel b = BertModel::load(tiny(), write("rounded.safetensors", rounded, same));
  EXPECT_EQ(a.last_hidden_state({1, 2, 3}), b.last_hidden_state({1, 2, 3}));
}

TEST_F(BertModelTest, WithZeroLayersTheOutputIsTheNormalisedEmbeddingSum) {
  // Zero q/k/v/dense weights and biases, LayerNorm 1/0: every layer returns its input re-normalised, so the
  // last hidden state is LayerNorm(word[id] + token_type[0] + position[t]) (normalising twice is idempotent
  // up to eps 1e-12).
  const BertConfig c = tiny();
  const Weights w = random_weights(c, 5, /*zero_layers=*/true);
  const BertModel m = BertModel::load(c, write("zero.safetensors", w, same));
  const std::vector<int64_t> ids = {4, 9, 0};
  const std::vector<float> h = m.last_hidden_state(ids);
  ASSERT_EQ(h.size(), 3u * 8u);
  const auto& word = w.t.at("embeddings.word_embeddings.weight").second;
  const auto& pos = w.t.at("embeddings.position_embeddings.weight").second;
  const auto& type = w.t.at("embeddings.token_type_embeddings.weight").second;
  for (std::size_t t = 0; t < ids.size(); ++t) {
    double e[8], mean = 0, var = 0;
    for (int k = 0; k < 8; ++k) {
      e[k] = double(word[ids[t] * 8 + k]) + type[k] + pos[t * 8 + k];
      mean += e[k] / 8;
    }
    for (int k = 0; k < 8; ++k) var += (e[k] - mean) * (e[k] - mean) / 8;
    for (int k = 0; k < 8; ++k) EXPECT_NEAR(h[t * 8 + k], (e[k] - mean) / std::sqrt(var + 1e-12), 2e-5) << t << "," << k;
  }
}

TEST_F(BertModelTest, BatchedPaddedMeansEqualBatchOfOne) {
  const BertModel m = BertModel::load(tiny(), write("w.safetensors", random_weights(tiny(), 6), same));
  const std::vector<std::vector<int64_t>> batch = {{2, 3}, {2, 5, 6, 7, 8, 9, 10, 3}, {2, 11, 3}, {2, 1, 1, 1, 3}};
  const auto pooled = m.mean_pooled(batch);
  ASSERT_EQ(pooled.size(), batch.size());
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const std::vector<float> h = m.last_hidden_state(batch[b]);
    for (int k = 0; k < 8; ++k) {
      double s = 0;
      for (std::size_t t = 0; t < batch[b].size(); ++t) s += h[t * 8 + k];
      EXPECT_NEAR(pooled[b][k], s / batch[b].size(), 1e-5) << "sequence " << b;
    }
  }
  EXPECT_TRUE(m.mean_pooled({}).empty());
}

TEST_F(BertModelTest, BadInputIdsAreRejected) {
  const BertModel m = BertModel::random(tiny(), 7);
  EXPECT_THROW(m.last_hidden_state({}), std::invalid_argument);
  EXPECT_THROW(m.last_hidden_state({2, 12, 3}), std::invalid_argument);      // vocab 12
  EXPECT_THROW(m.last_hidden_state({2, -1, 3}), std::invalid_argument);
  EXPECT_THROW(m.last_hidden_state(std::vector<int64_t>(11, 1)), std::invalid_argument);  // 10 positions
  EXPECT_EQ(m.last_hidden_state(std::vector<int64_t>(10, 1)).size(), 80u);
}

TEST_F(BertModelTest, ConfigJsonRules) {
  auto cfg = [&](const std::string& text) {
    glamm::io::write_file_atomic(dir / "config.json", text);
    return BertConfig::from_json_file(dir / "config.json");
  };
  const BertConfig c = cfg(R"({"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                               "intermediate_size": 64, "layer_norm_eps": 1e-12, "hidden_act": "gelu"})");
  EXPECT_EQ(c.hidden_size, 32);
  EXPECT_EQ(c.vocab_size, 30522);  // default kept
  EXPECT_EQ(c.layer_norm_eps, 1e-12);
  EXPECT_THROW(cfg(R"({"hidden_size": 30, "num_attention_heads": 4})"), glamm::InputError);
  EXPECT_THROW(cfg(R"({"hidden_act": "relu"})"), glamm::InputError);
  EXPECT_THROW(cfg(R"({"position_embedding_type": "relative_key"})"), glamm::InputError);
  EXPECT_THROW(cfg(R"({"num_hidden_layers": 0})"), glamm::InputError);
  EXPECT_THROW(cfg("[1"), glamm::InputError);
}

}  // namespace

TEST(CosineSimilarityF32, FollowsSklearnNormalizeThenDot) {
  // [1,2,3]·[4,5,6] / (|a||b|) = 32 / sqrt(14 · 77) = 0.974631846…; sklearn's float32 path (normalise each
  // row in float32, then the float32 dot) gives 0.9746317863464355 (numpy 1.24 check), one ulp below the
  // float32 rounding of the exact value.
  EXPECT_EQ(cosine_similarity_f32({1, 2, 3}, {4, 5, 6}), 0.9746317863464355);
  EXPECT_EQ(cosine_similarity_f32({1, 0}, {0, 1}), 0.0);
  EXPECT_NEAR(cosine_similarity_f32({1, 2}, {2, 4}), 1.0, 1e-7);
  EXPECT_NEAR(cosine_similarity_f32({1, 2}, {-1, -2}), -1.0, 1e-7);
  EXPECT_EQ(cosine_similarity_f32({0, 0}, {1, 2}), 0.0);  // zero norm counts as 1
  EXPECT_THROW(cosine_similarity_f32({1}, {1, 2}), std::invalid_argument);
}
