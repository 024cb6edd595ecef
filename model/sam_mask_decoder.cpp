// SAM prompt-encoder pieces, mask decoder, text_hidden_fcs and mask post-processing. See sam_mask_decoder.h.
#include "model/sam_mask_decoder.h"

#include <functional>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "metrics/mask/rle.h"
#include "model/sam_image_encoder.h"  // layer_norm_2d

namespace glamm::model {

namespace {

/// ConvTranspose2d(kernel 2, stride 2). A bf16 map on the CPU is computed in fp32 and rounded once: libtorch 1.13's
/// CPU bf16 path (oneDNN) rejects the transposed weight layout, and a bf16 convolution on the GPU also accumulates
/// in fp32 and rounds its output once.
at::Tensor conv_transpose_2x2(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  if (x.scalar_type() == at::kBFloat16 && x.is_cpu())
    return at::conv_transpose2d(x.to(at::kFloat), w.to(at::kFloat), b.defined() ? b.to(at::kFloat) : b, {2, 2})
        .to(at::kBFloat16);
  return at::conv_transpose2d(x, w, b, {2, 2});
}


constexpr double kTransformerLnEps = 1e-5;          // nn.LayerNorm default in TwoWayTransformer
constexpr double kUpscaleLnEps = 1e-6;              // LayerNorm2d default
constexpr double kTwoPi = 2.0 * 3.141592653589793;  // 2 * np.pi

std::string shape_of(const at::Tensor& t) {
  return t.defined() ? shape_text(t.sizes().vec()) : std::string("(missing)");
}

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("SAM mask decoder: " + what);
}

/// Contiguous fp32 copy with a shape check; throws std::invalid_argument for a missing or mis-shaped tensor.
at::Tensor f32(const at::Tensor& t, const std::vector<int64_t>& shape, const std::string& name) {
  require(t.defined(), "missing parameter " + name);
  require(t.sizes().vec() == shape, name + " has shape " + shape_of(t) + ", expected " + shape_text(shape));
  return t.to(at::kFloat).contiguous();
}

SamMaskDecoder::Attention load_attention(WeightStore& store, const std::string& p) {
  SamMaskDecoder::Attention a;
  a.q_w = store.get(p + "q_proj.weight");
  a.q_b = store.get(p + "q_proj.bias");
  a.k_w = store.get(p + "k_proj.weight");
  a.k_b = store.get(p + "k_proj.bias");
  a.v_w = store.get(p + "v_proj.weight");
  a.v_b = store.get(p + "v_proj.bias");
  a.out_w = store.get(p + "out_proj.weight");
  a.out_b = store.get(p + "out_proj.bias");
  return a;
}

/// Check/convert one attention module: dim → internal → dim.
void check_attention(SamMaskDecoder::Attention& a, int64_t dim, int64_t internal, const std::string& p) {
  a.q_w = f32(a.q_w, {internal, dim}, p + "q_proj.weight");
  a.k_w = f32(a.k_w, {internal, dim}, p + "k_proj.weight");
  a.v_w = f32(a.v_w, {internal, dim}, p + "v_proj.weight");
  a.q_b = f32(a.q_b, {internal}, p + "q_proj.bias");
  a.k_b = f32(a.k_b, {internal}, p + "k_proj.bias");
  a.v_b = f32(a.v_b, {internal}, p + "v_proj.bias");
  a.out_w = f32(a.out_w, {dim, internal}, p + "out_proj.weight");
  a.out_b = f32(a.out_b, {dim}, p + "out_proj.bias");
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Prompt encoder

SamPromptEncoder::SamPromptEncoder(at::Tensor gaussian, at::Tensor no_mask_embed) {
  require(gaussian.defined() && gaussian.dim() == 2 && gaussian.size(0) == 2,
          "positional_encoding_gaussian_matrix must be [2,F], got " + shape_of(gaussian));
  gaussian_ = gaussian.to(at::kFloat).contiguous();
  no_mask_embed_ = f32(no_mask_embed, {1, 2 * gaussian.size(1)}, "no_mask_embed.weight");
}

SamPromptEncoder SamPromptEncoder::load(WeightStore& store, const std::string& prefix) {
  at::Tensor g = store.get(prefix + "pe_layer.positional_encoding_gaussian_matrix");
  at::Tensor e = store.get(prefix + "no_mask_embed.weight");
  store.ignore({prefix + "point_embeddings.*", prefix + "not_a_point_embed.*", prefix + "mask_downscaling.*"});
  store.finish({prefix});
  return SamPromptEncoder(std::move(g), std::move(e));
}

at::Tensor SamPromptEncoder::dense_pe(int64_t h, int64_t w) const {
  require(h > 0 && w > 0, "dense_pe size must be positive");
  c10::InferenceMode guard;
  // PositionEmbeddingRandom.forward: cumsum of ones − 0.5, divided by the size, stacked as [x, y].
  const at::Tensor grid = at::ones({h, w}, gaussian_.options());
  const at::Tensor y = (grid.cumsum(0) - 0.5) / static_cast<double>(h);
  const at::Tensor x = (grid.cumsum(1) - 0.5) / static_cast<double>(w);
  at::Tensor coords = at::stack({x, y}, -1);  // [h, w, 2]
  coords = coords * 2.0 - 1.0;
  coords = at::matmul(coords, gaussian_);
  coords = coords * kTwoPi;
  return at::cat({at::sin(coords), at::cos(coords)}, -1).permute({2, 0, 1}).unsqueeze(0).contiguous();
}

void SamPromptEncoder::set_compute_dtype(c10::ScalarType dtype) {
  if (!switch_to_bf16(dtype, gaussian_.scalar_type() == at::kBFloat16, "SAM prompt encoder")) return;
  c10::InferenceMode guard;
  // model.bfloat16() casts the registered buffer too: the dense PE grid is then built in bf16.
  gaussian_ = gaussian_.to(at::kBFloat16);
  no_mask_embed_ = no_mask_embed_.to(at::kBFloat16);
}

void SamPromptEncoder::to(const c10::Device& device) {
  c10::InferenceMode guard;
  gaussian_ = gaussian_.to(device);
  no_mask_embed_ = no_mask_embed_.to(device);
}

at::Tensor SamPromptEncoder::no_mask_dense(int64_t n, int64_t h, int64_t w) const {
  return no_mask_embed_.reshape({1, -1, 1, 1}).expand({n, -1, h, w});
}

// ---------------------------------------------------------------------------------------------------------------
// Mask decoder

SamMaskDecoder::SamMaskDecoder(Weights weights, int64_t heads) : w_(std::move(weights)) {
  Weights& w = w_;
  SamMaskDecoderConfig& c = config_;
  require(heads > 0, "head count must be positive, got " + std::to_string(heads));
  c.heads = heads;
  require(w.iou_token.defined() && w.iou_token.dim() == 2 && w.iou_token.size(0) == 1,
          "iou_token.weight must be [1,dim], got " + shape_of(w.iou_token));
  c.dim = w.iou_token.size(1);
  w.iou_token = f32(w.iou_token, {1, c.dim}, "iou_token.weight");
  require(w.mask_tokens.defined() && w.mask_tokens.dim() == 2,
          "mask_tokens.weight must be [K,dim], got " + shape_of(w.mask_tokens));
  c.num_mask_tokens = w.mask_tokens.size(0);
  w.mask_tokens = f32(w.mask_tokens, {c.num_mask_tokens, c.dim}, "mask_tokens.weight");
  require(c.num_mask_tokens >= 1, "no mask tokens");
  require(!w.layers.empty(), "no transformer layers");
  c.depth = static_cast<int64_t>(w.layers.size());
  require(w.final_attn.q_w.defined() && w.final_attn.q_w.dim() == 2,
          "transformer.final_attn_token_to_image.q_proj.weight is missing or not 2-D");
  c.cross_dim = w.final_attn.q_w.size(0);
  require(w.layers[0].lin1_w.defined() && w.layers[0].lin1_w.dim() == 2,
          "transformer.layers.0.mlp.lin1.weight is missing or not 2-D");
  c.mlp_dim = w.layers[0].lin1_w.size(0);
  require(c.dim % heads == 0 && c.cross_dim % heads == 0,
          "widths " + std::to_string(c.dim) + " / " + std::to_string(c.cross_dim) + " are not divisible by " +
              std::to_string(heads) + " heads (config.json glamm_runner.sam_mask_decoder_num_heads)");
  for (size_t i = 0; i < w.layers.size(); ++i) {
    Layer& l = w.layers[i];
    const std::string p = "transformer.layers." + std::to_string(i) + ".";
    check_attention(l.self_attn, c.dim, c.dim, p + "self_attn.");
    check_attention(l.token_to_image, c.dim, c.cross_dim, p + "cross_attn_token_to_image.");
    check_attention(l.image_to_token, c.dim, c.cross_dim, p + "cross_attn_image_to_token.");
    for (int k = 0; k < 4; ++k) {
      l.norm_w[k] = f32(l.norm_w[k], {c.dim}, p + "norm" + std::to_string(k + 1) + ".weight");
      l.norm_b[k] = f32(l.norm_b[k], {c.dim}, p + "norm" + std::to_string(k + 1) + ".bias");
    }
    l.lin1_w = f32(l.lin1_w, {c.mlp_dim, c.dim}, p + "mlp.lin1.weight");
    l.lin1_b = f32(l.lin1_b, {c.mlp_dim}, p + "mlp.lin1.bias");
    l.lin2_w = f32(l.lin2_w, {c.dim, c.mlp_dim}, p + "mlp.lin2.weight");
    l.lin2_b = f32(l.lin2_b, {c.dim}, p + "mlp.lin2.bias");
  }
  check_attention(w.final_attn, c.dim, c.cross_dim, "transformer.final_attn_token_to_image.");
  w.norm_final_w = f32(w.norm_final_w, {c.dim}, "transformer.norm_final_attn.weight");
  w.norm_final_b = f32(w.norm_final_b, {c.dim}, "transformer.norm_final_attn.bias");
  require(w.up0_w.defined() && w.up0_w.dim() == 4, "output_upscaling.0.weight is missing or not 4-D");
  c.upscale1 = w.up0_w.size(1);
  require(w.up3_w.defined() && w.up3_w.dim() == 4, "output_upscaling.3.weight is missing or not 4-D");
  c.upscale2 = w.up3_w.size(1);
  w.up0_w = f32(w.up0_w, {c.dim, c.upscale1, 2, 2}, "output_upscaling.0.weight");
  w.up0_b = f32(w.up0_b, {c.upscale1}, "output_upscaling.0.bias");
  w.up1_w = f32(w.up1_w, {c.upscale1}, "output_upscaling.1.weight");
  w.up1_b = f32(w.up1_b, {c.upscale1}, "output_upscaling.1.bias");
  w.up3_w = f32(w.up3_w, {c.upscale1, c.upscale2, 2, 2}, "output_upscaling.3.weight");
  w.up3_b = f32(w.up3_b, {c.upscale2}, "output_upscaling.3.bias");
  require(
      static_cast<int64_t>(w.hyper.size()) == c.num_mask_tokens,
      std::to_string(w.hyper.size()) + " hypernetwork MLPs for " + std::to_string(c.num_mask_tokens) + " mask tokens");
  for (size_t i = 0; i < w.hyper.size(); ++i) {
    Mlp3& m = w.hyper[i];
    const std::string p = "output_hypernetworks_mlps." + std::to_string(i) + ".layers.";
    m.w[0] = f32(m.w[0], {c.dim, c.dim}, p + "0.weight");
    m.b[0] = f32(m.b[0], {c.dim}, p + "0.bias");
    m.w[1] = f32(m.w[1], {c.dim, c.dim}, p + "1.weight");
    m.b[1] = f32(m.b[1], {c.dim}, p + "1.bias");
    m.w[2] = f32(m.w[2], {c.upscale2, c.dim}, p + "2.weight");
    m.b[2] = f32(m.b[2], {c.upscale2}, p + "2.bias");
  }
}

SamMaskDecoder SamMaskDecoder::load(WeightStore& store, int64_t heads, const std::string& prefix) {
  Weights w;
  w.iou_token = store.get(prefix + "iou_token.weight");
  w.mask_tokens = store.get(prefix + "mask_tokens.weight");
  const std::string t = prefix + "transformer.";
  for (int i = 0;; ++i) {
    const std::string p = t + "layers." + std::to_string(i) + ".";
    if (!store.contains(p + "norm1.weight")) break;
    Layer l;
    l.self_attn = load_attention(store, p + "self_attn.");
    l.token_to_image = load_attention(store, p + "cross_attn_token_to_image.");
    l.image_to_token = load_attention(store, p + "cross_attn_image_to_token.");
    for (int k = 0; k < 4; ++k) {
      l.norm_w[k] = store.get(p + "norm" + std::to_string(k + 1) + ".weight");
      l.norm_b[k] = store.get(p + "norm" + std::to_string(k + 1) + ".bias");
    }
    l.lin1_w = store.get(p + "mlp.lin1.weight");
    l.lin1_b = store.get(p + "mlp.lin1.bias");
    l.lin2_w = store.get(p + "mlp.lin2.weight");
    l.lin2_b = store.get(p + "mlp.lin2.bias");
    w.layers.push_back(std::move(l));
  }
  if (w.layers.empty()) store.get(t + "layers.0.norm1.weight");  // recorded as missing
  w.final_attn = load_attention(store, t + "final_attn_token_to_image.");
  w.norm_final_w = store.get(t + "norm_final_attn.weight");
  w.norm_final_b = store.get(t + "norm_final_attn.bias");
  w.up0_w = store.get(prefix + "output_upscaling.0.weight");
  w.up0_b = store.get(prefix + "output_upscaling.0.bias");
  w.up1_w = store.get(prefix + "output_upscaling.1.weight");
  w.up1_b = store.get(prefix + "output_upscaling.1.bias");
  w.up3_w = store.get(prefix + "output_upscaling.3.weight");
  w.up3_b = store.get(prefix + "output_upscaling.3.bias");
  const int64_t k = store.contains(prefix + "mask_tokens.weight") ? store.shape(prefix + "mask_tokens.weight")[0] : 0;
  for (int64_t i = 0; i < k; ++i) {
    Mlp3 m;
    const std::string p = prefix + "output_hypernetworks_mlps." + std::to_string(i) + ".layers.";
    for (int j = 0; j < 3; ++j) {
      m.w[j] = store.get(p + std::to_string(j) + ".weight");
      m.b[j] = store.get(p + std::to_string(j) + ".bias");
    }
    w.hyper.push_back(std::move(m));
  }
  store.ignore({prefix + "iou_prediction_head.*"});  // computed by the reference but unused (§1.6)
  store.finish({prefix});
  return SamMaskDecoder(std::move(w), heads);
}

at::Tensor SamMaskDecoder::attend(const Attention& a, const at::Tensor& q_in, const at::Tensor& k_in,
                                  const at::Tensor& v_in) const {
  // transformer.py Attention.forward: project, split heads, softmax(q·kᵀ/√c), merge heads, out_proj.
  const int64_t heads = config_.heads;
  auto separate = [heads](const at::Tensor& x) {
    return x.reshape({x.size(0), x.size(1), heads, x.size(2) / heads}).transpose(1, 2);
  };
  const at::Tensor q = separate(at::linear(q_in, a.q_w, a.q_b));
  const at::Tensor k = separate(at::linear(k_in, a.k_w, a.k_b));
  const at::Tensor v = separate(at::linear(v_in, a.v_w, a.v_b));
  const int64_t c_per_head = q.size(3);
  at::Tensor attn = at::matmul(q, k.permute({0, 1, 3, 2}));
  attn = attn / std::sqrt(static_cast<double>(c_per_head));
  attn = at::softmax(attn, -1);
  at::Tensor out = at::matmul(attn, v);  // [b, heads, n, c]
  out = out.transpose(1, 2).reshape({out.size(0), out.size(2), heads * c_per_head});
  return at::linear(out, a.out_w, a.out_b);
}

void SamMaskDecoder::for_each_weight(const std::function<void(at::Tensor&)>& f) {
  auto attention = [&](Attention& a) {
    for (at::Tensor* t : {&a.q_w, &a.q_b, &a.k_w, &a.k_b, &a.v_w, &a.v_b, &a.out_w, &a.out_b}) f(*t);
  };
  Weights& W = w_;
  for (at::Tensor* t : {&W.iou_token, &W.mask_tokens, &W.norm_final_w, &W.norm_final_b, &W.up0_w, &W.up0_b, &W.up1_w,
                        &W.up1_b, &W.up3_w, &W.up3_b})
    f(*t);
  attention(W.final_attn);
  for (Layer& l : W.layers) {
    attention(l.self_attn);
    attention(l.token_to_image);
    attention(l.image_to_token);
    for (int k = 0; k < 4; ++k) {
      f(l.norm_w[k]);
      f(l.norm_b[k]);
    }
    for (at::Tensor* t : {&l.lin1_w, &l.lin1_b, &l.lin2_w, &l.lin2_b}) f(*t);
  }
  for (Mlp3& m : W.hyper)
    for (int k = 0; k < 3; ++k) {
      f(m.w[k]);
      f(m.b[k]);
    }
}

void SamMaskDecoder::set_compute_dtype(c10::ScalarType dtype) {
  if (!switch_to_bf16(dtype, bf16_, "SAM mask decoder")) return;
  c10::InferenceMode guard;
  for_each_weight([](at::Tensor& t) {
    if (t.defined()) t = t.to(at::kBFloat16);
  });
  bf16_ = true;
}

void SamMaskDecoder::to(const c10::Device& device) {
  c10::InferenceMode guard;
  for_each_weight([&](at::Tensor& t) {
    if (t.defined()) t = t.to(device);
  });
}

at::Tensor SamMaskDecoder::predict_low_res(const at::Tensor& image_embeddings, const at::Tensor& image_pe,
                                           const at::Tensor& sparse, const at::Tensor& dense) const {
  const SamMaskDecoderConfig& c = config_;
  require(image_embeddings.defined() && image_embeddings.dim() == 4 && image_embeddings.size(1) == c.dim,
          "image_embeddings must be [1|n," + std::to_string(c.dim) + ",h,w], got " + shape_of(image_embeddings));
  const int64_t h = image_embeddings.size(2), w = image_embeddings.size(3);
  require(sparse.defined() && sparse.dim() == 3 && sparse.size(2) == c.dim,
          "sparse prompts must be [n,T," + std::to_string(c.dim) + "], got " + shape_of(sparse));
  const int64_t n = sparse.size(0);
  require(image_pe.defined() && image_pe.sizes().vec() == std::vector<int64_t>{1, c.dim, h, w},
          "image_pe must be [1," + std::to_string(c.dim) + "," + std::to_string(h) + "," + std::to_string(w) +
              "], got " + shape_of(image_pe));
  require(dense.defined() && dense.sizes().vec() == std::vector<int64_t>{n, c.dim, h, w},
          "dense prompts must be [" + std::to_string(n) + "," + std::to_string(c.dim) + "," + std::to_string(h) + "," +
              std::to_string(w) + "], got " + shape_of(dense));
  require(image_embeddings.size(0) == 1 || image_embeddings.size(0) == n,
          "image_embeddings batch " + std::to_string(image_embeddings.size(0)) +
              " is neither 1 nor n=" + std::to_string(n));
  const auto cdt = bf16_ ? at::kBFloat16 : at::kFloat;
  if (n == 0) return at::zeros({0, 1, 4 * h, 4 * w}, image_embeddings.options().dtype(cdt));
  c10::InferenceMode guard;
  const Weights& W = w_;
  // predict_masks: [iou token, mask tokens] + sparse prompts.
  const at::Tensor output_tokens = at::cat({W.iou_token, W.mask_tokens}, 0).unsqueeze(0).expand({n, -1, -1});
  const at::Tensor tokens = at::cat({output_tokens, sparse.to(W.iou_token.device(), cdt)}, 1);  // [n, 1+K+T, dim]
  at::Tensor src = image_embeddings.to(W.iou_token.device(), cdt);
  if (src.size(0) != n) src = at::repeat_interleave(src, n, 0);
  src = src + dense.to(W.iou_token.device(), cdt);
  const at::Tensor pos_src = at::repeat_interleave(image_pe.to(W.iou_token.device(), cdt), n, 0);

  // TwoWayTransformer.forward: image as tokens [n, h·w, dim].
  at::Tensor keys = src.flatten(2).permute({0, 2, 1});
  const at::Tensor key_pe = pos_src.flatten(2).permute({0, 2, 1});
  const at::Tensor& query_pe = tokens;
  at::Tensor queries = tokens;
  const auto ln = [&c](const at::Tensor& x, const at::Tensor& wt, const at::Tensor& b) {
    return at::layer_norm(x, {c.dim}, wt, b, kTransformerLnEps);
  };
  for (size_t i = 0; i < W.layers.size(); ++i) {
    const Layer& l = W.layers[i];
    // TwoWayAttentionBlock: layer 0 skips the PE and the residual of its self-attention.
    if (i == 0) {
      queries = attend(l.self_attn, queries, queries, queries);
    } else {
      const at::Tensor q = queries + query_pe;
      queries = queries + attend(l.self_attn, q, q, queries);
    }
    queries = ln(queries, l.norm_w[0], l.norm_b[0]);
    {
      const at::Tensor q = queries + query_pe;
      const at::Tensor k = keys + key_pe;
      queries = ln(queries + attend(l.token_to_image, q, k, keys), l.norm_w[1], l.norm_b[1]);
    }
    const at::Tensor mlp = at::linear(at::relu(at::linear(queries, l.lin1_w, l.lin1_b)), l.lin2_w, l.lin2_b);
    queries = ln(queries + mlp, l.norm_w[2], l.norm_b[2]);
    {
      const at::Tensor q = queries + query_pe;
      const at::Tensor k = keys + key_pe;
      keys = ln(keys + attend(l.image_to_token, k, q, queries), l.norm_w[3], l.norm_b[3]);
    }
  }
  {
    const at::Tensor q = queries + query_pe;
    const at::Tensor k = keys + key_pe;
    queries = ln(queries + attend(W.final_attn, q, k, keys), W.norm_final_w, W.norm_final_b);
  }

  // Upscale the image tokens and apply the hypernetworks.
  const at::Tensor img = keys.transpose(1, 2).reshape({n, c.dim, h, w});
  at::Tensor up = conv_transpose_2x2(img, W.up0_w, W.up0_b);
  up = at::gelu(layer_norm_2d(up, W.up1_w, W.up1_b, kUpscaleLnEps));
  up = at::gelu(conv_transpose_2x2(up, W.up3_w, W.up3_b));  // [n, dim/8, 4h, 4w]
  std::vector<at::Tensor> hyper;
  for (int64_t i = 0; i < c.num_mask_tokens; ++i) {
    const Mlp3& m = W.hyper[static_cast<size_t>(i)];
    at::Tensor x = queries.select(1, 1 + i);  // mask token i
    x = at::relu(at::linear(x, m.w[0], m.b[0]));
    x = at::relu(at::linear(x, m.w[1], m.b[1]));
    hyper.push_back(at::linear(x, m.w[2], m.b[2]));
  }
  const at::Tensor hyper_in = at::stack(hyper, 1);  // [n, K, dim/8]
  const int64_t uh = up.size(2), uw = up.size(3);
  const at::Tensor masks = at::matmul(hyper_in, up.reshape({n, c.upscale2, uh * uw})).view({n, -1, uh, uw});
  return masks.slice(1, 0, 1).contiguous();  // multimask_output=False: mask 0
}

// ---------------------------------------------------------------------------------------------------------------
// text_hidden_fcs

TextHiddenProjection::TextHiddenProjection(at::Tensor w0, at::Tensor b0, at::Tensor w2, at::Tensor b2) {
  if (!w0.defined() || w0.dim() != 2 || w0.size(0) != w0.size(1)) {
    throw std::invalid_argument("text_hidden_fcs.0.0.weight must be [D,D], got " + shape_of(w0));
  }
  const int64_t d = w0.size(0);
  if (!w2.defined() || w2.dim() != 2 || w2.size(1) != d) {
    throw std::invalid_argument("text_hidden_fcs.0.2.weight must be [out," + std::to_string(d) + "], got " +
                                shape_of(w2));
  }
  const int64_t out = w2.size(0);
  auto conv = [](const at::Tensor& t, std::vector<int64_t> shape, const std::string& name) {
    if (!t.defined() || t.sizes().vec() != shape) {
      throw std::invalid_argument(name + " has shape " + shape_of(t) + ", expected " + shape_text(shape));
    }
    return t.to(at::kFloat).contiguous();
  };
  w0_ = conv(w0, {d, d}, "text_hidden_fcs.0.0.weight");
  b0_ = conv(b0, {d}, "text_hidden_fcs.0.0.bias");
  w2_ = conv(w2, {out, d}, "text_hidden_fcs.0.2.weight");
  b2_ = conv(b2, {out}, "text_hidden_fcs.0.2.bias");
}

TextHiddenProjection TextHiddenProjection::load(WeightStore& store, const std::string& prefix) {
  at::Tensor w0 = store.get(prefix + "0.weight");
  at::Tensor b0 = store.get(prefix + "0.bias");
  at::Tensor w2 = store.get(prefix + "2.weight");
  at::Tensor b2 = store.get(prefix + "2.bias");
  store.finish({prefix});
  return TextHiddenProjection(std::move(w0), std::move(b0), std::move(w2), std::move(b2));
}

at::Tensor TextHiddenProjection::forward(const at::Tensor& hidden) const {
  if (!hidden.defined() || hidden.dim() != 2 || hidden.size(1) != in_dim()) {
    throw std::invalid_argument("text_hidden_fcs: input must be [n," + std::to_string(in_dim()) + "], got " +
                                shape_of(hidden));
  }
  c10::InferenceMode guard;
  if (bf16_) {  // the official run's model.bfloat16(): Linear, ReLU, Linear in bf16
    const at::Tensor h = at::relu(at::linear(hidden.to(w0_.device(), at::kBFloat16), w0_, b0_));
    return at::linear(h, w2_, b2_).to(at::kFloat);
  }
  return at::linear(at::relu(at::linear(hidden.to(w0_.device(), at::kFloat), w0_, b0_)), w2_, b2_);
}

void TextHiddenProjection::to(const c10::Device& device) {
  c10::InferenceMode guard;
  for (at::Tensor* t : {&w0_, &b0_, &w2_, &b2_}) *t = t->to(device);
}

void TextHiddenProjection::set_compute_dtype(c10::ScalarType dtype) {
  if (!switch_to_bf16(dtype, bf16_, "text_hidden_fcs")) return;
  c10::InferenceMode guard;
  for (at::Tensor* t : {&w0_, &b0_, &w2_, &b2_}) *t = t->to(at::kBFloat16);
  bf16_ = true;
}

// ---------------------------------------------------------------------------------------------------------------
// Post-processing

at::Tensor sam_postprocess_masks(const at::Tensor& low_res, std::pair<int64_t, int64_t> resized,
                                 std::pair<int64_t, int64_t> original, int64_t image_size) {
  if (!low_res.defined() || low_res.dim() != 4 || low_res.size(1) != 1) {
    throw std::invalid_argument("sam_postprocess_masks: low-res masks must be [n,1,h,w], got " + shape_of(low_res));
  }
  if (resized.first <= 0 || resized.second <= 0 || resized.first > image_size || resized.second > image_size ||
      original.first <= 0 || original.second <= 0) {
    throw std::invalid_argument("sam_postprocess_masks: bad sizes (resized " + std::to_string(resized.first) + "x" +
                                std::to_string(resized.second) + ", original " + std::to_string(original.first) + "x" +
                                std::to_string(original.second) + ")");
  }
  if (low_res.size(0) == 0) return at::zeros({0, original.first, original.second}, low_res.options().dtype(at::kFloat));
  c10::InferenceMode guard;
  at::Tensor m = at::upsample_bilinear2d(low_res.to(at::kFloat), {image_size, image_size}, /*align_corners=*/false);
  m = m.slice(2, 0, resized.first).slice(3, 0, resized.second);
  m = at::upsample_bilinear2d(m.contiguous(), {original.first, original.second}, /*align_corners=*/false);
  return m.select(1, 0).contiguous();
}

at::Tensor sam_binary_mask(const at::Tensor& logits) { return at::gt(logits, 0.0); }

PredictedMask sam_mask_to_rle(const at::Tensor& logits) {
  if (!logits.defined() || logits.dim() != 2) {
    throw std::invalid_argument("sam_mask_to_rle: logits must be [H,W], got " + shape_of(logits));
  }
  const int64_t h = logits.size(0), w = logits.size(1);
  // Column-major bytes: the transposed [W,H] mask laid out contiguously has pixel (y, x) at x·H + y.
  const at::Tensor colmajor = sam_binary_mask(logits).t().to(at::kCPU).contiguous().to(at::kByte);
  const mask::Rle rle = mask::encode(colmajor.data_ptr<uint8_t>(), static_cast<uint32_t>(h), static_cast<uint32_t>(w));
  PredictedMask out;
  out.height = static_cast<int>(h);
  out.width = static_cast<int>(w);
  out.counts = mask::to_string(rle);
  return out;
}

std::vector<PredictedMask> sam_masks_to_rle(const at::Tensor& logits) {
  if (!logits.defined() || logits.dim() != 3) {
    throw std::invalid_argument("sam_masks_to_rle: logits must be [n,H,W], got " + shape_of(logits));
  }
  std::vector<PredictedMask> out;
  for (int64_t i = 0; i < logits.size(0); ++i) out.push_back(sam_mask_to_rle(logits[i]));
  return out;
}

at::Tensor sam_full_res_logits(const SamPromptEncoder& prompt_encoder, const SamMaskDecoder& decoder,
                               const at::Tensor& image_embeddings, const at::Tensor& prompts,
                               std::pair<int64_t, int64_t> resized, std::pair<int64_t, int64_t> original,
                               int64_t image_size) {
  require(image_embeddings.defined() && image_embeddings.dim() == 4 && image_embeddings.size(0) == 1,
          "image_embeddings must be [1,dim,h,w], got " + shape_of(image_embeddings));
  require(prompts.defined() && prompts.dim() == 2 && prompts.size(1) == decoder.config().dim &&
              prompt_encoder.dim() == decoder.config().dim,
          "prompts " + shape_of(prompts) + " / prompt encoder width " + std::to_string(prompt_encoder.dim()) +
              " do not match the decoder width " + std::to_string(decoder.config().dim));
  const int64_t n = prompts.size(0), h = image_embeddings.size(2), w = image_embeddings.size(3);
  const at::Tensor low = decoder.predict_low_res(image_embeddings, prompt_encoder.dense_pe(h, w), prompts.unsqueeze(1),
                                                 prompt_encoder.no_mask_dense(n, h, w));
  return sam_postprocess_masks(low, resized, original, image_size);
}

}  // namespace glamm::model
