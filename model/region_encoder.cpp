// GLaMM region encoder (see region_encoder.h): box preparation, MLVLFuseModule, MlvlRoIExtractor.
#include "model/region_encoder.h"

#include <functional>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <string>

#include "common/error.h"
#include "model/roi_align.h"
#include "model/roi_align_aten.h"

namespace glamm::model {
namespace {

constexpr int kLevels = 4;          // CLIP layers 14, 17, 20, 23
constexpr int kFuseRounds = 5;      // MLVLFuseModule num_fuse
constexpr int kGroups = 64;         // GroupNorm groups of the fuse convs
constexpr int64_t kGrid = 24;       // CLIP token grid (576 tokens; the reference asserts 24×24)
constexpr int kRoiSize = 14;        // RoIAlign output
constexpr int kSamplingRatio = 2;
constexpr double kBoxScale = 224;   // MlvlRoIExtractor: rois * 224 (not 336)
constexpr double kClipSize = 336;   // region_captioning/infer.py scales boxes to 336 then divides by 336
// featmap_strides of MLVLROIQueryModule; RoIAlign spatial_scale = 1 / stride (mmdet build_roi_layers).
constexpr std::array<double, kLevels> kStrides = {14.0 / 8, 14.0 / 4, 14.0 / 2, 14.0};

const char* const kCoordNames[4] = {"x1", "y1", "x2", "y2"};

std::string box_record(std::size_t k) { return "region box " + std::to_string(k); }

at::Tensor f32(const at::Tensor& t) { return t.defined() ? as_dtype(t, at::kFloat) : t; }

/// Bilinear resize with align_corners=True in float32 (F.interpolate(size=..., mode='bilinear')).
at::Tensor resize(const at::Tensor& x, int64_t h, int64_t w) {
  return at::upsample_bilinear2d(x.to(at::kFloat), {h, w}, /*align_corners=*/true);
}

}  // namespace

at::Tensor prepare_region_boxes(const std::vector<RegionBox>& boxes, int64_t image_width, int64_t image_height) {
  if (image_width <= 0 || image_height <= 0) {
    throw InputError("", "region boxes",
                     "image size must be positive, got " + std::to_string(image_width) + "x" +
                         std::to_string(image_height));
  }
  const auto n = static_cast<int64_t>(boxes.size());
  const double x_scale = kClipSize / static_cast<double>(image_width);
  const double y_scale = kClipSize / static_cast<double>(image_height);
  at::Tensor norm = at::empty({n, 4}, at::kDouble);
  double* v = norm.data_ptr<double>();
  for (std::size_t k = 0; k < boxes.size(); ++k) {
    const double raw[4] = {boxes[k].x1, boxes[k].y1, boxes[k].x2, boxes[k].y2};
    for (int j = 0; j < 4; ++j) {
      if (!std::isfinite(raw[j])) {
        throw InputError("", box_record(k),
                         std::string(kCoordNames[j]) + " is " + (std::isnan(raw[j]) ? "NaN" : "infinite"));
      }
      // Scale to the 336 frame, then normalise by 336 (both in float64, as the reference).
      v[k * 4 + j] = raw[j] * (j % 2 == 0 ? x_scale : y_scale) / kClipSize;
    }
  }
  // .half() (float64 → float32 → float16, as torch's conversion does) then .to(bfloat16).
  const at::Tensor half = norm.to(at::kHalf);
  const at::Tensor as_float = half.to(at::kFloat);
  const float* h = as_float.data_ptr<float>();
  for (int64_t i = 0; i < n * 4; ++i) {
    if (!std::isfinite(h[i])) {
      char value[32];
      std::snprintf(value, sizeof value, "%g", v[i]);
      throw InputError("", box_record(static_cast<std::size_t>(i / 4)),
                       std::string(kCoordNames[i % 4]) + " normalises to " + value +
                           " image sizes, beyond the float16 range (the reference would compute with inf)");
    }
  }
  return half.to(at::kBFloat16).to(at::kFloat);
}

at::Tensor region_rois(const at::Tensor& normalized_boxes) {
  if (normalized_boxes.dim() != 2 || normalized_boxes.size(1) != 4) {
    throw InputError("", "region boxes",
                     "normalised boxes must be [n, 4], got " + shape_text(normalized_boxes.sizes().vec()));
  }
  // The reference multiplies the bf16 box tensor by 224, so the product is rounded to bf16.
  const at::Tensor scaled = normalized_boxes.to(at::kCPU).to(at::kBFloat16).mul(kBoxScale);
  const at::Tensor batch = at::zeros({normalized_boxes.size(0), 1}, at::kBFloat16);
  return at::cat({batch, scaled}, 1).to(at::kFloat);
}

at::Tensor roi_align(const at::Tensor& feature, const at::Tensor& rois, double spatial_scale, int pooled,
                     int sampling_ratio, bool aligned) {
  if (feature.dim() != 4 || feature.size(1) <= 0 || feature.size(2) <= 0 || feature.size(3) <= 0) {
    throw InputError("", "roi_align", "feature map must be [B, C, H, W], got " + shape_text(feature.sizes().vec()));
  }
  if (rois.dim() != 2 || rois.size(1) != 5) {
    throw InputError("", "roi_align", "rois must be [n, 5], got " + shape_text(rois.sizes().vec()));
  }
  if (pooled <= 0) throw InputError("", "roi_align", "pooled size must be positive");
  RoiAlignParams p;
  p.pooled_height = p.pooled_width = pooled;
  p.sampling_ratio = sampling_ratio;
  p.spatial_scale = spatial_scale;
  p.aligned = aligned;
  // The RoIs are few (n × 5): their batch indices are checked on a CPU copy, whichever path computes.
  const at::Tensor boxes = rois.to(at::kCPU, at::kFloat).contiguous();
  const int64_t B = feature.size(0), n = boxes.size(0);
  const float* r = boxes.data_ptr<float>();
  for (int64_t k = 0; k < n; ++k) {
    const float b = r[k * 5];
    if (!(b >= 0 && b < static_cast<float>(B) && b == std::floor(b))) {
      throw InputError("", "roi_align",
                       "roi " + std::to_string(k) + ": batch index " + std::to_string(b) + " is not in [0, " +
                           std::to_string(B) + ")");
    }
  }
  // A map that is not float32 on the CPU (a GPU map, a bf16 map) takes the tensor-operation path on its own
  // device and keeps its dtype; it gives the same float32 values as the kernel below (model/roi_align_aten.h).
  const at::Tensor map_in = at::isFloatingType(feature.scalar_type()) ? feature : feature.to(at::kFloat);
  if (!map_in.device().is_cpu() || map_in.scalar_type() != at::kFloat) return roi_align_aten(map_in, rois, p);

  const at::Tensor map = map_in.contiguous();
  const int64_t C = map.size(1), H = map.size(2), W = map.size(3);
  at::Tensor out = at::empty({n, C, pooled, pooled}, at::kFloat);
  const float* in = map.data_ptr<float>();
  float* o = out.data_ptr<float>();
  for (int64_t k = 0; k < n; ++k) {
    const float* plane0 = in + static_cast<int64_t>(r[k * 5]) * C * H * W;
    const float* box = r + k * 5 + 1;
    float* dst = o + k * C * pooled * pooled;
    // Channels are independent: split them over threads (each output element is computed the same way).
    at::parallel_for(0, C, 16, [&](int64_t c0, int64_t c1) {
      roi_align_chw(plane0 + c0 * H * W, c1 - c0, H, W, box, p, dst + c0 * pooled * pooled);
    });
  }
  return out;
}

RegionEncoder RegionEncoder::load(WeightStore& store, const std::string& prefix) {
  RegionEncoder m;
  const std::string fuse = prefix + "mlvl_fuse.", roi = prefix + "roi_align.";
  auto dim = [&](const std::string& name, std::size_t d) -> int64_t {
    if (!store.contains(name)) return -1;
    const auto s = store.shape(name);
    return s.size() > d ? s[d] : -1;
  };
  const int64_t E = dim(fuse + "input_conv.0.weight", 0);
  const int64_t P = dim(roi + "pos_embedd.0.weight", 0);
  const int64_t Dh = dim(roi + "flatten_linear.weight", 0);
  const int64_t D = dim(roi + "updims.weight", 0);
  if (E != -1 && (E <= 0 || E % kGroups != 0)) {
    throw InputError(store.path().string(), fuse + "input_conv.0.weight",
                     "region embed size " + std::to_string(E) + " is not a positive multiple of " +
                         std::to_string(kGroups) + " (GroupNorm groups)");
  }
  m.embed_ = E;
  m.pos_hidden_ = P;
  m.hidden_ = Dh;
  m.out_ = D;
  m.complete_ = E > 0 && P > 0 && Dh > 0 && D > 0;
  // Expected shape, or none when a size it depends on is unknown (the missing key is reported anyway).
  auto want = [](std::initializer_list<int64_t> dims) {
    std::vector<int64_t> s(dims);
    return std::any_of(s.begin(), s.end(), [](int64_t d) { return d <= 0; }) ? std::vector<int64_t>{} : s;
  };
  auto fetch = [&](const std::string& name, const std::vector<int64_t>& shape) {
    at::Tensor t = store.get(name, shape);
    if (!t.defined() || shape.empty() || t.sizes().vec() != shape) m.complete_ = false;
    return t;
  };
  for (int l = 0; l < kLevels; ++l) {
    const std::string base = fuse + "input_conv." + std::to_string(l);
    m.input_conv_.push_back({fetch(base + ".weight", want({E, E + 2, 1, 1})), fetch(base + ".bias", want({E}))});
  }
  for (int r = 0; r < kFuseRounds; ++r) {
    const std::string base = fuse + "fuse_convs." + std::to_string(r);
    m.fuse_conv_.push_back({fetch(base + ".conv.weight", want({E, E, 3, 3})), at::Tensor()});
    m.fuse_gn_.push_back({fetch(base + ".gn.weight", want({E})), fetch(base + ".gn.bias", want({E}))});
  }
  for (int l = 0; l < kLevels; ++l) {
    const std::string base = roi + "pconvs." + std::to_string(l);
    m.pconv_.push_back({fetch(base + ".weight", want({E, E, 3, 3})), fetch(base + ".bias", want({E}))});
  }
  m.pos0_ = {fetch(roi + "pos_embedd.0.weight", want({P, 4})), fetch(roi + "pos_embedd.0.bias", want({P}))};
  m.pos2_ = {fetch(roi + "pos_embedd.2.weight", want({P})), fetch(roi + "pos_embedd.2.bias", want({P}))};
  m.pos3_ = {fetch(roi + "pos_embedd.3.weight", want({Dh, P})), fetch(roi + "pos_embedd.3.bias", want({Dh}))};
  m.pos5_ = {fetch(roi + "pos_embedd.5.weight", want({Dh})), fetch(roi + "pos_embedd.5.bias", want({Dh}))};
  m.flatten_ = {fetch(roi + "flatten_linear.weight", want({Dh, E * kRoiSize * kRoiSize})),
                fetch(roi + "flatten_linear.bias", want({Dh}))};
  m.updims_ = {fetch(roi + "updims.weight", want({D, Dh})), fetch(roi + "updims.bias", want({D}))};
  return m;
}

void RegionEncoder::for_each_weight(const std::function<void(at::Tensor&)>& f) {
  for (auto* v : {&input_conv_, &fuse_conv_, &pconv_})
    for (Conv& c : *v) {
      f(c.weight);
      f(c.bias);
    }
  for (Norm& n : fuse_gn_) {
    f(n.weight);
    f(n.bias);
  }
  for (Conv* c : {&pos0_, &pos3_, &flatten_, &updims_}) {
    f(c->weight);
    f(c->bias);
  }
  for (Norm* n : {&pos2_, &pos5_}) {
    f(n->weight);
    f(n->bias);
  }
}

void RegionEncoder::set_compute_dtype(c10::ScalarType dtype) {
  if (!switch_to_bf16(dtype, bf16_, "region encoder")) return;
  c10::InferenceMode guard;
  for_each_weight([](at::Tensor& t) {
    if (t.defined()) t = t.to(at::kBFloat16);
  });
  bf16_ = true;
}

void RegionEncoder::to(const c10::Device& device) {
  c10::InferenceMode guard;
  for_each_weight([&](at::Tensor& t) {
    if (t.defined()) t = t.to(device);
  });
}

void RegionEncoder::require_complete() const {
  if (!complete_) {
    throw InputError("", "region encoder",
                     "weights are missing or mis-shaped (WeightStore::finish() lists them); cannot run");
  }
}

at::Tensor RegionEncoder::linear(const at::Tensor& x, const Conv& layer) {
  const at::Tensor& w = layer.weight;
  if (x.scalar_type() == at::kBFloat16) return at::linear(x, w, layer.bias);  // bf16 mode: weights are bf16
  if (w.scalar_type() == at::kFloat) return at::linear(x, w, layer.bias.defined() ? f32(layer.bias) : layer.bias);
  // Up-cast a stored (bf16) weight in row blocks of at most ~64 MB of float32, so that flatten_linear of the
  // real model (1024 × 200704) never needs a full float32 copy.
  const int64_t rows = w.size(0), cols = std::max<int64_t>(w.size(1), 1);
  const int64_t block = std::max<int64_t>(1, (int64_t{64} << 20) / (cols * 4));
  if (block >= rows) return at::linear(x, f32(w), f32(layer.bias));
  std::vector<at::Tensor> parts;
  for (int64_t r0 = 0; r0 < rows; r0 += block) {
    const int64_t r1 = std::min(rows, r0 + block);
    parts.push_back(at::linear(x, f32(w.slice(0, r0, r1)),
                               layer.bias.defined() ? f32(layer.bias.slice(0, r0, r1)) : at::Tensor()));
  }
  return at::cat(parts, -1);
}

std::vector<at::Tensor> RegionEncoder::fuse(const at::Tensor& levels_in) const {
  require_complete();
  const int64_t E = embed_;
  at::Tensor levels = levels_in;
  if (levels.dim() == 4 && levels.size(1) == 1) levels = levels.squeeze(1);
  if (levels.dim() != 3 || levels.size(0) != kLevels || levels.size(1) != kGrid * kGrid || levels.size(2) != E) {
    throw InputError("", "region encoder",
                     "CLIP levels must be [4, 576, " + std::to_string(E) + "], got " +
                         shape_text(levels_in.sizes().vec()));
  }
  levels = levels.to(input_conv_[0].weight.device(), at::kFloat);
  // bf16 mode (the official run): maps bf16 between ops, resizes in fp32 and cast back, as layers.py does.
  const bool bf = bf16_;
  auto W = [bf](const at::Tensor& t) { return bf || !t.defined() ? t : f32(t); };

  // Resize to 192/96/48/24 (base grid × 2^(3−level)), then the bf16 round trip of the reference's
  // `.to(torch.bfloat16)` (kept in fp32, README Deviations 2); add the coordinate channels; input_conv.
  std::vector<at::Tensor> cur;
  for (int l = 0; l < kLevels; ++l) {
    const int64_t s = kGrid << (kLevels - 1 - l);
    at::Tensor x = levels[l].reshape({1, kGrid, kGrid, E}).permute({0, 3, 1, 2});
    x = resize(x, s, s).to(at::kBFloat16);
    if (!bf) x = x.to(at::kFloat);
    const auto lopt = at::TensorOptions().dtype(at::kFloat).device(x.device());
    const at::Tensor xs = at::linspace(-1, 1, s, lopt), ys = at::linspace(-1, 1, s, lopt);
    const at::Tensor coord = at::stack({xs.unsqueeze(0).expand({s, s}), ys.unsqueeze(1).expand({s, s})}).unsqueeze(0);
    x = at::cat({x, coord.to(x.scalar_type())}, 1);  // bf16 mode: coord_feat.to(feat.dtype)
    cur.push_back(at::conv2d(x, W(input_conv_[l].weight), W(input_conv_[l].bias)));
  }

  // 5 rounds; each round reads the previous round's 4 maps. Level l keeps its channels [0, remain), takes
  // channels [remain + shuffle, E) of level min(l+1, 3) and [remain, remain + shuffle) of level max(l−1, 0),
  // both resized to its size (bilinear, align_corners, fp32), then conv3×3 (no bias) → GroupNorm → ReLU.
  const int64_t shuffle = E / 4, remain = E - 2 * shuffle;
  for (int r = 0; r < kFuseRounds; ++r) {
    const at::Tensor w = W(fuse_conv_[r].weight);
    const at::Tensor gw = W(fuse_gn_[r].weight), gb = W(fuse_gn_[r].bias);
    std::vector<at::Tensor> next;
    for (int l = 0; l < kLevels; ++l) {
      const int top = std::min(l + 1, kLevels - 1), down = std::max(l - 1, 0);
      const int64_t h = cur[l].size(2), wd = cur[l].size(3);
      const auto dt = cur[l].scalar_type();  // from_top.to(remain.dtype), from_down likewise
      const at::Tensor from_top = resize(cur[top].slice(1, remain + shuffle, E), h, wd).to(dt);
      const at::Tensor from_down = resize(cur[down].slice(1, remain, remain + shuffle), h, wd).to(dt);
      at::Tensor x = at::cat({cur[l].slice(1, 0, remain), from_top, from_down}, 1);
      x = at::conv2d(x, w, {}, /*stride=*/1, /*padding=*/1);
      x = at::group_norm(x, kGroups, gw, gb, 1e-5);
      next.push_back(at::relu(x));
    }
    cur = std::move(next);
  }
  return cur;
}

at::Tensor RegionEncoder::extract(const std::vector<at::Tensor>& fused, const at::Tensor& boxes_in,
                                  RegionTrace* trace) const {
  require_complete();
  if (fused.size() != kLevels) {
    throw InputError("", "region encoder", "expected 4 fused maps, got " + std::to_string(fused.size()));
  }
  if (boxes_in.dim() != 2 || boxes_in.size(1) != 4) {
    throw InputError("", "region encoder", "boxes must be [n, 4], got " + shape_text(boxes_in.sizes().vec()));
  }
  const bool bf = bf16_;
  auto W = [bf](const at::Tensor& t) { return bf || !t.defined() ? t : f32(t); };
  const at::Tensor boxes = boxes_in.to(pos0_.weight.device(), at::kFloat);
  // pos_embedd: Linear → ReLU → LayerNorm → Linear → ReLU → LayerNorm on the (bf16-valued) normalised box.
  const at::Tensor box_in = bf ? boxes.to(at::kBFloat16) : boxes;  // batch_rois.to(feats[0].dtype)
  at::Tensor pos = at::relu(linear(box_in, pos0_));
  pos = at::layer_norm(pos, {pos_hidden_}, W(pos2_.weight), W(pos2_.bias), 1e-5);
  pos = at::relu(linear(pos, pos3_));
  pos = at::layer_norm(pos, {hidden_}, W(pos5_.weight), W(pos5_.bias), 1e-5);

  const at::Tensor rois = region_rois(boxes);
  std::vector<at::Tensor> feats;
  at::Tensor sum;
  for (int l = 0; l < kLevels; ++l) {
    // RoIAlign on an fp32 copy of the map (both modes), the result cast to the map's dtype (roi_feats_t.to(ori_dtype)).
    feats.push_back(roi_align(fused[l].to(at::kFloat), rois, 1.0 / kStrides[l], kRoiSize, kSamplingRatio, true)
                        .to(fused[l].scalar_type()));
    const at::Tensor y = at::conv2d(feats.back(), W(pconv_[l].weight), W(pconv_[l].bias), 1, 1);
    sum = sum.defined() ? sum + y : y;  // Python sum(): 0 + y0 + y1 + y2 + y3
  }
  at::Tensor x = at::relu(sum).flatten(1);  // (C, 14, 14) order
  x = linear(x, flatten_) + pos;
  x = linear(x, updims_);
  if (bf) x = x.to(at::kFloat);  // fp32 tensor holding the bf16 values
  if (trace != nullptr) {
    trace->boxes = boxes;
    trace->rois = rois;
    trace->pos_embed = pos;
    trace->roi_feats = at::stack(feats);
    trace->fused.clear();
    for (const auto& f : fused) trace->fused.push_back(f.squeeze(0));
  }
  return x;
}

at::Tensor RegionEncoder::forward(const at::Tensor& levels, const std::vector<RegionBox>& boxes,
                                  int64_t image_width, int64_t image_height, RegionTrace* trace) const {
  require_complete();
  const at::Tensor prepared = prepare_region_boxes(boxes, image_width, image_height);
  if (boxes.empty()) return at::zeros({0, out_}, at::kFloat);
  return extract(fuse(levels), prepared, trace);
}

}  // namespace glamm::model
