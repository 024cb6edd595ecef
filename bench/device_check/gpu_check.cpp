// The GPU check of issue #16, in one program that a lent GPU machine runs in one call (bench/gpu_check.sh):
//   (a) the golden tiny-model LLM cases (six prompts: GCG and region captioning, both images; inputs from the golden
//       tensors) greedy-decoded on the device in fp32 and in bf16, against the fp32 CPU golden tokens (fp32 must
//       be equal; bf16 agreement reported), plus batch 4 against batch 1 on the device; for the GCG cases the
//       [SEG] states of the run go through text_hidden_fcs and the SAM encoder / prompt encoder / mask decoder on
//       the device, and the masks are compared with the golden RLE (pixels that differ, IoU);
//   (b) real-size figures with random weights on the device: LLaMA-7B decode (N layers scaled to 32, plus
//       lm_head) at batch 1 and 8, prefill tokens/s, CLIP ViT-L/14-336 per image, SAM ViT-H encoder
//       (extrapolated from one windowed and one global block);
// and writes them as JSON next to the printed table. Runs on the CPU too (--device cpu), which is how it is
// dry-run on machines without a GPU (small --layers, --no-real for the tiny part only).
// Usage: gpu_check --data DIR [--device cuda|cuda:N|cpu] [--json OUT] [--layers N (2)] [--prefill T (650)]
//                  [--decode N (16)] [--no-real] [--no-tiny]
// DIR holds what bench/device_check/prepare.sh writes: tiny-glamm/ (config.json + model.safetensors) and
// golden/ (image__*.safetensors, <case>.safetensors, gcg__*.json).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#if GLAMM_WITH_TORCH
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <c10/core/InferenceMode.h>

#include <nlohmann/json.hpp>

#include "common/io.h"
#include "common/safetensors.h"
#include "model/clip_vision.h"
#include "model/generation.h"
#include "model/glamm_config.h"
#include "model/llama.h"
#include "model/region_encoder.h"
#include "metrics/mask/rle.h"
#include "model/sam_image_encoder.h"
#include "model/sam_mask_decoder.h"
#include "model/weights.h"
#endif

namespace fs = std::filesystem;

#if GLAMM_WITH_TORCH
using namespace glamm::model;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// Wait for the device: reading one value back synchronises the stream that produced `t`.
void sync(const at::Tensor& t) { (void)t.to(at::kFloat).sum().item<float>(); }

at::Tensor golden(const glamm::safetensors::File& f, const std::string& name, at::ScalarType t) {
  const auto& v = f.at(name);
  at::Tensor out = at::empty(v.shape, at::TensorOptions().dtype(t));
  std::memcpy(out.data_ptr(), v.data, v.nbytes);
  return out;
}

std::vector<int64_t> ids_of(const glamm::safetensors::File& f, const std::string& name) {
  const at::Tensor t = golden(f, name, at::kLong).flatten();
  return {t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel()};
}

/// SAM's input from the golden resized image (uint8 HWC): normalised per channel with SAM's mean and std, padded
/// with zeros to 1024² at the bottom and right (glamm-model.md §4.2), [1, 3, 1024, 1024].
at::Tensor sam_pixels(const at::Tensor& resized_u8_hwc) {
  const float mean[3] = {123.675f, 116.28f, 103.53f}, stdv[3] = {58.395f, 57.12f, 57.375f};
  const at::Tensor chw = resized_u8_hwc.permute({2, 0, 1}).to(at::kFloat);
  at::Tensor out = at::zeros({1, 3, 1024, 1024});
  for (int c = 0; c < 3; ++c)
    out[0][c].narrow(0, 0, chw.size(1)).narrow(1, 0, chw.size(2)).copy_((chw[c] - mean[c]) / stdv[c]);
  return out;
}

/// Mismatching pixels and IoU of two compressed RLE masks of one size.
std::pair<int64_t, double> mask_agreement(const std::string& a, const std::string& b, uint32_t h, uint32_t w) {
  const auto pa = glamm::mask::decode(glamm::mask::from_string(a, h, w));
  const auto pb = glamm::mask::decode(glamm::mask::from_string(b, h, w));
  int64_t diff = 0, inter = 0, uni = 0;
  for (std::size_t i = 0; i < pa.size() && i < pb.size(); ++i) {
    diff += pa[i] != pb[i];
    inter += pa[i] && pb[i];
    uni += pa[i] || pb[i];
  }
  return {diff, uni ? static_cast<double>(inter) / static_cast<double>(uni) : 1.0};
}

/// (a) The six golden prompts on `device` in fp32 and bf16.
nlohmann::json tiny_cases(const fs::path& data, const c10::Device& device) {
  nlohmann::json out = nlohmann::json::object();
  const std::vector<std::string> cases = {"gcg__COCO_val2014_000000391895",     "gcg__surfer",
                                          "regcap1__COCO_val2014_000000391895", "regcap1__surfer",
                                          "regcap2__COCO_val2014_000000391895", "regcap2__surfer"};
  GlammConfig cfg = GlammConfig::from_json_file(data / "tiny-glamm" / "config.json");
  for (const char* dtype : {"fp32", "bf16"}) {
    WeightStore ws = WeightStore::open(data / "tiny-glamm");
    cfg.check_shapes(shape_lookup(ws), "config.json");
    Llama llm = Llama::load(ws, cfg.llm);
    ws.finish({"model.layers.", "model.embed_tokens.", "model.norm.", "lm_head."});
    SamImageEncoder sam = SamImageEncoder::load(ws);
    SamPromptEncoder prompt_encoder = SamPromptEncoder::load(ws);
    SamMaskDecoder mask_decoder = SamMaskDecoder::load(ws, cfg.sam_mask_decoder_num_heads);
    TextHiddenProjection text_fcs = TextHiddenProjection::load(ws);
    RegionEncoder region = RegionEncoder::load(ws);
    ws.finish({"model.region_encoder."});
    if (std::string(dtype) == "bf16") {
      llm.set_compute_dtype(at::kBFloat16);
      sam.set_compute_dtype(at::kBFloat16);
      prompt_encoder.set_compute_dtype(at::kBFloat16);
      mask_decoder.set_compute_dtype(at::kBFloat16);
      text_fcs.set_compute_dtype(at::kBFloat16);
      region.set_compute_dtype(at::kBFloat16);
    }
    region.to(device);
    llm.to(device);
    sam.to(device);
    prompt_encoder.to(device);
    mask_decoder.to(device);
    text_fcs.to(device);
    nlohmann::json mask_rows = nlohmann::json::array(), region_rows = nlohmann::json::array();
    SpecialIds special;
    special.bbox = cfg.bbox_token_id;
    special.seg = cfg.seg_token_id;
    special.eos = cfg.eos_token_id;
    GenerateOptions opt;
    opt.max_new_tokens = 512;
    opt.special = special;
    std::vector<std::vector<int64_t>> prompts;
    std::vector<at::Tensor> embeds;
    std::vector<GenerationTrace> alone;
    nlohmann::json rows = nlohmann::json::array();
    int equal = 0;
    for (const std::string& c : cases) {
      const std::string image = c.substr(c.find("__") + 2);
      const auto img = glamm::safetensors::File::open(data / "golden" / ("image__" + image + ".safetensors"));
      const auto g = glamm::safetensors::File::open(data / "golden" / (c + ".safetensors"));
      prompts.push_back(ids_of(g, "input_ids"));
      const at::Tensor regions = g.find("region.vectors") ? golden(g, "region.vectors", at::kFloat) : at::Tensor();
      if (regions.defined()) {  // the region encoder on the device from the golden CLIP levels and normalised boxes
        const at::Tensor mine =
            region.extract(region.fuse(golden(img, "clip.region_levels_patches", at::kFloat)),
                           golden(g, "boxes.normalized_fp16_bf16", at::kFloat))
                .to(at::kCPU);
        const double cosine = ((mine * regions).sum(-1) / (mine.norm(2, -1) * regions.norm(2, -1))).min().item<double>();
        const double maxd = (mine - regions).abs().max().item<double>();
        std::printf("  tiny %s %s region vectors: max |d| %.3g, lowest row cosine %.6f\n", dtype, c.c_str(), maxd,
                    cosine);
        region_rows.push_back({{"case", c}, {"max_abs_diff", maxd}, {"min_row_cosine", cosine}});
      }
      embeds.push_back(build_inputs_embeds(llm, prompts.back(), golden(img, "projector.out", at::kFloat), regions,
                                           special));
      const auto t0 = Clock::now();
      alone.push_back(greedy_generate(llm, prompts.back(), embeds.back(), opt));
      const double s = since(t0);
      const std::vector<int64_t> ref = ids_of(g, "gen.generated_ids");
      std::size_t same = 0;
      while (same < ref.size() && same < alone.back().generated_ids.size() && ref[same] == alone.back().generated_ids[same])
        ++same;
      const bool eq = same == ref.size() && same == alone.back().generated_ids.size();
      equal += eq;
      std::printf("  tiny %s %-36s %s (%.3f s)\n", dtype, c.c_str(),
                  eq ? "tokens equal to the fp32 golden" : ("first difference at step " + std::to_string(same)).c_str(),
                  s);
      rows.push_back({{"case", c}, {"tokens_equal", eq}, {"first_difference", eq ? -1 : static_cast<int64_t>(same)},
                      {"seconds", s}});
      // GCG: the [SEG] states of this run through text_hidden_fcs and SAM on the device, against the golden masks.
      if (c.rfind("gcg__", 0) == 0 && eq && alone.back().seg_hidden.size(0) > 0) {
        const nlohmann::json meta = glamm::io::load_json(data / "golden" / (c + ".json"));
        const int64_t H = meta.at("original_size_hw")[0], W = meta.at("original_size_hw")[1];
        const std::pair<int64_t, int64_t> resized{meta.at("sam_resize_hw")[0], meta.at("sam_resize_hw")[1]};
        const at::Tensor emb = sam.forward(sam_pixels(golden(img, "sam.resized_u8_hwc", at::kByte)));
        const at::Tensor prompts = text_fcs.forward(alone.back().seg_hidden);
        const auto masks = sam_masks_to_rle(
            sam_full_res_logits(prompt_encoder, mask_decoder, emb, prompts, resized, {H, W}));
        const auto& ref = meta.at("pred_masks_rle");
        for (std::size_t m = 0; m < masks.size() && m < ref.size(); ++m) {
          const std::string rc = ref[m].at("counts").get<std::string>();
          const auto [diff, iou] = mask_agreement(masks[m].counts, rc, static_cast<uint32_t>(H), static_cast<uint32_t>(W));
          std::printf("  tiny %s %s mask %zu: %s, %lld of %lld pixels differ, IoU %.5f\n", dtype, c.c_str(), m,
                      masks[m].counts == rc ? "RLE equal to the golden" : "RLE differs", static_cast<long long>(diff),
                      static_cast<long long>(H * W), iou);
          mask_rows.push_back({{"case", c}, {"mask", m}, {"rle_equal", masks[m].counts == rc},
                               {"pixels_differ", diff}, {"iou", iou}});
        }
        if (masks.size() != ref.size())
          mask_rows.push_back({{"case", c}, {"error", "mask count " + std::to_string(masks.size()) + " vs " +
                                                          std::to_string(ref.size())}});
      }
    }
    // Batch 4 on the device against batch 1 on the device.
    const std::vector<std::vector<int64_t>> p4(prompts.begin(), prompts.begin() + 4);
    const std::vector<at::Tensor> e4(embeds.begin(), embeds.begin() + 4);
    const std::vector<GenerationTrace> b4 = greedy_generate_batch(llm, p4, e4, opt);
    int batch_equal = 0;
    for (std::size_t i = 0; i < b4.size(); ++i) batch_equal += b4[i].generated_ids == alone[i].generated_ids;
    std::printf("  tiny %s: %d/6 cases with the golden tokens; batch 4 = batch 1 tokens in %d/4\n", dtype, equal,
                batch_equal);
    out[dtype] = {{"cases", rows}, {"tokens_equal", equal}, {"batch4_tokens_equal_batch1", batch_equal},
                  {"masks", mask_rows}, {"regions", region_rows}};
  }
  return out;
}

/// (b) Real-size figures with random weights on `device`.
nlohmann::json real_size(const c10::Device& device, int64_t layers, int64_t prefill, int64_t decode) {
  c10::InferenceMode guard;
  nlohmann::json j;
  LlamaConfig c;
  c.num_hidden_layers = layers;
  c.vocab_size = 32007;
  const double scale32 = 32.0 / static_cast<double>(layers);
  Llama llm = Llama::random(c, at::kBFloat16, 1, /*with_embeddings=*/true);
  llm.set_compute_dtype(at::kBFloat16);
  llm.to(device);
  const int64_t D = c.hidden_size;
  auto x = [&](int64_t n) { return at::randn({n, D}).to(device); };
  // Prefill (one warm-up pass first: kernels, allocator).
  {
    KvCache warm;
    sync(llm.forward(x(std::min<int64_t>(prefill, 64)), &warm));
  }
  KvCache cache;
  auto t0 = Clock::now();
  at::Tensor h = llm.forward(x(prefill), &cache);
  sync(h);
  const double pre = since(t0) * scale32;
  // Decode at batch 1: N layers per token (scaled) + lm_head.
  double layers_s = 0, head_s = 0;
  for (int64_t k = 0; k <= decode; ++k) {
    const at::Tensor in = x(1);
    sync(in);
    t0 = Clock::now();
    const at::Tensor o = llm.forward(in, &cache);
    sync(o);
    const double a = since(t0);
    t0 = Clock::now();
    sync(llm.logits(o));
    if (k > 0) {  // step 0 warms the decode path
      layers_s += a;
      head_s += since(t0);
    }
  }
  const double per_token = (layers_s * scale32 + head_s) / static_cast<double>(decode);
  // Batch 8: one pass per token for 8 sequences.
  std::vector<KvCache> caches(8);
  std::vector<KvCache*> ptr;
  for (auto& kc : caches) {
    sync(llm.forward(x(16), &kc));
    ptr.push_back(&kc);
  }
  double pass_s = 0;
  for (int64_t k = 0; k <= decode; ++k) {
    std::vector<at::Tensor> in;
    for (int b = 0; b < 8; ++b) in.push_back(x(1));
    sync(in.back());
    t0 = Clock::now();
    const std::vector<at::Tensor> o = llm.forward_batch(in, ptr);
    sync(o.back());
    const double a = since(t0);
    std::vector<at::Tensor> last;
    for (const auto& t : o) last.push_back(t[0]);
    const auto t1 = Clock::now();
    sync(llm.logits_rows(at::stack(last, 0)));
    if (k > 0) pass_s += a * scale32 + since(t1);
  }
  pass_s /= static_cast<double>(decode);
  std::printf("  LLaMA-7B bf16 (%lld of 32 layers measured): prefill %lld tokens %.2f s (%.0f tokens/s); decode "
              "%.4f s/token (%.1f tokens/s); batch 8 %.4f s per pass (%.1f tokens/s)\n",
              static_cast<long long>(layers), static_cast<long long>(prefill), pre, prefill / pre, per_token,
              1.0 / per_token, pass_s, 8.0 / pass_s);
  j["llama7b_bf16"] = {{"layers_measured", layers},     {"prefill_tokens", prefill},
                       {"prefill_s", pre},              {"prefill_tokens_per_s", prefill / pre},
                       {"decode_s_per_token", per_token}, {"decode_tokens_per_s_batch1", 1.0 / per_token},
                       {"batch8_s_per_pass", pass_s},   {"decode_tokens_per_s_batch8", 8.0 / pass_s}};
  // CLIP ViT-L/14-336, bf16, one image.
  {
    ClipVisionConfig cfg;
    ClipVisionTower clip = ClipVisionTower::random(cfg, 1);
    clip.set_compute_dtype(at::kBFloat16);
    clip.to(device);
    const at::Tensor px = at::randn({1, 3, cfg.image_size, cfg.image_size}).to(device);
    sync(clip.forward(px).patches);
    t0 = Clock::now();
    sync(clip.forward(px).patches);
    const double s = since(t0);
    std::printf("  CLIP ViT-L/14-336 bf16: %.1f ms per image\n", 1e3 * s);
    j["clip_vit_l_bf16_ms"] = 1e3 * s;
  }
  // SAM ViT-H encoder, bf16: one windowed and one global block measured (patch embedding and neck in each run).
  {
    auto encoder = [&](const std::vector<int64_t>& windows) {
      const int64_t dim = 1280, hd = 80, grid = 64, outc = 256;
      auto r = [](std::vector<int64_t> s, double sd) { return at::randn(s) * sd; };
      SamImageEncoder::Weights w;
      w.patch_w = r({dim, 3, 16, 16}, 0.02);
      w.patch_b = at::zeros({dim});
      w.pos_embed = r({1, grid, grid, dim}, 0.02);
      for (int64_t win : windows) {
        SamImageEncoder::Block b;
        const int64_t rows = win > 0 ? 2 * win - 1 : 2 * grid - 1;
        b.norm1_w = b.norm2_w = at::ones({dim});
        b.norm1_b = b.norm2_b = at::zeros({dim});
        b.qkv_w = r({3 * dim, dim}, 0.02);
        b.qkv_b = at::zeros({3 * dim});
        b.proj_w = r({dim, dim}, 0.02);
        b.proj_b = at::zeros({dim});
        b.rel_pos_h = r({rows, hd}, 0.02);
        b.rel_pos_w = r({rows, hd}, 0.02);
        b.lin1_w = r({4 * dim, dim}, 0.02);
        b.lin1_b = at::zeros({4 * dim});
        b.lin2_w = r({dim, 4 * dim}, 0.02);
        b.lin2_b = at::zeros({dim});
        w.blocks.push_back(b);
      }
      w.neck0_w = r({outc, dim, 1, 1}, 0.02);
      w.neck1_w = w.neck3_w = at::ones({outc});
      w.neck1_b = w.neck3_b = at::zeros({outc});
      w.neck2_w = r({outc, outc, 3, 3}, 0.02);
      SamImageEncoder e(std::move(w));
      e.set_compute_dtype(at::kBFloat16);
      e.to(device);
      return e;
    };
    const at::Tensor img = at::randn({1, 3, 1024, 1024}).to(device);
    auto time_of = [&](const SamImageEncoder& e) {
      sync(e.forward(img));
      const auto t = Clock::now();
      sync(e.forward(img));
      return since(t);
    };
    const double t_win = time_of(encoder({14})), t_glob = time_of(encoder({0})), t_both = time_of(encoder({14, 0}));
    const double base = std::max(0.0, t_win + t_glob - t_both);
    const double full = base + 28 * std::max(0.0, t_win - base) + 4 * std::max(0.0, t_glob - base);
    std::printf("  SAM ViT-H encoder bf16: %.0f ms (extrapolated: base %.0f ms + 28 windowed + 4 global blocks)\n",
                1e3 * full, 1e3 * base);
    j["sam_vit_h_bf16_ms_extrapolated"] = 1e3 * full;
  }
  return j;
}

}  // namespace
#endif

int main(int argc, char** argv) {
#if !GLAMM_WITH_TORCH
  (void)argc;
  (void)argv;
  std::fprintf(stderr, "gpu_check: built without libtorch\n");
  return 2;
#else
  fs::path data = "bench/device_data", json_out;
  std::string device_name;
  int64_t layers = 2, prefill = 650, decode = 16;
  bool run_real = true, run_tiny = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "gpu_check: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--data") data = next();
    else if (a == "--device") device_name = next();
    else if (a == "--json") json_out = next();
    else if (a == "--layers") layers = std::atoll(next().c_str());
    else if (a == "--prefill") prefill = std::atoll(next().c_str());
    else if (a == "--decode") decode = std::atoll(next().c_str());
    else if (a == "--no-real") run_real = false;
    else if (a == "--no-tiny") run_tiny = false;
    else {
      std::fprintf(stderr, "usage: gpu_check --data DIR [--device cuda|cuda:N|cpu] [--json OUT] [--layers N] "
                           "[--prefill T] [--decode N] [--no-real] [--no-tiny]\n");
      return 2;
    }
  }
  if (layers < 1 || prefill < 1 || decode < 1) {
    std::fprintf(stderr, "gpu_check: --layers, --prefill and --decode must be >= 1\n");
    return 2;
  }
  if (device_name.empty()) device_name = at::hasCUDA() ? "cuda" : "cpu";
  try {
    const c10::Device device(device_name);
    std::printf("gpu_check on %s (CUDA available: %s)\n", device.str().c_str(), at::hasCUDA() ? "yes" : "no");
    nlohmann::json j;
    j["device"] = device.str();
    j["cuda_available"] = at::hasCUDA();
    if (run_tiny) j["tiny"] = tiny_cases(data, device);
    if (run_real) j["real_size"] = real_size(device, layers, prefill, decode);
    if (!json_out.empty()) glamm::io::write_file_atomic(json_out, j.dump(2) + "\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpu_check: %s\n", e.what());
    return 1;
  }
#endif
}
