// LLaMA decoder forward pass (ATen ops, fp32 compute, stored-dtype weights) with a KV cache. See llama.h.
#include "model/llama.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <memory>
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

/// x [T, in] bf16 times wᵀ for w [out, in] bf16 through the GEMV kernels (CPU): fp32 accumulation, result rounded
/// to bf16 [T, out]; each row's result is independent of the other rows.
at::Tensor linear_bf16_gemv(const at::Tensor& x, const at::Tensor& w) {
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

/// bf16 linear: x [T, in] bf16 times wᵀ for w [out, in] bf16, fp32 accumulation, result rounded to bf16 [T, out].
at::Tensor linear_bf16(const at::Tensor& x, const at::Tensor& w) {
  if (!x.is_cpu() || x.size(0) > kGemvMaxRows) return at::linear(x, w);
  return linear_bf16_gemv(x, w);
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
  return forward_batch({inputs_embeds}, {cache})[0];
}

at::Tensor Llama::linear_rows(const at::Tensor& x, const at::Tensor& w, const std::vector<int64_t>& rows) const {
  const bool bf = compute_dtype_ == at::kBFloat16;
  if (rows.size() == 1) return bf ? linear_bf16(x, w) : linear_upcast(x, w);
  if (bf) {
    // The GEMV kernels' result for a row does not depend on the other rows: one call for all of them.
    if (x.is_cpu() && *std::max_element(rows.begin(), rows.end()) <= kGemvMaxRows && x.size(0) <= 64)
      return linear_bf16_gemv(x, w);
  }
  // Otherwise each sequence's rows go through exactly the call a lone sequence makes (a GEMM's rounding may depend
  // on its row count); for up-cast weights the fp32 block is converted once and used for every sequence.
  std::vector<at::Tensor> parts;
  int64_t at_row = 0;
  if (bf || w.scalar_type() == at::kFloat) {
    for (int64_t n : rows) {
      parts.push_back(bf ? linear_bf16(x.narrow(0, at_row, n), w) : at::linear(x.narrow(0, at_row, n), w));
      at_row += n;
    }
    return at::cat(parts, 0);
  }
  const int64_t out = w.size(0), in = w.size(1);
  const int64_t block = std::max<int64_t>(64, (int64_t{1} << 22) / (in * 4));
  at::Tensor y = at::empty({x.size(0), out}, x.options());
  for (int64_t r = 0; r < out; r += block) {
    const int64_t b = std::min(block, out - r);
    const at::Tensor wf = to_f32(block >= out ? w : w.narrow(0, r, b));
    at_row = 0;
    for (int64_t n : rows) {
      y.narrow(0, at_row, n).narrow(1, r, b).copy_(at::linear(x.narrow(0, at_row, n), wf));
      at_row += n;
    }
  }
  return y;
}

std::vector<at::Tensor> Llama::forward_batch(const std::vector<at::Tensor>& inputs_embeds,
                                             const std::vector<KvCache*>& caches) const {
  c10::InferenceMode guard;
  const LlamaConfig& c = config_;
  const int64_t D = c.hidden_size, H = c.num_attention_heads, hd = c.head_dim();
  const std::size_t B = inputs_embeds.size();
  if (B == 0 || caches.size() != B)
    throw std::invalid_argument("LLaMA forward_batch: " + std::to_string(B) + " sequences and " +
                                std::to_string(caches.size()) + " caches");
  const bool bf = compute_dtype_ == at::kBFloat16;
  const auto cdt = bf ? at::kBFloat16 : at::kFloat;
  const auto opt = at::TensorOptions().dtype(cdt).device(device());
  // Lowest value of the compute dtype: the causal mask and the clamp of the scores (finfo(dtype).min).
  const float lowest = bf ? static_cast<float>(std::numeric_limits<c10::BFloat16>::lowest())
                          : std::numeric_limits<float>::lowest();
  const at::Tensor lowest_t = at::full({}, lowest, opt);
  const double scale = std::sqrt(static_cast<double>(hd));
  auto norm = [&](const at::Tensor& x, const at::Tensor& w) {
    return bf ? rms_norm_bf16(x, w, c.rms_norm_eps) : rms_norm(x, w, c.rms_norm_eps);
  };

  // Per sequence: its rows, positions, cos/sin and causal mask; caches sized for this layer stack.
  struct Seq {
    int64_t T = 0, past = 0, S = 0;
    at::Tensor cos, sin, mask, x;
  };
  std::vector<Seq> seq(B);
  std::vector<int64_t> rows(B);
  for (std::size_t b = 0; b < B; ++b) {
    const at::Tensor& e = inputs_embeds[b];
    if (e.dim() != 2 || e.size(1) != D || e.size(0) == 0)
      throw std::invalid_argument("LLaMA inputs_embeds must be [T>0, " + std::to_string(D) + "], got " +
                                  shape_text(e.sizes().vec()));
    for (std::size_t o = 0; o < b; ++o)
      if (caches[b] && caches[o] == caches[b]) throw std::invalid_argument("LLaMA forward_batch: a cache used twice");
    Seq& q = seq[b];
    q.T = rows[b] = e.size(0);
    q.past = caches[b] ? caches[b]->length() : 0;
    q.S = q.past + q.T;
    if (q.S > c.max_position_embeddings)
      throw std::length_error("sequence of " + std::to_string(q.S) + " positions exceeds max_position_embeddings " +
                              std::to_string(c.max_position_embeddings));
    // cos/sin in fp32 (as the reference builds its caches), cast to bf16 by the bf16 forward.
    std::tie(q.cos, q.sin) = rope(q.past, q.T);
    if (bf) {
      q.cos = q.cos.to(cdt);
      q.sin = q.sin.to(cdt);
    }
    // Causal mask for the new rows: query i (position past+i) sees keys 0..past+i.
    if (q.T > 1) q.mask = at::full({q.T, q.S}, lowest, opt).triu(q.past + 1);
    if (KvCache* kc = caches[b]; kc && kc->k_.size() != layers_.size()) {
      kc->k_.assign(layers_.size(), at::Tensor());
      kc->v_.assign(layers_.size(), at::Tensor());
      kc->length_ = 0;
    }
    q.x = e.to(device(), cdt);
  }
  auto cat_rows = [&](auto&& f) {  // f(b) → that sequence's rows; concatenated when there are several
    if (B == 1) return f(std::size_t{0});
    std::vector<at::Tensor> parts;
    for (std::size_t b = 0; b < B; ++b) parts.push_back(f(b));
    return at::cat(parts, 0);
  };
  auto split_rows = [&](const at::Tensor& y, std::size_t b) {
    if (B == 1) return y;
    int64_t start = 0;
    for (std::size_t o = 0; o < b; ++o) start += rows[o];
    return y.narrow(0, start, rows[b]);
  };

  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const Layer& L = layers_[l];
    const at::Tensor h = cat_rows([&](std::size_t b) { return norm(seq[b].x, L.in_norm); });
    const at::Tensor qa = linear_rows(h, L.q, rows), ka = linear_rows(h, L.k, rows), va = linear_rows(h, L.v, rows);
    const at::Tensor o = cat_rows([&](std::size_t b) {
      const Seq& s = seq[b];
      at::Tensor q = split_rows(qa, b).view({s.T, H, hd}).transpose(0, 1);  // [H, T, hd]
      at::Tensor k = split_rows(ka, b).view({s.T, H, hd}).transpose(0, 1);
      at::Tensor v = split_rows(va, b).view({s.T, H, hd}).transpose(0, 1);
      q = q * s.cos + rotate_half(q) * s.sin;
      k = k * s.cos + rotate_half(k) * s.sin;
      at::Tensor k_all = k, v_all = v;
      if (KvCache* kc = caches[b]) {
        at::Tensor& K = kc->k_[l];
        at::Tensor& Vc = kc->v_[l];
        const int64_t cap = K.defined() ? K.size(1) : 0;
        if (cap < s.S) {
          const int64_t new_cap = std::max(s.S, cap + 256);
          at::Tensor K2 = at::empty({H, new_cap, hd}, opt);
          at::Tensor V2 = at::empty({H, new_cap, hd}, opt);
          if (s.past > 0) {
            K2.narrow(1, 0, s.past).copy_(K.narrow(1, 0, s.past));
            V2.narrow(1, 0, s.past).copy_(Vc.narrow(1, 0, s.past));
          }
          K = K2;
          Vc = V2;
        }
        K.narrow(1, s.past, s.T).copy_(k);
        Vc.narrow(1, s.past, s.T).copy_(v);
        k_all = K.narrow(1, 0, s.S);
        v_all = Vc.narrow(1, 0, s.S);
      }
      at::Tensor scores = at::matmul(q, k_all.transpose(1, 2)) / scale;  // [H, T, S]
      if (s.mask.defined()) scores = bf ? at::max(scores + s.mask, lowest_t) : at::clamp_min(scores + s.mask, lowest);
      at::Tensor probs = at::softmax(scores, -1, at::kFloat);  // softmax in fp32 (rounded back in bf16 mode)
      if (bf) probs = probs.to(cdt);
      return at::matmul(probs, v_all).transpose(0, 1).reshape({s.T, D});
    });
    const at::Tensor attn = linear_rows(o, L.o, rows);
    for (std::size_t b = 0; b < B; ++b) seq[b].x = seq[b].x + split_rows(attn, b);
    const at::Tensor h2 = cat_rows([&](std::size_t b) { return norm(seq[b].x, L.post_norm); });
    const at::Tensor ga = linear_rows(h2, L.gate, rows), ua = linear_rows(h2, L.up, rows);
    const at::Tensor m = cat_rows([&](std::size_t b) { return at::silu(split_rows(ga, b)) * split_rows(ua, b); });
    const at::Tensor down = linear_rows(m, L.down, rows);
    for (std::size_t b = 0; b < B; ++b) seq[b].x = seq[b].x + split_rows(down, b);
  }
  std::vector<at::Tensor> out;
  for (std::size_t b = 0; b < B; ++b) {
    if (caches[b]) caches[b]->length_ = seq[b].S;
    const at::Tensor y = norm(seq[b].x, norm_);
    out.push_back(bf ? y.to(at::kFloat) : y);
  }
  return out;
}

void Llama::set_compute_dtype(c10::ScalarType dtype) {
  if (!switch_to_bf16(dtype, compute_dtype_ == at::kBFloat16, "LLaMA")) return;
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
  if (device().is_cpu()) pack_for_decode();
}

void Llama::pack_for_decode() {
#if defined(__linux__)
  // Decoding streams every matrix once per token. In 4 KiB pages that stream misses the TLB every 4 KiB; in
  // transparent huge pages (2 MiB) it reads about 25-30 % faster on the development machines (bench/README.md).
  // One anonymous mapping advised for huge pages holds the matrices in the order a decode step reads them; each
  // tensor is copied in and its old storage released at once, so the peak is one matrix above the model.
  std::vector<at::Tensor*> order;
  for (Layer& L : layers_)
    for (at::Tensor* t : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down}) order.push_back(t);
  order.push_back(&lm_head_);
  constexpr std::size_t kAlign = 4096;
  std::size_t total = 0;
  for (const at::Tensor* t : order)
    if (t->defined()) total += (t->nbytes() + kAlign - 1) / kAlign * kAlign;
  if (total == 0) return;
  void* base = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return;  // keep the weights where they are: slower, same results
  (void)::madvise(base, total, MADV_HUGEPAGE);  // advisory: without THP support this changes nothing
  struct Mapping {
    void* p;
    std::size_t n;
    ~Mapping() { ::munmap(p, n); }
  };
  const std::shared_ptr<Mapping> mapping(new Mapping{base, total});  // (a temporary Mapping would unmap at once)
  std::size_t off = 0;
  for (at::Tensor* t : order) {
    if (!t->defined()) continue;
    const at::Tensor src = t->contiguous();
    char* dst = static_cast<char*>(base) + off;
    std::memcpy(dst, src.data_ptr(), src.nbytes());
    *t = at::from_blob(dst, src.sizes(), [mapping](void*) {}, src.options());
    off += (src.nbytes() + kAlign - 1) / kAlign * kAlign;
  }
#endif
}

at::Tensor Llama::logits(const at::Tensor& hidden) const {
  c10::InferenceMode guard;
  if (!lm_head_.defined()) throw std::logic_error("Llama::logits: model built without lm_head");
  if (compute_dtype_ == at::kBFloat16)
    return linear_bf16(hidden.to(device(), at::kBFloat16), lm_head_).to(at::kFloat);
  return linear_upcast(hidden.to(device(), at::kFloat), lm_head_);
}

at::Tensor Llama::logits_rows(const at::Tensor& hidden) const {
  c10::InferenceMode guard;
  if (!lm_head_.defined()) throw std::logic_error("Llama::logits_rows: model built without lm_head");
  const bool bf = compute_dtype_ == at::kBFloat16;
  const at::Tensor h = hidden.to(device(), bf ? at::kBFloat16 : at::kFloat);
  const at::Tensor y = linear_rows(h, lm_head_, std::vector<int64_t>(static_cast<std::size_t>(h.size(0)), 1));
  return bf ? y.to(at::kFloat) : y;
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
