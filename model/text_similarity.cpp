// BERT phrase similarity with an embedding cache. See text_similarity.h. Torch-free: the encoder is BertModel.
#include "model/text_similarity.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "common/error.h"
#include "common/io.h"
#include "model/bert.h"
#include "model/bert_tokenizer.h"

namespace glamm::model {
namespace fs = std::filesystem;

namespace {

constexpr const char* kHowToGet =
    "this needs the Hugging Face model `bert-base-uncased` in one folder: config.json, vocab.txt and "
    "model.safetensors (or pytorch_model.bin), e.g. `huggingface-cli download bert-base-uncased config.json "
    "vocab.txt model.safetensors --local-dir DIR`, then pass --bert DIR (or set GLAMM_BERT=DIR)";

/// Longest padded batch, in tokens (B × Lmax), per forward call.
constexpr std::size_t kTokensPerBatch = 4096;
constexpr std::size_t kMaxBatch = 128;

}  // namespace

double cosine_similarity_f32(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size())
    throw std::invalid_argument("cosine_similarity_f32: vectors of " + std::to_string(a.size()) + " and " +
                                std::to_string(b.size()) + " elements");
  // sklearn normalize(): row_norms = sqrt(einsum('ij,ij->i')) in float32; zero norms → 1; X /= norms.
  auto norm = [](const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += static_cast<double>(x) * x;
    float n = static_cast<float>(std::sqrt(static_cast<double>(static_cast<float>(s))));
    return n == 0.0f ? 1.0f : n;
  };
  const float na = norm(a), nb = norm(b);
  double dot = 0;
  for (std::size_t k = 0; k < a.size(); ++k) dot += static_cast<double>(a[k] / na) * static_cast<double>(b[k] / nb);
  return static_cast<double>(static_cast<float>(dot));
}

struct BertSimilarity::Impl {
  fs::path dir, weights;
  std::string sha256;
  BertTokenizer tokenizer;
  BertModel model;
  std::mutex mu;
  std::map<std::vector<int64_t>, std::vector<float>> by_ids;  // embedding cache, keyed by input ids

  Impl(fs::path d, fs::path w, std::string sha, BertTokenizer t, BertModel m)
      : dir(std::move(d)), weights(std::move(w)), sha256(std::move(sha)), tokenizer(std::move(t)), model(std::move(m)) {}

  /// Embed the given (distinct, uncached) id sequences in length-sorted batches. Caller holds mu.
  void embed(std::vector<std::vector<int64_t>> todo) {
    std::sort(todo.begin(), todo.end(), [](const auto& x, const auto& y) {
      return x.size() != y.size() ? x.size() < y.size() : x < y;
    });
    std::size_t k = 0;
    while (k < todo.size()) {
      std::size_t end = k + 1;
      while (end < todo.size() && end - k < kMaxBatch && (end - k + 1) * todo[end].size() <= kTokensPerBatch) ++end;
      std::vector<std::vector<int64_t>> batch(todo.begin() + static_cast<std::ptrdiff_t>(k),
                                              todo.begin() + static_cast<std::ptrdiff_t>(end));
      std::vector<std::vector<float>> emb = model.mean_pooled(batch);
      for (std::size_t i = 0; i < batch.size(); ++i) by_ids.emplace(std::move(batch[i]), std::move(emb[i]));
      k = end;
    }
  }

  const std::vector<float>& get(const std::string& phrase) {
    std::vector<int64_t> ids = tokenizer.encode(phrase);
    auto it = by_ids.find(ids);
    if (it != by_ids.end()) return it->second;
    embed({ids});
    return by_ids.at(ids);
  }
};

BertSimilarity::BertSimilarity() = default;
BertSimilarity::~BertSimilarity() = default;

std::unique_ptr<BertSimilarity> BertSimilarity::load(const std::string& dir_text) {
  const fs::path dir(dir_text);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError(dir_text, "", std::string("BERT folder not found; ") + kHowToGet);
  for (const char* need : {"config.json", "vocab.txt"})
    if (!fs::is_regular_file(dir / need, ec))
      throw InputError((dir / need).string(), "", std::string("missing; ") + kHowToGet);
  fs::path weights = dir / "model.safetensors";
  if (!fs::is_regular_file(weights, ec)) weights = dir / "pytorch_model.bin";
  if (!fs::is_regular_file(weights, ec))
    throw InputError(dir_text, "", std::string("no model.safetensors or pytorch_model.bin; ") + kHowToGet);
  if (!torch_available())
    throw InputError(dir_text, "", "this glamm-eval was built without libtorch (GLAMM_WITH_TORCH=OFF); install "
                                   "libtorch-dev (scripts/setup.sh) and rebuild to use --bert");
  const fs::path tok_cfg = dir / "tokenizer_config.json";
  if (fs::is_regular_file(tok_cfg, ec)) {
    const nlohmann::json j = io::load_json(tok_cfg);
    if (j.is_object() && j.contains("do_lower_case") && j["do_lower_case"].is_boolean() && !j["do_lower_case"].get<bool>())
      throw InputError(tok_cfg.string(), "do_lower_case", "only uncased BERT tokenizers are supported");
  }
  const BertConfig config = BertConfig::from_json_file(dir / "config.json");
  BertTokenizer tokenizer = BertTokenizer::load(dir / "vocab.txt");
  if (static_cast<int64_t>(tokenizer.size()) > config.vocab_size)
    throw InputError((dir / "vocab.txt").string(), "",
                     std::to_string(tokenizer.size()) + " tokens but config.json has vocab_size " +
                         std::to_string(config.vocab_size));
  BertModel model = BertModel::load(config, weights);
  std::string sha = io::sha256_file(weights);
  std::unique_ptr<BertSimilarity> s(new BertSimilarity());
  s->impl_ = std::make_unique<Impl>(dir, weights, std::move(sha), std::move(tokenizer), std::move(model));
  return s;
}

void BertSimilarity::prepare(const std::vector<std::string>& phrases) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<std::vector<int64_t>> todo;
  std::map<std::vector<int64_t>, bool> queued;
  for (const std::string& p : phrases) {
    std::vector<int64_t> ids = impl_->tokenizer.encode(p);
    if (impl_->by_ids.count(ids) || queued.count(ids)) continue;
    queued[ids] = true;
    todo.push_back(std::move(ids));
  }
  impl_->embed(std::move(todo));
}

double BertSimilarity::similarity(const std::string& a, const std::string& b) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const std::vector<float>& ea = impl_->get(a);
  const std::vector<float>& eb = impl_->get(b);
  return cosine_similarity_f32(ea, eb);
}

std::vector<float> BertSimilarity::embedding(const std::string& phrase) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->get(phrase);
}

std::vector<int64_t> BertSimilarity::input_ids(const std::string& phrase) const { return impl_->tokenizer.encode(phrase); }

std::string BertSimilarity::signature() const { return "bert:" + impl_->dir.string() + " (sha256 " + impl_->sha256 + ")"; }
const fs::path& BertSimilarity::weights_path() const { return impl_->weights; }
const std::string& BertSimilarity::weights_sha256() const { return impl_->sha256; }

}  // namespace glamm::model
