// LLaMA decoder forward pass (ATen ops, fp32 compute, stored-dtype weights) with a KV cache. See llama.h.
#include "model/llama.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "model/bf16_gemv.h"

namespace glamm::model {
namespace {

at::Tensor to_f32(const at::Tensor& w);
at::Tensor f32(const at::Tensor& t) { return to_f32(t); }

/// LlamaRMSNorm 4.29 in fp32: w · (x · rsqrt(mean(x²) + eps)).
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& w, double eps) {
  const at::Tensor var = x.pow(2).mean(-1, /*keepdim=*/true);
  return f32(w) * (x * at::rsqrt(var + eps));
}

/// w (any dtype) as fp32 (weights.h as_dtype: an exact, fast bf16 → fp32 shift on the CPU).
at::Tensor to_f32(const at::Tensor& w) { return as_dtype(w, at::kFloat); }

/// x [T, in] fp32 times wᵀ for w [out, in] in its stored dtype. A non-fp32 weight is up-cast in blocks of rows of
/// about 4 MB, so no full fp32 copy of a weight is ever made (for a 7B layer that copy would be 180 MB, fresh pages
/// for every matrix of every decoded token); each output element is still one full-length dot product.
at::Tensor linear_upcast(const at::Tensor& x, const at::Tensor& w) {
  if (w.scalar_type() == at::kFloat) return at::linear(x, w);
  const int64_t out = w.size(0), in = w.size(1);
  const int64_t block = std::max<int64_t>(64, (int64_t{1} << 22) / (in * 4));
  if (block >= out) return at::linear(x, to_f32(w));
  at::Tensor y = at::empty({x.size(0), out}, x.options());
  for (int64_t r = 0; r < out; r += block) {
    const int64_t b = std::min(block, out - r);
    y.narrow(1, r, b).copy_(at::linear(x, to_f32(w.narrow(0, r, b))));
  }
  return y;
}

/// Rows of x at most this many go through the bf16 GEMV kernels on the CPU (decode: one row per sequence); more
/// rows are a GEMM, where oneDNN's bf16 path is the faster one.
constexpr int64_t kGemvMaxRows = 8;

/// bf16 linear: x [T, in] bf16 times wᵀ for w [out, in] bf16, fp32 accumulation, result rounded to bf16 [T, out].
at::Tensor linear_bf16(const at::Tensor& x, const at::Tensor& w) {
  if (!x.is_cpu() || x.size(0) > kGemvMaxRows) return at::linear(x, w);
  const at::Tensor xc = x.contiguous(), wc = w.contiguous();
  const int64_t T = xc.size(0), in = xc.size(1), out = wc.size(0);
  at::Tensor y = at::empty({T, out}, xc.options().dtype(at::kFloat));
  const auto* wp = reinterpret_cast<const uint16_t*>(wc.data_ptr());
  const auto* xp = reinterpret_cast<const uint16_t*>(xc.data_ptr());
  float* yp = y.data_ptr<float>();
  const GemvIsa isa = best_gemv_isa();
  // Rows split over the intra-op threads in multiples of 4 (the kernels' row block); every output element is one
  // thread's fixed-order sum, so the result does not depend on the thread count.
  const int64_t blocks = (out + 3) / 4;
  at::parallel_for(0, blocks, 16, [&](int64_t b0, int64_t b1) {
    gemv_bf16(isa, wp, in, xp, in, T, in, b0 * 4, std::min(out, b1 * 4), yp, out);
  });
  return y.to(at::kBFloat16);
}

/// LlamaRMSNorm 4.29 with bf16 weights: variance of x in fp32, x · rsqrt(var + eps) in fp32 (bf16 × fp32
/// promotes), rounded to bf16, times the weight in bf16.
at::Tensor rms_norm_bf16(const at::Tensor& x, const at::Tensor& w, double eps) {
  const at::Tensor var = x.to(at::kFloat).pow(2).mean(-1, /*keepdim=*/true);
  return w * (x * at::rsqrt(var + eps)).to(at::kBFloat16);
}

/// rotate_half over the last dimension: [-x2, x1].
at::Tensor rotate_half(const at::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

}  // namespace

ShapeLookup shape_lookup(const WeightStore& ws) {
  return [&ws](const std::string& n) -> std::optional<std::vector<int64_t>> {
    if (!ws.contains(n)) return std::nullopt;
    return ws.shape(n);
  };
}

int64_t KvCache::bytes() const {
  int64_t n = 0;
  for (const at::Tensor& t : k_) n += t.defined() ? static_cast<int64_t>(t.nbytes()) : 0;
  for (const at::Tensor& t : v_) n += t.defined() ? static_cast<int64_t>(t.nbytes()) : 0;
  return n;
}

Llama Llama::load(WeightStore& ws, const LlamaConfig& c) {
  Llama m;
  m.config_ = c;
  const int64_t D = c.hidden_size, I = c.intermediate_size, V = c.vocab_size;
  m.embed_tokens_ = ws.get("model.embed_tokens.weight", {V, D});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    ws.ignore({p + "self_attn.rotary_emb.inv_freq"});
    Layer L;
    L.in_norm = ws.get(p + "input_layernorm.weight", {D});
    L.q = ws.get(p + "self_attn.q_proj.weight", {D, D});
    L.k = ws.get(p + "self_attn.k_proj.weight", {D, D});
    L.v = ws.get(p + "self_attn.v_proj.weight", {D, D});
    L.o = ws.get(p + "self_attn.o_proj.weight", {D, D});
    L.post_norm = ws.get(p + "post_attention_layernorm.weight", {D});
    L.gate = ws.get(p + "mlp.gate_proj.weight", {I, D});
    L.up = ws.get(p + "mlp.up_proj.weight", {I, D});
    L.down = ws.get(p + "mlp.down_proj.weight", {D, I});
    m.layers_.push_back(std::move(L));
  }
  m.norm_ = ws.get("model.norm.weight", {D});
  m.lm_head_ = ws.get("lm_head.weight", {V, D});
  return m;
}

Llama Llama::random(const LlamaConfig& c, c10::ScalarType dtype, uint64_t seed, bool with_embeddings) {
  c10::InferenceMode guard;
  Llama m;
  m.config_ = c;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto opt = at::TensorOptions().dtype(at::kFloat);
  // One random pool (as large as the largest matrix); each weight is a copy of a slice at its own offset: distinct
  // tensors with the right statistics, without drawing billions of normals for a 7B-size benchmark.
  const int64_t largest = std::max({c.hidden_size * c.hidden_size, c.intermediate_size * c.hidden_size,
                                    with_embeddings ? c.vocab_size * c.hidden_size : int64_t{0}});
  const at::Tensor pool = (at::randn({largest + 4099}, gen, opt) * 0.02).to(dtype);
  int64_t draw = 0;
  auto normal = [&](std::vector<int64_t> shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    const int64_t offset = (draw++ * 1031) % 4099;
    return pool.narrow(0, offset, n).view(shape).clone();
  };
  auto ones = [&](int64_t n) { return at::ones({n}, opt).to(dtype); };
  const int64_t D = c.hidden_size, I = c.intermediate_size, V = c.vocab_size;
  if (with_embeddings) {
    m.embed_tokens_ = normal({V, D});
    m.lm_head_ = normal({V, D});
  }
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    Layer L;
    L.in_norm = ones(D);
    L.q = normal({D, D});
    L.k = normal({D, D});
    L.v = normal({D, D});
    L.o = normal({D, D});
    L.post_norm = ones(D);
    L.gate = normal({I, D});
    L.up = normal({I, D});
    L.down = normal({D, I});
    m.layers_.push_back(std::move(L));
  }
  m.norm_ = ones(D);
  return m;
}

std::pair<at::Tensor, at::Tensor> Llama::rope(int64_t start, int64_t T) const {
  const int64_t hd = config_.head_dim();
  const auto opt = at::TensorOptions().dtype(at::kFloat).device(device());
  // inv_freq = 1 / base^(arange(0, hd, 2) / hd), positions as float, outer product, cat(freqs, freqs).
  const at::Tensor inv_freq = 1.0 / at::pow(config_.rope_theta, at::arange(0, hd, 2, opt) / static_cast<double>(hd));
  const at::Tensor t = at::arange(start, start + T, opt);
  const at::Tensor freqs = at::outer(t, inv_freq);
  const at::Tensor emb = at::cat({freqs, freqs}, -1);
  return {emb.cos(), emb.sin()};
}

at::Tensor Llama::embed(const at::Tensor& ids) const {
  c10::InferenceMode guard;
  if (!embed_tokens_.defined()) throw std::logic_error("Llama::embed: model built without embeddings");
  const at::Tensor i = ids.to(device(), at::kLong).flatten();
  if (i.numel() > 0) {
    const int64_t lo = i.min().item<int64_t>(), hi = i.max().item<int64_t>();
    if (lo < 0 || hi >= config_.vocab_size)
      throw std::invalid_argument("token id " + std::to_string(lo < 0 ? lo : hi) + " outside [0, " +
                                  std::to_string(config_.vocab_size) + ")");
  }
  return f32(at::index_select(embed_tokens_, 0, i));
}

at::Tensor Llama::forward(const at::Tensor& inputs_embeds, KvCache* cache) const {
  if (compute_dtype_ == at::kBFloat16) return forward_bf16(inputs_embeds, cache);
  c10::InferenceMode guard;
  const LlamaConfig& c = config_;
  const int64_t D = c.hidden_size, H = c.num_attention_heads, hd = c.head_dim();
  if (inputs_embeds.dim() != 2 || inputs_embeds.size(1) != D || inputs_embeds.size(0) == 0)
    throw std::invalid_argument("LLaMA inputs_embeds must be [T>0, " + std::to_string(D) + "], got " +
                                shape_text(inputs_embeds.sizes().vec()));
  const int64_t T = inputs_embeds.size(0);
  const int64_t past = cache ? cache->length() : 0;
  const int64_t S = past + T;
  if (S > c.max_position_embeddings)
    throw std::length_error("sequence of " + std::to_string(S) + " positions exceeds max_position_embeddings " +
                            std::to_string(c.max_position_embeddings));
  const auto [cos, sin] = rope(past, T);  // [T, hd]
  const double scale = std::sqrt(static_cast<double>(hd));
  const float fmin = std::numeric_limits<float>::lowest();
  // Causal mask for the new rows: query i (position past+i) sees keys 0..past+i; finfo.min elsewhere.
  at::Tensor mask;
  if (T > 1) mask = at::full({T, S}, fmin, at::TensorOptions().dtype(at::kFloat).device(device())).triu(past + 1);
  if (cache && cache->k_.size() != layers_.size()) {
    cache->k_.assign(layers_.size(), at::Tensor());
    cache->v_.assign(layers_.size(), at::Tensor());
    cache->length_ = 0;
  }

  at::Tensor x = inputs_embeds.to(device(), at::kFloat);
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const Layer& L = layers_[l];
    at::Tensor h = rms_norm(x, L.in_norm, c.rms_norm_eps);
    at::Tensor q = linear_upcast(h, L.q).view({T, H, hd}).transpose(0, 1);  // [H, T, hd]
    at::Tensor k = linear_upcast(h, L.k).view({T, H, hd}).transpose(0, 1);
    at::Tensor v = linear_upcast(h, L.v).view({T, H, hd}).transpose(0, 1);
    q = q * cos + rotate_half(q) * sin;
    k = k * cos + rotate_half(k) * sin;
    at::Tensor k_all = k, v_all = v;
    if (cache) {
      at::Tensor& K = cache->k_[l];
      at::Tensor& Vc = cache->v_[l];
      const int64_t cap = K.defined() ? K.size(1) : 0;
      if (cap < S) {
        const int64_t new_cap = std::max(S, cap + 256);
        at::Tensor K2 = at::empty({H, new_cap, hd}, x.options());
        at::Tensor V2 = at::empty({H, new_cap, hd}, x.options());
        if (past > 0) {
          K2.narrow(1, 0, past).copy_(K.narrow(1, 0, past));
          V2.narrow(1, 0, past).copy_(Vc.narrow(1, 0, past));
        }
        K = K2;
        Vc = V2;
      }
      K.narrow(1, past, T).copy_(k);
      Vc.narrow(1, past, T).copy_(v);
      k_all = K.narrow(1, 0, S);
      v_all = Vc.narrow(1, 0, S);
    }
    at::Tensor scores = at::matmul(q, k_all.transpose(1, 2)) / scale;  // [H, T, S]
    if (mask.defined()) scores = at::clamp_min(scores + mask, fmin);
    at::Tensor probs = at::softmax(scores, -1, at::kFloat);
    at::Tensor o = at::matmul(probs, v_all).transpose(0, 1).reshape({T, D});
    x = x + linear_upcast(o, L.o);
    h = rms_norm(x, L.post_norm, c.rms_norm_eps);
    h = at::silu(linear_upcast(h, L.gate)) * linear_upcast(h, L.up);
    x = x + linear_upcast(h, L.down);
  }
  if (cache) cache->length_ = S;
  return rms_norm(x, norm_, c.rms_norm_eps);
}

at::Tensor Llama::forward_bf16(const at::Tensor& inputs_embeds, KvCache* cache) const {
  c10::InferenceMode guard;
  const LlamaConfig& c = config_;
  const int64_t D = c.hidden_size, H = c.num_attention_heads, hd = c.head_dim();
  if (inputs_embeds.dim() != 2 || inputs_embeds.size(1) != D || inputs_embeds.size(0) == 0)
    throw std::invalid_argument("LLaMA inputs_embeds must be [T>0, " + std::to_string(D) + "], got " +
                                shape_text(inputs_embeds.sizes().vec()));
  const int64_t T = inputs_embeds.size(0);
  const int64_t past = cache ? cache->length() : 0;
  const int64_t S = past + T;
  if (S > c.max_position_embeddings)
    throw std::length_error("sequence of " + std::to_string(S) + " positions exceeds max_position_embeddings " +
                            std::to_string(c.max_position_embeddings));
  const auto bf = at::kBFloat16;
  auto [cos32, sin32] = rope(past, T);  // fp32, as the cos/sin caches are built; the forward casts them to bf16
  const at::Tensor cos = cos32.to(bf), sin = sin32.to(bf);
  const double scale = std::sqrt(static_cast<double>(hd));
  const float bmin = static_cast<float>(std::numeric_limits<c10::BFloat16>::lowest());
  const auto opt = at::TensorOptions().dtype(bf).device(device());
  at::Tensor mask;  // _prepare_decoder_attention_mask in bf16: 0 where visible, bf16's lowest value elsewhere
  if (T > 1) mask = at::full({T, S}, bmin, opt).triu(past + 1);
  const at::Tensor bmin_t = at::full({}, bmin, opt);
  if (cache && cache->k_.size() != layers_.size()) {
    cache->k_.assign(layers_.size(), at::Tensor());
    cache->v_.assign(layers_.size(), at::Tensor());
    cache->length_ = 0;
  }

  at::Tensor x = inputs_embeds.to(device(), bf);
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const Layer& L = layers_[l];
    at::Tensor h = rms_norm_bf16(x, L.in_norm, c.rms_norm_eps);
    at::Tensor q = linear_bf16(h, L.q).view({T, H, hd}).transpose(0, 1);  // [H, T, hd]
    at::Tensor k = linear_bf16(h, L.k).view({T, H, hd}).transpose(0, 1);
    at::Tensor v = linear_bf16(h, L.v).view({T, H, hd}).transpose(0, 1);
    q = q * cos + rotate_half(q) * sin;
    k = k * cos + rotate_half(k) * sin;
    at::Tensor k_all = k, v_all = v;
    if (cache) {
      at::Tensor& K = cache->k_[l];
      at::Tensor& Vc = cache->v_[l];
      const int64_t cap = K.defined() ? K.size(1) : 0;
      if (cap < S) {
        const int64_t new_cap = std::max(S, cap + 256);
        at::Tensor K2 = at::empty({H, new_cap, hd}, x.options());
        at::Tensor V2 = at::empty({H, new_cap, hd}, x.options());
        if (past > 0) {
          K2.narrow(1, 0, past).copy_(K.narrow(1, 0, past));
          V2.narrow(1, 0, past).copy_(Vc.narrow(1, 0, past));
        }
        K = K2;
        Vc = V2;
      }
      K.narrow(1, past, T).copy_(k);
      Vc.narrow(1, past, T).copy_(v);
      k_all = K.narrow(1, 0, S);
      v_all = Vc.narrow(1, 0, S);
    }
    at::Tensor scores = at::matmul(q, k_all.transpose(1, 2)) / scale;  // [H, T, S] bf16
    if (mask.defined()) scores = at::max(scores + mask, bmin_t);
    const at::Tensor probs = at::softmax(scores, -1, at::kFloat).to(bf);
    const at::Tensor o = at::matmul(probs, v_all).transpose(0, 1).reshape({T, D});
    x = x + linear_bf16(o, L.o);
    h = rms_norm_bf16(x, L.post_norm, c.rms_norm_eps);
    h = at::silu(linear_bf16(h, L.gate)) * linear_bf16(h, L.up);
    x = x + linear_bf16(h, L.down);
  }
  if (cache) cache->length_ = S;
  return rms_norm_bf16(x, norm_, c.rms_norm_eps).to(at::kFloat);
}

void Llama::set_compute_dtype(c10::ScalarType dtype) {
  if (dtype != at::kFloat && dtype != at::kBFloat16)
    throw std::invalid_argument(std::string("LLaMA compute dtype must be fp32 or bf16, got ") + c10::toString(dtype));
  if (dtype == compute_dtype_) return;
  if (compute_dtype_ == at::kBFloat16) throw std::invalid_argument("LLaMA: bf16 weights cannot go back to fp32 mode");
  c10::InferenceMode guard;
  auto cast = [](at::Tensor& t) {
    if (t.defined() && t.scalar_type() != at::kBFloat16) t = t.to(at::kBFloat16);
  };
  cast(embed_tokens_);
  cast(norm_);
  cast(lm_head_);
  for (Layer& L : layers_)
    for (at::Tensor* t : {&L.in_norm, &L.q, &L.k, &L.v, &L.o, &L.post_norm, &L.gate, &L.up, &L.down}) cast(*t);
  compute_dtype_ = dtype;
}

at::Tensor Llama::logits(const at::Tensor& hidden) const {
  c10::InferenceMode guard;
  if (!lm_head_.defined()) throw std::logic_error("Llama::logits: model built without lm_head");
  if (compute_dtype_ == at::kBFloat16)
    return linear_bf16(hidden.to(device(), at::kBFloat16), lm_head_).to(at::kFloat);
  return linear_upcast(hidden.to(device(), at::kFloat), lm_head_);
}

c10::Device Llama::device() const { return norm_.device(); }

void Llama::to(const c10::Device& device) {
  auto move = [&](at::Tensor& t) {
    if (t.defined()) t = t.to(device);
  };
  move(embed_tokens_);
  move(norm_);
  move(lm_head_);
  for (Layer& L : layers_)
    for (at::Tensor* t : {&L.in_norm, &L.q, &L.k, &L.v, &L.o, &L.post_norm, &L.gate, &L.up, &L.down}) move(*t);
}

int64_t Llama::weight_bytes() const {
  int64_t n = 0;
  auto add = [&](const at::Tensor& t) { n += t.defined() ? static_cast<int64_t>(t.nbytes()) : 0; };
  add(embed_tokens_);
  add(norm_);
  add(lm_head_);
  for (const Layer& L : layers_)
    for (const at::Tensor* t : {&L.in_norm, &L.q, &L.k, &L.v, &L.o, &L.post_norm, &L.gate, &L.up, &L.down}) add(*t);
  return n;
}

}  // namespace glamm::model
