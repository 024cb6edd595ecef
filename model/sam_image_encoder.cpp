// SAM ViT image encoder. See sam_image_encoder.h.
#include "model/sam_image_encoder.h"

#include <functional>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

namespace glamm::model {

namespace {

std::string shape_of(const at::Tensor& t) {
  return t.defined() ? shape_text(t.sizes().vec()) : std::string("(missing)");
}

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("SAM image encoder: " + what);
}

/// Contiguous fp32 copy (or the tensor itself when it already is one); throws for a missing tensor.
at::Tensor f32(const at::Tensor& t, const std::string& name) {
  require(t.defined(), "missing parameter " + name);
  return t.to(at::kFloat).contiguous();
}

void expect_shape(const at::Tensor& t, const std::vector<int64_t>& shape, const std::string& name) {
  require(t.sizes().vec() == shape, name + " has shape " + shape_of(t) + ", expected " + shape_text(shape));
}

/// Score bytes allowed for one chunk of heads: the ViT-H global block (64 MiB of scores per head) then runs one
/// head at a time; a ViT-H windowed block (25 windows × 196², 3.7 MiB per head) runs all 16 heads at once.
constexpr int64_t kScoreBudgetBytes = int64_t{64} << 20;

}  // namespace

at::Tensor layer_norm_2d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps) {
  if (x.dim() != 4) throw std::invalid_argument("layer_norm_2d: input must be [N,C,H,W], got " + shape_of(x));
  const int64_t c = x.size(1);
  if (!weight.defined() || !bias.defined() || weight.numel() != c || bias.numel() != c || weight.dim() != 1 ||
      bias.dim() != 1) {
    throw std::invalid_argument("layer_norm_2d: weight/bias must be [" + std::to_string(c) + "], got " +
                                shape_of(weight) + " / " + shape_of(bias));
  }
  // Same operation order as common.py LayerNorm2d.forward.
  const at::Tensor u = x.mean({1}, /*keepdim=*/true);
  const at::Tensor d = x - u;
  const at::Tensor s = d.pow(2).mean({1}, /*keepdim=*/true);
  const at::Tensor n = d / at::sqrt(s + eps);
  return weight.view({c, 1, 1}) * n + bias.view({c, 1, 1});
}

at::Tensor sam_window_partition(const at::Tensor& x, int64_t window, std::pair<int64_t, int64_t>& padded_hw) {
  if (window <= 0) throw std::invalid_argument("sam_window_partition: window must be positive");
  if (x.dim() != 4) throw std::invalid_argument("sam_window_partition: input must be [B,H,W,C], got " + shape_of(x));
  const int64_t b = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3);
  const int64_t pad_h = (window - h % window) % window;
  const int64_t pad_w = (window - w % window) % window;
  at::Tensor xp = x;
  if (pad_h > 0 || pad_w > 0) xp = at::constant_pad_nd(x, {0, 0, 0, pad_w, 0, pad_h}, 0.0);
  const int64_t hp = h + pad_h, wp = w + pad_w;
  padded_hw = {hp, wp};
  return xp.view({b, hp / window, window, wp / window, window, c})
      .permute({0, 1, 3, 2, 4, 5})
      .contiguous()
      .view({-1, window, window, c});
}

at::Tensor sam_window_unpartition(const at::Tensor& windows, int64_t window, std::pair<int64_t, int64_t> padded_hw,
                                  std::pair<int64_t, int64_t> original_hw) {
  const auto [hp, wp] = padded_hw;
  const auto [h, w] = original_hw;
  if (window <= 0 || hp % window != 0 || wp % window != 0 || h > hp || w > wp || windows.dim() != 4 ||
      windows.size(1) != window || windows.size(2) != window) {
    throw std::invalid_argument("sam_window_unpartition: windows " + shape_of(windows) + " do not fit window " +
                                std::to_string(window) + " and padded size " + std::to_string(hp) + "x" +
                                std::to_string(wp));
  }
  const int64_t per_image = (hp / window) * (wp / window);
  if (windows.size(0) % per_image != 0) {
    throw std::invalid_argument("sam_window_unpartition: " + std::to_string(windows.size(0)) +
                                " windows is not a whole number of images of " + std::to_string(per_image));
  }
  const int64_t b = windows.size(0) / per_image;
  at::Tensor x = windows.view({b, hp / window, wp / window, window, window, -1})
                     .permute({0, 1, 3, 2, 4, 5})
                     .contiguous()
                     .view({b, hp, wp, -1});
  if (hp > h || wp > w) x = x.slice(1, 0, h).slice(2, 0, w).contiguous();
  return x;
}

at::Tensor sam_rel_pos_table(int64_t q_size, int64_t k_size, const at::Tensor& rel_pos) {
  const int64_t rows = 2 * std::max(q_size, k_size) - 1;
  if (q_size <= 0 || k_size <= 0 || rel_pos.dim() != 2 || rel_pos.size(0) != rows) {
    throw std::invalid_argument("sam_rel_pos_table: table " + shape_of(rel_pos) + " for q=" + std::to_string(q_size) +
                                ", k=" + std::to_string(k_size) + " needs " + std::to_string(rows) +
                                " rows (no interpolation in this runner)");
  }
  // Float coordinates as in the reference, then truncated to indices (exact for the integer ratios used here).
  const double sq = std::max(static_cast<double>(k_size) / q_size, 1.0);
  const double sk = std::max(static_cast<double>(q_size) / k_size, 1.0);
  std::vector<int64_t> idx(static_cast<size_t>(q_size * k_size));
  for (int64_t i = 0; i < q_size; ++i) {
    for (int64_t j = 0; j < k_size; ++j) {
      idx[static_cast<size_t>(i * k_size + j)] =
          static_cast<int64_t>(static_cast<double>(i) * sq - static_cast<double>(j) * sk + (k_size - 1) * sk);
    }
  }
  const at::Tensor index = at::tensor(idx, at::kLong).to(rel_pos.device());
  return rel_pos.index_select(0, index).view({q_size, k_size, rel_pos.size(1)});
}

SamImageEncoder::SamImageEncoder(Weights weights) : w_(std::move(weights)) {
  Weights& w = w_;
  w.patch_w = f32(w.patch_w, "patch_embed.proj.weight");
  require(w.patch_w.dim() == 4 && w.patch_w.size(1) == 3 && w.patch_w.size(2) == w.patch_w.size(3),
          "patch_embed.proj.weight must be [dim,3,p,p], got " + shape_of(w.patch_w));
  SamImageEncoderConfig& c = config_;
  c.dim = w.patch_w.size(0);
  c.patch = w.patch_w.size(2);
  w.patch_b = f32(w.patch_b, "patch_embed.proj.bias");
  expect_shape(w.patch_b, {c.dim}, "patch_embed.proj.bias");
  w.pos_embed = f32(w.pos_embed, "pos_embed");
  require(w.pos_embed.dim() == 4 && w.pos_embed.size(0) == 1 && w.pos_embed.size(1) == w.pos_embed.size(2) &&
              w.pos_embed.size(3) == c.dim,
          "pos_embed must be [1,g,g," + std::to_string(c.dim) + "], got " + shape_of(w.pos_embed));
  c.grid = w.pos_embed.size(1);
  c.image_size = c.grid * c.patch;
  require(!w.blocks.empty(), "no transformer blocks");
  for (size_t i = 0; i < w.blocks.size(); ++i) {
    Block& b = w.blocks[i];
    const std::string p = "blocks." + std::to_string(i) + ".";
    b.rel_pos_h = f32(b.rel_pos_h, p + "attn.rel_pos_h");
    require(b.rel_pos_h.dim() == 2, p + "attn.rel_pos_h must be 2-D, got " + shape_of(b.rel_pos_h));
    const int64_t rows = b.rel_pos_h.size(0), hd = b.rel_pos_h.size(1);
    b.rel_pos_w = f32(b.rel_pos_w, p + "attn.rel_pos_w");
    expect_shape(b.rel_pos_w, {rows, hd}, p + "attn.rel_pos_w");
    if (i == 0) {
      c.head_dim = hd;
      require(hd > 0 && c.dim % hd == 0, "dim " + std::to_string(c.dim) + " is not a multiple of head_dim " +
                                             std::to_string(hd) + " (rel_pos_h.shape[1])");
      c.heads = c.dim / hd;
    }
    require(hd == c.head_dim, p + "attn.rel_pos_h head_dim " + std::to_string(hd) + " differs from block 0's " +
                                  std::to_string(c.head_dim));
    require(rows % 2 == 1, p + "attn.rel_pos_h has an even row count " + std::to_string(rows));
    if (rows == 2 * c.grid - 1) {
      c.window.push_back(0);
    } else {
      require(rows < 2 * c.grid - 1, p + "attn.rel_pos_h has " + std::to_string(rows) + " rows, more than 2*grid-1");
      c.window.push_back((rows + 1) / 2);
    }
    const int64_t d = c.dim;
    b.norm1_w = f32(b.norm1_w, p + "norm1.weight");
    b.norm1_b = f32(b.norm1_b, p + "norm1.bias");
    b.norm2_w = f32(b.norm2_w, p + "norm2.weight");
    b.norm2_b = f32(b.norm2_b, p + "norm2.bias");
    for (const auto* t : {&b.norm1_w, &b.norm1_b, &b.norm2_w, &b.norm2_b}) expect_shape(*t, {d}, p + "norm*");
    b.qkv_w = f32(b.qkv_w, p + "attn.qkv.weight");
    expect_shape(b.qkv_w, {3 * d, d}, p + "attn.qkv.weight");
    b.qkv_b = f32(b.qkv_b, p + "attn.qkv.bias");
    expect_shape(b.qkv_b, {3 * d}, p + "attn.qkv.bias");
    b.proj_w = f32(b.proj_w, p + "attn.proj.weight");
    expect_shape(b.proj_w, {d, d}, p + "attn.proj.weight");
    b.proj_b = f32(b.proj_b, p + "attn.proj.bias");
    expect_shape(b.proj_b, {d}, p + "attn.proj.bias");
    b.lin1_w = f32(b.lin1_w, p + "mlp.lin1.weight");
    require(b.lin1_w.dim() == 2 && b.lin1_w.size(1) == d, p + "mlp.lin1.weight has shape " + shape_of(b.lin1_w));
    if (i == 0) c.mlp_dim = b.lin1_w.size(0);
    expect_shape(b.lin1_w, {c.mlp_dim, d}, p + "mlp.lin1.weight");
    b.lin1_b = f32(b.lin1_b, p + "mlp.lin1.bias");
    expect_shape(b.lin1_b, {c.mlp_dim}, p + "mlp.lin1.bias");
    b.lin2_w = f32(b.lin2_w, p + "mlp.lin2.weight");
    expect_shape(b.lin2_w, {d, c.mlp_dim}, p + "mlp.lin2.weight");
    b.lin2_b = f32(b.lin2_b, p + "mlp.lin2.bias");
    expect_shape(b.lin2_b, {d}, p + "mlp.lin2.bias");
  }
  w.neck0_w = f32(w.neck0_w, "neck.0.weight");
  require(w.neck0_w.dim() == 4 && w.neck0_w.size(1) == c.dim && w.neck0_w.size(2) == 1 && w.neck0_w.size(3) == 1,
          "neck.0.weight must be [out," + std::to_string(c.dim) + ",1,1], got " + shape_of(w.neck0_w));
  c.out_chans = w.neck0_w.size(0);
  const int64_t o = c.out_chans;
  w.neck1_w = f32(w.neck1_w, "neck.1.weight");
  w.neck1_b = f32(w.neck1_b, "neck.1.bias");
  w.neck3_w = f32(w.neck3_w, "neck.3.weight");
  w.neck3_b = f32(w.neck3_b, "neck.3.bias");
  for (const auto* t : {&w.neck1_w, &w.neck1_b, &w.neck3_w, &w.neck3_b}) expect_shape(*t, {o}, "neck.{1,3}");
  w.neck2_w = f32(w.neck2_w, "neck.2.weight");
  expect_shape(w.neck2_w, {o, o, 3, 3}, "neck.2.weight");
}

SamImageEncoder SamImageEncoder::load(WeightStore& store, const std::string& prefix) {
  Weights w;
  w.patch_w = store.get(prefix + "patch_embed.proj.weight");
  w.patch_b = store.get(prefix + "patch_embed.proj.bias");
  w.pos_embed = store.get(prefix + "pos_embed");
  for (int i = 0;; ++i) {
    const std::string p = prefix + "blocks." + std::to_string(i) + ".";
    if (!store.contains(p + "norm1.weight")) break;
    Block b;
    b.norm1_w = store.get(p + "norm1.weight");
    b.norm1_b = store.get(p + "norm1.bias");
    b.qkv_w = store.get(p + "attn.qkv.weight");
    b.qkv_b = store.get(p + "attn.qkv.bias");
    b.proj_w = store.get(p + "attn.proj.weight");
    b.proj_b = store.get(p + "attn.proj.bias");
    b.rel_pos_h = store.get(p + "attn.rel_pos_h");
    b.rel_pos_w = store.get(p + "attn.rel_pos_w");
    b.norm2_w = store.get(p + "norm2.weight");
    b.norm2_b = store.get(p + "norm2.bias");
    b.lin1_w = store.get(p + "mlp.lin1.weight");
    b.lin1_b = store.get(p + "mlp.lin1.bias");
    b.lin2_w = store.get(p + "mlp.lin2.weight");
    b.lin2_b = store.get(p + "mlp.lin2.bias");
    w.blocks.push_back(std::move(b));
  }
  w.neck0_w = store.get(prefix + "neck.0.weight");
  w.neck1_w = store.get(prefix + "neck.1.weight");
  w.neck1_b = store.get(prefix + "neck.1.bias");
  w.neck2_w = store.get(prefix + "neck.2.weight");
  w.neck3_w = store.get(prefix + "neck.3.weight");
  w.neck3_b = store.get(prefix + "neck.3.bias");
  if (w.blocks.empty()) store.get(prefix + "blocks.0.norm1.weight");  // recorded as missing
  store.finish({prefix});  // every missing / unexpected key under prefix at once
  return SamImageEncoder(std::move(w));
}

at::Tensor SamImageEncoder::attention(const Block& blk, const at::Tensor& x) const {
  // Attention.forward: x [B,H,W,C] → [B,H,W,C].
  const int64_t b = x.size(0), h = x.size(1), w = x.size(2), n = h * w;
  const int64_t heads = config_.heads, hd = config_.head_dim;
  // qkv: [B, N, 3, heads, hd] → [3, B, heads, N, hd]
  const at::Tensor qkv = at::linear(x, blk.qkv_w, blk.qkv_b).reshape({b, n, 3, heads, hd}).permute({2, 0, 3, 1, 4});
  const at::Tensor rh = sam_rel_pos_table(h, h, blk.rel_pos_h);  // [H, H, hd]
  const at::Tensor rw = sam_rel_pos_table(w, w, blk.rel_pos_w);  // [W, W, hd]
  const double scale = std::pow(static_cast<double>(hd), -0.5);  // head_dim**-0.5
  const int64_t per_head = b * n * n * static_cast<int64_t>(sizeof(float));
  const int64_t chunk =
      std::max<int64_t>(1, std::min<int64_t>(heads, kScoreBudgetBytes / std::max<int64_t>(per_head, 1)));
  std::vector<at::Tensor> outs;
  for (int64_t h0 = 0; h0 < heads; h0 += chunk) {
    const int64_t hc = std::min(chunk, heads - h0);
    const at::Tensor q = qkv[0].slice(1, h0, h0 + hc).reshape({b * hc, n, hd});
    const at::Tensor k = qkv[1].slice(1, h0, h0 + hc).reshape({b * hc, n, hd});
    const at::Tensor v = qkv[2].slice(1, h0, h0 + hc).reshape({b * hc, n, hd});
    at::Tensor attn = at::bmm(q * scale, k.transpose(1, 2));  // [b·hc, N, N]
    // add_decomposed_rel_pos, with the unscaled q.
    const at::Tensor r_q = q.view({b * hc, h, w, hd});
    const at::Tensor rel_h = at::einsum("bhwc,hkc->bhwk", {r_q, rh});  // [b·hc, H, W, H]
    const at::Tensor rel_w = at::einsum("bhwc,wkc->bhwk", {r_q, rw});  // [b·hc, H, W, W]
    // In place (same additions, same order as the reference's out-of-place sum): no second score-sized buffer.
    attn.view({b * hc, h, w, h, w}).add_(rel_h.unsqueeze(4)).add_(rel_w.unsqueeze(3));
    attn = at::softmax(attn, -1);
    outs.push_back(at::bmm(attn, v).view({b, hc, h, w, hd}));
  }
  const at::Tensor o = outs.size() == 1 ? outs[0] : at::cat(outs, 1);  // [B, heads, H, W, hd]
  return at::linear(o.permute({0, 2, 3, 1, 4}).reshape({b, h, w, heads * hd}), blk.proj_w, blk.proj_b);
}

at::Tensor SamImageEncoder::block_forward(const Block& blk, int64_t window, const at::Tensor& x) const {
  const double eps = config_.ln_eps;
  const int64_t d = config_.dim;
  at::Tensor y = at::layer_norm(x, {d}, blk.norm1_w, blk.norm1_b, eps);
  if (window > 0) {
    const std::pair<int64_t, int64_t> hw{y.size(1), y.size(2)};
    std::pair<int64_t, int64_t> padded;
    y = sam_window_partition(y, window, padded);
    y = attention(blk, y);
    y = sam_window_unpartition(y, window, padded, hw);
  } else {
    y = attention(blk, y);
  }
  at::Tensor out = x + y;
  const at::Tensor m =
      at::linear(at::gelu(at::linear(at::layer_norm(out, {d}, blk.norm2_w, blk.norm2_b, eps), blk.lin1_w, blk.lin1_b)),
                 blk.lin2_w, blk.lin2_b);
  return out + m;
}

void SamImageEncoder::for_each_weight(const std::function<void(at::Tensor&)>& f) {
  for (at::Tensor* t : {&w_.patch_w, &w_.patch_b, &w_.pos_embed, &w_.neck0_w, &w_.neck1_w, &w_.neck1_b, &w_.neck2_w,
                        &w_.neck3_w, &w_.neck3_b})
    f(*t);
  for (Block& b : w_.blocks)
    for (at::Tensor* t : {&b.norm1_w, &b.norm1_b, &b.qkv_w, &b.qkv_b, &b.proj_w, &b.proj_b, &b.rel_pos_h, &b.rel_pos_w,
                          &b.norm2_w, &b.norm2_b, &b.lin1_w, &b.lin1_b, &b.lin2_w, &b.lin2_b})
      f(*t);
}

void SamImageEncoder::set_compute_dtype(c10::ScalarType dtype) {
  if (!switch_to_bf16(dtype, bf16_, "SAM image encoder")) return;
  c10::InferenceMode guard;
  for_each_weight([](at::Tensor& t) {
    if (t.defined()) t = t.to(at::kBFloat16);
  });
  bf16_ = true;
}

void SamImageEncoder::to(const c10::Device& device) {
  c10::InferenceMode guard;
  for_each_weight([&](at::Tensor& t) {
    if (t.defined()) t = t.to(device);
  });
}

at::Tensor SamImageEncoder::forward(const at::Tensor& image_in) const {
  const SamImageEncoderConfig& c = config_;
  if (!image_in.defined() || image_in.dim() != 4 || image_in.size(1) != 3 || image_in.size(2) != c.image_size ||
      image_in.size(3) != c.image_size ||
      (image_in.scalar_type() != at::kFloat && !(bf16_ && image_in.scalar_type() == at::kBFloat16))) {
    throw std::invalid_argument(std::string("SAM image encoder: input must be ") + (bf16_ ? "float32 or bf16" : "float32") +
                                " [B,3," + std::to_string(c.image_size) + "," + std::to_string(c.image_size) +
                                "], got " + shape_of(image_in));
  }
  c10::InferenceMode guard;
  // On the weights' device; the reference's image.bfloat16() in bf16 mode.
  const at::Tensor image = image_in.to(w_.patch_w.device(), bf16_ ? at::kBFloat16 : at::kFloat);
  at::Tensor x = at::conv2d(image, w_.patch_w, w_.patch_b, {c.patch, c.patch}).permute({0, 2, 3, 1});
  x = x + w_.pos_embed;
  for (size_t i = 0; i < w_.blocks.size(); ++i) x = block_forward(w_.blocks[i], c.window[i], x);
  at::Tensor y = at::conv2d(x.permute({0, 3, 1, 2}), w_.neck0_w);
  y = layer_norm_2d(y, w_.neck1_w, w_.neck1_b, c.ln_eps);
  y = at::conv2d(y, w_.neck2_w, {}, {1, 1}, {1, 1});
  return layer_norm_2d(y, w_.neck3_w, w_.neck3_b, c.ln_eps);
}

}  // namespace glamm::model
