// BERT encoder forward pass in libtorch (ATen ops only) and its weight loading. See bert.h.
#include "model/bert.h"
#include "model/text_similarity.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/TensorOperators.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/gelu.h>
#include <ATen/ops/layer_norm.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/matmul.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/softmax.h>
#include <ATen/ops/zeros.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <algorithm>
#include <limits>
#include <map>
#include <stdexcept>

#include "common/error.h"
#include "common/safetensors.h"
#include "common/torch_zip.h"

namespace glamm::model {
namespace {

std::string shape_text(const std::vector<int64_t>& s) {
  std::string t = "[";
  for (std::size_t k = 0; k < s.size(); ++k) t += (k ? ", " : "") + std::to_string(s[k]);
  return t + "]";
}

/// The parameter names BertModel needs (without the `bert.` prefix, LayerNorm as weight/bias) and their shapes.
std::vector<std::pair<std::string, std::vector<int64_t>>> expected_parameters(const BertConfig& c) {
  const int64_t H = c.hidden_size, I = c.intermediate_size;
  std::vector<std::pair<std::string, std::vector<int64_t>>> p = {
      {"embeddings.word_embeddings.weight", {c.vocab_size, H}},
      {"embeddings.position_embeddings.weight", {c.max_position_embeddings, H}},
      {"embeddings.token_type_embeddings.weight", {c.type_vocab_size, H}},
      {"embeddings.LayerNorm.weight", {H}},
      {"embeddings.LayerNorm.bias", {H}},
  };
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string pre = "encoder.layer." + std::to_string(l) + ".";
    for (const char* qkv : {"query", "key", "value"}) {
      p.push_back({pre + "attention.self." + qkv + ".weight", {H, H}});
      p.push_back({pre + "attention.self." + qkv + ".bias", {H}});
    }
    p.push_back({pre + "attention.output.dense.weight", {H, H}});
    p.push_back({pre + "attention.output.dense.bias", {H}});
    p.push_back({pre + "attention.output.LayerNorm.weight", {H}});
    p.push_back({pre + "attention.output.LayerNorm.bias", {H}});
    p.push_back({pre + "intermediate.dense.weight", {I, H}});
    p.push_back({pre + "intermediate.dense.bias", {I}});
    p.push_back({pre + "output.dense.weight", {H, I}});
    p.push_back({pre + "output.dense.bias", {H}});
    p.push_back({pre + "output.LayerNorm.weight", {H}});
    p.push_back({pre + "output.LayerNorm.bias", {H}});
  }
  return p;
}

/// Checkpoint name → the name BertModel uses: drop a leading "bert.", map LayerNorm gamma/beta to weight/bias.
std::string canonical_name(std::string n) {
  if (n.rfind("bert.", 0) == 0) n.erase(0, 5);
  auto ends = [&](const std::string& s) { return n.size() >= s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0; };
  if (ends(".gamma")) n.replace(n.size() - 6, 6, ".weight");
  else if (ends(".beta")) n.replace(n.size() - 5, 5, ".bias");
  return n;
}

bool ignored_name(const std::string& canon) {
  return canon.rfind("pooler.", 0) == 0 || canon.rfind("cls.", 0) == 0 || canon == "embeddings.position_ids" ||
         canon == "embeddings.token_type_ids";
}

/// A checkpoint tensor before conversion: shape, element type and a way to produce float32 values.
struct Source {
  std::string stored_name;
  std::vector<int64_t> shape;
  c10::ScalarType dtype = c10::ScalarType::Float;
  std::function<std::string()> bytes;  // dense row-major bytes in `dtype`
};

bool scalar_type_of(const std::string& st_dtype, c10::ScalarType* out) {
  if (st_dtype == "F32") *out = c10::ScalarType::Float;
  else if (st_dtype == "F16") *out = c10::ScalarType::Half;
  else if (st_dtype == "BF16") *out = c10::ScalarType::BFloat16;
  else if (st_dtype == "F64") *out = c10::ScalarType::Double;
  else return false;
  return true;
}

bool scalar_type_of(pickle::StorageDtype d, c10::ScalarType* out) {
  switch (d) {
    case pickle::StorageDtype::kFloat32: *out = c10::ScalarType::Float; return true;
    case pickle::StorageDtype::kFloat16: *out = c10::ScalarType::Half; return true;
    case pickle::StorageDtype::kBFloat16: *out = c10::ScalarType::BFloat16; return true;
    case pickle::StorageDtype::kFloat64: *out = c10::ScalarType::Double; return true;
    default: return false;
  }
}

bool is_safetensors(const std::filesystem::path& p) { return p.extension() == ".safetensors"; }

/// Everything the checkpoint holds, keyed by canonical name. Non-float tensors of ignored names are skipped;
/// others are reported as unsupported when they are needed.
std::map<std::string, Source> read_sources(const std::filesystem::path& weights, std::vector<std::string>& problems) {
  std::map<std::string, Source> out;
  auto add = [&](Source s, bool float_ok, const std::string& dtype_text) {
    const std::string canon = canonical_name(s.stored_name);
    if (ignored_name(canon)) return;
    if (!float_ok) {
      problems.push_back("tensor '" + s.stored_name + "' has dtype " + dtype_text + " (need F32, F16, BF16 or F64)");
      return;
    }
    auto [it, fresh] = out.emplace(canon, std::move(s));
    if (!fresh) problems.push_back("parameter '" + canon + "' is given twice (as '" + it->second.stored_name + "' and another name)");
  };
  if (is_safetensors(weights)) {
    auto file = std::make_shared<safetensors::File>(safetensors::File::open(weights));
    for (const safetensors::TensorView& t : file->tensors()) {
      Source s;
      s.stored_name = t.name;
      s.shape = t.shape;
      const bool ok = scalar_type_of(t.dtype, &s.dtype);
      const safetensors::TensorView* tp = &t;
      s.bytes = [file, tp] { return std::string(reinterpret_cast<const char*>(tp->data), tp->nbytes); };
      add(std::move(s), ok, t.dtype);
    }
  } else {
    auto ckpt = std::make_shared<torch_zip::Checkpoint>(torch_zip::Checkpoint::open(weights));
    for (torch_zip::NamedTensor& t : ckpt->state_dict()) {
      Source s;
      s.stored_name = t.name;
      s.shape = t.ref.size;
      const bool ok = scalar_type_of(t.ref.dtype, &s.dtype);
      s.bytes = [ckpt, ref = t.ref, name = t.name] { return ckpt->tensor_bytes(ref, name); };
      add(std::move(s), ok, pickle::dtype_name(t.ref.dtype));
    }
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------------------------------

bool torch_available() { return true; }

struct BertModel::Impl {
  struct Layer {
    at::Tensor wq, bq, wk, bk, wv, bv, wo, bo, ln1_w, ln1_b, wi, bi, wo2, bo2, ln2_w, ln2_b;
  };
  BertConfig config;
  at::Tensor word, position, token_type, ln_w, ln_b;
  std::vector<Layer> layers;

  /// Bind the named parameters (canonical names) to the fields.
  void bind(std::map<std::string, at::Tensor>& p) {
    word = p.at("embeddings.word_embeddings.weight");
    position = p.at("embeddings.position_embeddings.weight");
    token_type = p.at("embeddings.token_type_embeddings.weight");
    ln_w = p.at("embeddings.LayerNorm.weight");
    ln_b = p.at("embeddings.LayerNorm.bias");
    layers.resize(static_cast<std::size_t>(config.num_hidden_layers));
    for (int64_t l = 0; l < config.num_hidden_layers; ++l) {
      const std::string pre = "encoder.layer." + std::to_string(l) + ".";
      Layer& L = layers[static_cast<std::size_t>(l)];
      L.wq = p.at(pre + "attention.self.query.weight");
      L.bq = p.at(pre + "attention.self.query.bias");
      L.wk = p.at(pre + "attention.self.key.weight");
      L.bk = p.at(pre + "attention.self.key.bias");
      L.wv = p.at(pre + "attention.self.value.weight");
      L.bv = p.at(pre + "attention.self.value.bias");
      L.wo = p.at(pre + "attention.output.dense.weight");
      L.bo = p.at(pre + "attention.output.dense.bias");
      L.ln1_w = p.at(pre + "attention.output.LayerNorm.weight");
      L.ln1_b = p.at(pre + "attention.output.LayerNorm.bias");
      L.wi = p.at(pre + "intermediate.dense.weight");
      L.bi = p.at(pre + "intermediate.dense.bias");
      L.wo2 = p.at(pre + "output.dense.weight");
      L.bo2 = p.at(pre + "output.dense.bias");
      L.ln2_w = p.at(pre + "output.LayerNorm.weight");
      L.ln2_b = p.at(pre + "output.LayerNorm.bias");
    }
  }

  void check_ids(const std::vector<int64_t>& ids) const {
    if (ids.empty()) throw std::invalid_argument("BERT input is empty (needs at least [CLS] [SEP])");
    if (static_cast<int64_t>(ids.size()) > config.max_position_embeddings)
      throw std::invalid_argument("BERT input has " + std::to_string(ids.size()) + " ids, more than the " +
                                  std::to_string(config.max_position_embeddings) + " positions");
    for (int64_t id : ids)
      if (id < 0 || id >= config.vocab_size)
        throw std::invalid_argument("token id " + std::to_string(id) + " outside the vocabulary [0, " +
                                    std::to_string(config.vocab_size) + ")");
  }

  /// last_hidden_state [B, L, H] of padded ids [B, L] (lengths[b] valid positions each).
  at::Tensor forward(const at::Tensor& ids, const std::vector<int64_t>& lengths) const {
    const int64_t B = ids.size(0), L = ids.size(1), H = config.hidden_size;
    const int64_t nh = config.num_attention_heads, hd = H / nh;
    const double eps = config.layer_norm_eps;
    const bool tanh_gelu = config.hidden_act != "gelu";
    // Embeddings: (word + token_type[0]) + position, then LayerNorm (BertEmbeddings.forward order).
    at::Tensor x = word.index_select(0, ids.reshape({-1})).view({B, L, H});
    x = x + token_type[0];
    x += position.narrow(0, 0, L);
    x = at::layer_norm(x, {H}, ln_w, ln_b, eps);
    // Additive key mask for padded positions (HF get_extended_attention_mask: (1 - mask) * finfo.min).
    at::Tensor mask;
    bool padded = false;
    for (int64_t n : lengths) padded = padded || n != L;
    if (padded) {
      mask = at::zeros({B, 1, 1, L}, at::kFloat);
      auto acc = mask.accessor<float, 4>();
      for (int64_t b = 0; b < B; ++b)
        for (int64_t t = lengths[static_cast<std::size_t>(b)]; t < L; ++t) acc[b][0][0][t] = std::numeric_limits<float>::lowest();
    }
    const double scale = std::sqrt(static_cast<double>(hd));
    for (const Layer& l : layers) {
      auto heads = [&](const at::Tensor& t) { return t.view({B, L, nh, hd}).permute({0, 2, 1, 3}); };
      const at::Tensor q = heads(at::linear(x, l.wq, l.bq));
      const at::Tensor k = heads(at::linear(x, l.wk, l.bk));
      const at::Tensor v = heads(at::linear(x, l.wv, l.bv));
      at::Tensor scores = at::matmul(q, k.transpose(-1, -2)) / scale;
      if (padded) scores = scores + mask;
      const at::Tensor probs = at::softmax(scores, -1);
      const at::Tensor ctx = at::matmul(probs, v).permute({0, 2, 1, 3}).contiguous().view({B, L, H});
      const at::Tensor a = at::layer_norm(at::linear(ctx, l.wo, l.bo) + x, {H}, l.ln1_w, l.ln1_b, eps);
      const at::Tensor i = at::gelu(at::linear(a, l.wi, l.bi), tanh_gelu ? "tanh" : "none");
      x = at::layer_norm(at::linear(i, l.wo2, l.bo2) + a, {H}, l.ln2_w, l.ln2_b, eps);
    }
    return x;
  }
};

BertModel::BertModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BertModel::~BertModel() = default;
BertModel::BertModel(BertModel&&) noexcept = default;
BertModel& BertModel::operator=(BertModel&&) noexcept = default;

const BertConfig& BertModel::config() const { return impl_->config; }

BertModel BertModel::load(const BertConfig& config, const std::filesystem::path& weights) {
  const std::string file = weights.string();
  std::vector<std::string> problems;
  std::map<std::string, Source> sources = read_sources(weights, problems);
  std::map<std::string, at::Tensor> params;
  std::vector<std::string> missing, mismatched;
  c10::InferenceMode guard;
  for (const auto& [name, shape] : expected_parameters(config)) {
    auto it = sources.find(name);
    if (it == sources.end()) {
      missing.push_back(name);
      continue;
    }
    Source& s = it->second;
    if (s.shape != shape) {
      mismatched.push_back("'" + s.stored_name + "' is " + shape_text(s.shape) + ", expected " + shape_text(shape));
    } else {
      std::string bytes = s.bytes();
      at::Tensor t = at::empty(shape, at::kFloat);
      if (s.dtype == c10::ScalarType::Float) {
        if (!bytes.empty()) std::memcpy(t.data_ptr<float>(), bytes.data(), bytes.size());
      } else {
        t.copy_(at::from_blob(bytes.data(), shape, at::TensorOptions().dtype(s.dtype)));
      }
      params.emplace(name, t);
    }
    sources.erase(it);
  }
  std::vector<std::string> unexpected;
  for (const auto& [name, s] : sources) unexpected.push_back(s.stored_name);
  if (!missing.empty() || !mismatched.empty() || !unexpected.empty() || !problems.empty()) {
    auto list = [](const std::vector<std::string>& v) {
      std::string s;
      const std::size_t shown = std::min<std::size_t>(v.size(), 12);
      for (std::size_t k = 0; k < shown; ++k) s += (k ? ", " : "") + v[k];
      if (v.size() > shown) s += ", … (" + std::to_string(v.size() - shown) + " more)";
      return s;
    };
    std::string msg = "checkpoint does not fit BertModel(hidden " + std::to_string(config.hidden_size) + ", " +
                      std::to_string(config.num_hidden_layers) + " layers, intermediate " +
                      std::to_string(config.intermediate_size) + ", vocab " + std::to_string(config.vocab_size) + ")";
    if (!missing.empty()) msg += "; missing keys (" + std::to_string(missing.size()) + "): " + list(missing);
    if (!mismatched.empty()) msg += "; shape mismatches: " + list(mismatched);
    if (!unexpected.empty()) msg += "; unexpected keys (" + std::to_string(unexpected.size()) + "): " + list(unexpected);
    if (!problems.empty()) msg += "; " + list(problems);
    throw InputError(file, "", msg);
  }
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->bind(params);
  return BertModel(std::move(impl));
}

BertModel BertModel::random(const BertConfig& config, uint64_t seed) {
  c10::InferenceMode guard;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  std::map<std::string, at::Tensor> params;
  for (const auto& [name, shape] : expected_parameters(config)) {
    const bool norm = name.find("LayerNorm") != std::string::npos;
    const bool bias = name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
    at::Tensor t;
    if (norm && !bias) t = at::ones(shape, at::kFloat);
    else if (bias) t = at::zeros(shape, at::kFloat);
    else t = at::empty(shape, at::kFloat).normal_(0.0, 0.02, gen);
    params.emplace(name, t);
  }
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->bind(params);
  return BertModel(std::move(impl));
}

std::vector<float> BertModel::last_hidden_state(const std::vector<int64_t>& ids) const {
  impl_->check_ids(ids);
  c10::InferenceMode guard;
  const int64_t L = static_cast<int64_t>(ids.size());
  at::Tensor t = at::from_blob(const_cast<int64_t*>(ids.data()), {1, L}, at::kLong);
  const at::Tensor h = impl_->forward(t, {L}).contiguous();
  const float* p = h.data_ptr<float>();
  return std::vector<float>(p, p + h.numel());
}

std::vector<std::vector<float>> BertModel::mean_pooled(const std::vector<std::vector<int64_t>>& batch) const {
  std::vector<std::vector<float>> out;
  if (batch.empty()) return out;
  int64_t L = 0;
  std::vector<int64_t> lengths;
  for (const auto& ids : batch) {
    impl_->check_ids(ids);
    lengths.push_back(static_cast<int64_t>(ids.size()));
    L = std::max<int64_t>(L, lengths.back());
  }
  const int64_t B = static_cast<int64_t>(batch.size()), H = impl_->config.hidden_size;
  c10::InferenceMode guard;
  at::Tensor ids = at::zeros({B, L}, at::kLong);
  int64_t* ip = ids.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) std::copy(batch[b].begin(), batch[b].end(), ip + b * L);
  const at::Tensor h = impl_->forward(ids, lengths);
  out.reserve(batch.size());
  for (int64_t b = 0; b < B; ++b) {
    const at::Tensor m = h[b].narrow(0, 0, lengths[static_cast<std::size_t>(b)]).mean(0).contiguous();
    const float* p = m.data_ptr<float>();
    out.emplace_back(p, p + H);
  }
  return out;
}

}  // namespace glamm::model
