// CLIP ViT vision tower forward pass (ATen ops, fp32) and its weight loading. See clip_vision.h.
#include "model/clip_vision.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "common/error.h"

namespace glamm::model {
namespace {

at::Tensor f32(const at::Tensor& t) { return as_dtype(t, at::kFloat); }

}  // namespace

ClipVisionTower ClipVisionTower::load(WeightStore& ws, const ClipVisionConfig& c, int64_t select_layer,
                                      int64_t num_levels) {
  ClipVisionTower t;
  t.config_ = c;
  const int64_t C = c.hidden_size, I = c.intermediate_size;
  const std::string p = "vision_model.";
  ws.ignore({p + "post_layernorm.*", p + "embeddings.position_ids", "text_model.*", "text_projection.*",
             "visual_projection.*", "logit_scale"});
  t.class_embedding_ = ws.get(p + "embeddings.class_embedding", {C});
  t.patch_weight_ = ws.get(p + "embeddings.patch_embedding.weight", {C, c.num_channels, c.patch_size, c.patch_size});
  t.position_embedding_ = ws.get(p + "embeddings.position_embedding.weight", {c.num_positions(), C});
  t.pre_ln_w_ = ws.get(p + "pre_layrnorm.weight", {C});
  t.pre_ln_b_ = ws.get(p + "pre_layrnorm.bias", {C});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string q = p + "encoder.layers." + std::to_string(l) + ".";
    Layer L;
    L.ln1_w = ws.get(q + "layer_norm1.weight", {C});
    L.ln1_b = ws.get(q + "layer_norm1.bias", {C});
    L.q_w = ws.get(q + "self_attn.q_proj.weight", {C, C});
    L.q_b = ws.get(q + "self_attn.q_proj.bias", {C});
    L.k_w = ws.get(q + "self_attn.k_proj.weight", {C, C});
    L.k_b = ws.get(q + "self_attn.k_proj.bias", {C});
    L.v_w = ws.get(q + "self_attn.v_proj.weight", {C, C});
    L.v_b = ws.get(q + "self_attn.v_proj.bias", {C});
    L.o_w = ws.get(q + "self_attn.out_proj.weight", {C, C});
    L.o_b = ws.get(q + "self_attn.out_proj.bias", {C});
    L.ln2_w = ws.get(q + "layer_norm2.weight", {C});
    L.ln2_b = ws.get(q + "layer_norm2.bias", {C});
    L.fc1_w = ws.get(q + "mlp.fc1.weight", {I, C});
    L.fc1_b = ws.get(q + "mlp.fc1.bias", {I});
    L.fc2_w = ws.get(q + "mlp.fc2.weight", {C, I});
    L.fc2_b = ws.get(q + "mlp.fc2.bias", {C});
    t.layers_.push_back(std::move(L));
  }
  t.set_layers(select_layer, num_levels, ws.path().string());
  return t;
}

void ClipVisionTower::set_layers(int64_t select_layer, int64_t num_levels, const std::string& source) {
  const ClipVisionConfig& c = config_;
  // hidden_states has num_hidden_layers + 1 entries (index 0 = pre-LN'd embeddings).
  const int64_t n_hs = c.num_hidden_layers + 1;
  if (select_layer >= 0 || select_layer < -n_hs)
    throw InputError(source, "mm_vision_select_layer",
                     std::to_string(select_layer) + " is outside the " + std::to_string(n_hs) + " hidden states");
  select_index_ = n_hs + select_layer;
  // hidden_states[-2::-3] (indices n_hs-2, n_hs-5, ... >= 0), reversed, then the last num_levels of that list.
  std::vector<int64_t> all;
  for (int64_t i = n_hs - 2; i >= 0; i -= 3) all.push_back(i);
  std::reverse(all.begin(), all.end());
  if (num_levels <= 0 || static_cast<int64_t>(all.size()) < num_levels)
    throw InputError(source, "num_level_reg_features",
                     "a CLIP tower of " + std::to_string(c.num_hidden_layers) + " layers gives " +
                         std::to_string(all.size()) + " region levels, fewer than " + std::to_string(num_levels));
  level_indices_.assign(all.end() - num_levels, all.end());
}

ClipVisionTower ClipVisionTower::random(const ClipVisionConfig& c, uint64_t seed, int64_t select_layer,
                                        int64_t num_levels) {
  c10::InferenceMode guard;
  ClipVisionTower t;
  t.config_ = c;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto opt = at::TensorOptions().dtype(at::kFloat);
  auto normal = [&](std::vector<int64_t> shape) { return at::randn(shape, gen, opt) * 0.02; };
  auto ones = [&](int64_t n) { return at::ones({n}, opt); };
  auto zeros = [&](int64_t n) { return at::zeros({n}, opt); };
  const int64_t C = c.hidden_size, I = c.intermediate_size;
  t.class_embedding_ = normal({C});
  t.patch_weight_ = normal({C, c.num_channels, c.patch_size, c.patch_size});
  t.position_embedding_ = normal({c.num_positions(), C});
  t.pre_ln_w_ = ones(C);
  t.pre_ln_b_ = zeros(C);
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    Layer L{ones(C), zeros(C), normal({C, C}), zeros(C), normal({C, C}), zeros(C), normal({C, C}), zeros(C),
            normal({C, C}), zeros(C), ones(C), zeros(C), normal({I, C}), zeros(I), normal({C, I}), zeros(C)};
    t.layers_.push_back(std::move(L));
  }
  t.set_layers(select_layer, num_levels, "random CLIP");
  return t;
}

ClipVisionTower ClipVisionTower::load_folder(const std::filesystem::path& folder, int64_t select_layer,
                                             int64_t num_levels) {
  const std::filesystem::path cfg_file = folder / "config.json";
  const ClipVisionConfig cfg = ClipVisionConfig::from_json_file(cfg_file);
  WeightStore ws = WeightStore::open(folder);
  cfg.check_shapes(
      [&ws](const std::string& n) -> std::optional<std::vector<int64_t>> {
        if (!ws.contains(n)) return std::nullopt;
        return ws.shape(n);
      },
      cfg_file.string());
  ClipVisionTower t = load(ws, cfg, select_layer, num_levels);
  ws.finish({"vision_model."});
  return t;
}

void ClipVisionTower::set_compute_dtype(c10::ScalarType dtype) {
  if (!switch_to_bf16(dtype, dtype_ == at::kBFloat16, "CLIP")) return;
  c10::InferenceMode guard;
  auto cast = [](at::Tensor& t) { t = t.to(at::kBFloat16); };
  for (at::Tensor* t : {&class_embedding_, &patch_weight_, &position_embedding_, &pre_ln_w_, &pre_ln_b_}) cast(*t);
  for (Layer& L : layers_)
    for (at::Tensor* t : {&L.ln1_w, &L.ln1_b, &L.q_w, &L.q_b, &L.k_w, &L.k_b, &L.v_w, &L.v_b, &L.o_w, &L.o_b, &L.ln2_w,
                          &L.ln2_b, &L.fc1_w, &L.fc1_b, &L.fc2_w, &L.fc2_b})
      cast(*t);
  dtype_ = dtype;
}

void ClipVisionTower::to(const c10::Device& device) {
  for (at::Tensor* t : {&class_embedding_, &patch_weight_, &position_embedding_, &pre_ln_w_, &pre_ln_b_})
    *t = t->to(device);
  for (Layer& L : layers_)
    for (at::Tensor* t : {&L.ln1_w, &L.ln1_b, &L.q_w, &L.q_b, &L.k_w, &L.k_b, &L.v_w, &L.v_b, &L.o_w, &L.o_b, &L.ln2_w,
                          &L.ln2_b, &L.fc1_w, &L.fc1_b, &L.fc2_w, &L.fc2_b})
      *t = t->to(device);
}

ClipVisionOutput ClipVisionTower::forward(const at::Tensor& pixel_values) const {
  c10::InferenceMode guard;
  const ClipVisionConfig& c = config_;
  at::Tensor px = pixel_values;
  if (px.dim() == 3) px = px.unsqueeze(0);
  if (px.dim() != 4 || px.size(0) != 1 || px.size(1) != c.num_channels || px.size(2) != c.image_size ||
      px.size(3) != c.image_size)
    throw std::invalid_argument("CLIP pixel_values must be [1," + std::to_string(c.num_channels) + "," +
                                std::to_string(c.image_size) + "," + std::to_string(c.image_size) + "], got " +
                                shape_text(px.sizes().vec()));
  // fp32: weights up-cast per use. bf16 (the official run): weights and activations bf16, each op rounding its
  // result (LayerNorm and softmax compute in fp32 inside the op, as on the GPU).
  const bool bf = dtype_ == at::kBFloat16;
  auto W = [bf](const at::Tensor& t) { return bf ? t : f32(t); };
  px = px.to(pre_ln_w_.device(), bf ? at::kBFloat16 : at::kFloat).contiguous();
  const int64_t C = c.hidden_size, H = c.num_attention_heads, D = c.head_dim();
  const double eps = c.layer_norm_eps;
  // Embeddings: conv patchify (no bias) → [576, C], CLS first, + learned positions, then pre_layrnorm.
  at::Tensor patches = at::conv2d(px, W(patch_weight_), {}, c.patch_size).flatten(2).squeeze(0).t();
  at::Tensor x = at::cat({W(class_embedding_).unsqueeze(0), patches}, 0) + W(position_embedding_);
  x = at::layer_norm(x, {C}, W(pre_ln_w_), W(pre_ln_b_), eps);

  const int64_t last_needed = std::max(select_index_, level_indices_.back());
  std::vector<at::Tensor> keep(last_needed + 1);
  keep[0] = x;
  const int64_t T = x.size(0);
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  for (int64_t l = 0; l < last_needed; ++l) {
    const Layer& L = layers_[l];
    // Self-attention (pre-LN); q is scaled before QKᵀ as CLIPAttention does; no mask.
    at::Tensor h = at::layer_norm(x, {C}, W(L.ln1_w), W(L.ln1_b), eps);
    at::Tensor q = (at::linear(h, W(L.q_w), W(L.q_b)) * scale).view({T, H, D}).transpose(0, 1);
    at::Tensor k = at::linear(h, W(L.k_w), W(L.k_b)).view({T, H, D}).transpose(0, 1);
    at::Tensor v = at::linear(h, W(L.v_w), W(L.v_b)).view({T, H, D}).transpose(0, 1);
    at::Tensor attn = at::softmax(at::bmm(q, k.transpose(1, 2)), -1);
    at::Tensor o = at::bmm(attn, v).transpose(0, 1).reshape({T, C});
    x = x + at::linear(o, W(L.o_w), W(L.o_b));
    // MLP with quick_gelu: x·sigmoid(1.702x).
    h = at::layer_norm(x, {C}, W(L.ln2_w), W(L.ln2_b), eps);
    h = at::linear(h, W(L.fc1_w), W(L.fc1_b));
    h = h * at::sigmoid(h * 1.702);
    x = x + at::linear(h, W(L.fc2_w), W(L.fc2_b));
    keep[l + 1] = x;
  }
  if (bf)  // callers get fp32 tensors holding the bf16 values (exact)
    for (int64_t i = 0; i <= last_needed; ++i) keep[i] = keep[i].to(at::kFloat);
  ClipVisionOutput out;
  const at::Tensor& sel = keep[select_index_];
  out.patches = sel.narrow(0, 1, T - 1).contiguous();
  out.cls = sel[0].contiguous();
  std::vector<at::Tensor> levels;
  for (int64_t i : level_indices_) levels.push_back(keep[i].narrow(0, 1, T - 1));
  out.region_levels = at::stack(levels, 0);
  return out;
}

}  // namespace glamm::model
