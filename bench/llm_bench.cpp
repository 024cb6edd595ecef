// GLaMM LLM throughput on CPU (libtorch only):
//   1. the tiny golden LLM (shared golden/model/tiny-glamm, when found): prefill of the GCG prompt (658 expanded
//      tokens) and greedy decoding with the KV cache and with full recomputation (the reference's way);
//   2. a real-size LLaMA-7B layer stack with random bf16 weights up-cast per use (hidden 4096, intermediate
//      11008, 32 heads; --layers of the 32): prefill of ~650 tokens, per-token decode with the KV cache and with
//      full recomputation, extrapolated to 32 layers;
//   (also, unless --no-clip: the real-size CLIP ViT-L/14-336 tower with random weights, one image)
//   3. the memory a real GLaMM-7B checkpoint needs, from the same arithmetic as WeightStore's accounting
//      (numel × stored dtype size per tensor of glamm-model.md §2.2) plus the fp32 KV cache.
// Usage: llm_bench [--layers N (2)] [--prefill T (650)] [--decode N (4)] [--full-steps N (1)] [--threads N (all)]
//                  [--shared DIR] [--no-tiny] [--no-clip] [--fp32-weights (real-size stack without the bf16 up-cast)]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#if GLAMM_WITH_TORCH
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include "common/safetensors.h"
#include "model/clip_vision.h"
#include "model/generation.h"
#include "model/glamm_config.h"
#include "model/llama.h"
#include "model/weights.h"
#endif

namespace fs = std::filesystem;

#if GLAMM_WITH_TORCH
using namespace glamm::model;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

at::Tensor golden(const glamm::safetensors::File& f, const std::string& name, at::ScalarType t) {
  const auto& v = f.at(name);
  at::Tensor out = at::empty(v.shape, at::TensorOptions().dtype(t));
  std::memcpy(out.data_ptr(), v.data, v.nbytes);
  return out;
}

void tiny(const fs::path& root) {
  GlammConfig cfg = GlammConfig::from_json_file(root / "tiny-glamm" / "config.json");
  WeightStore ws = WeightStore::open(root / "tiny-glamm");
  cfg.check_shapes(shape_lookup(ws), "config.json");
  const Llama llm = Llama::load(ws, cfg.llm);
  ws.finish({"model.layers.", "model.embed_tokens.", "model.norm.", "lm_head."});
  const auto img = glamm::safetensors::File::open(root / "golden" / "image__surfer.safetensors");
  const auto g = glamm::safetensors::File::open(root / "golden" / "gcg__surfer.safetensors");
  const at::Tensor ids_t = golden(g, "input_ids", at::kLong).flatten();
  const std::vector<int64_t> ids(ids_t.data_ptr<int64_t>(), ids_t.data_ptr<int64_t>() + ids_t.numel());
  const at::Tensor embeds = build_inputs_embeds(llm, ids, golden(img, "projector.out", at::kFloat));
  std::printf("tiny GLaMM LLM (hidden %lld, %lld layers, vocab %lld), GCG prompt, greedy to EOS:\n",
              static_cast<long long>(cfg.llm.hidden_size), static_cast<long long>(cfg.llm.num_hidden_layers),
              static_cast<long long>(cfg.llm.vocab_size));
  for (bool kv : {true, false}) {
    GenerateOptions opt;
    opt.kv_cache = kv;
    (void)greedy_generate(llm, ids, embeds, opt);  // warm-up
    double pre = 0, dec = 0;
    std::size_t n = 0;
    const int reps = 3;
    for (int r = 0; r < reps; ++r) {
      const GenerationTrace tr = greedy_generate(llm, ids, embeds, opt);
      pre += tr.prefill_seconds;
      dec += tr.decode_seconds;
      n = tr.generated_ids.size();
    }
    pre /= reps;
    dec /= reps;
    std::printf("  %-22s prefill %lld tokens %8.1f ms (%8.0f tokens/s)   decode %zu tokens %8.1f ms (%7.1f tokens/s)\n",
                kv ? "KV cache" : "full recomputation", static_cast<long long>(embeds.size(0)), pre * 1e3,
                embeds.size(0) / pre, n - 1, dec * 1e3, (n - 1) / dec);
  }
}

/// The real CLIP ViT-L/14-336 vision tower (hidden 1024, 24 layers, 16 heads, intermediate 4096; fp32 random
/// weights): one 336×336 image → the layer −2 patches and the 4 region levels, as the runner calls it once per image.
void real_clip() {
  c10::InferenceMode guard;
  glamm::model::ClipVisionConfig cfg;  // defaults = openai/clip-vit-large-patch14-336
  const glamm::model::ClipVisionTower clip = glamm::model::ClipVisionTower::random(cfg, 1);
  const at::Tensor pixels = at::randn({1, 3, cfg.image_size, cfg.image_size});
  clip.forward(pixels);  // warm-up (allocator, oneDNN primitives)
  const auto t0 = std::chrono::steady_clock::now();
  const auto out = clip.forward(pixels);
  const double s = seconds_since(t0);
  std::printf("real-size CLIP ViT-L/14-336 (random fp32 weights, 24 layers, 577 tokens): %.2f s per image "
              "(patches [%lld, %lld], %lld region levels)\n",
              s, static_cast<long long>(out.patches.size(0)), static_cast<long long>(out.patches.size(1)),
              static_cast<long long>(out.region_levels.size(0)));
}

void real_size(int64_t layers, int64_t prefill, int64_t decode, int64_t full_steps, bool fp32_weights) {
  LlamaConfig c;  // LLaMA-2-7B sizes
  c.num_hidden_layers = layers;
  std::printf("LLaMA-7B layer stack, random %s weights: %lld of 32 layers (hidden %lld, "
              "intermediate %lld, %lld heads)\n",
              fp32_weights ? "fp32" : "bf16 (up-cast per use)", static_cast<long long>(layers), static_cast<long long>(c.hidden_size),
              static_cast<long long>(c.intermediate_size), static_cast<long long>(c.num_attention_heads));
  auto t0 = std::chrono::steady_clock::now();
  const Llama llm = Llama::random(c, fp32_weights ? at::kFloat : at::kBFloat16, 1, /*with_embeddings=*/false);
  std::printf("  init %.1f s, weights held %.2f GB\n", seconds_since(t0), llm.weight_bytes() / 1e9);
  c10::InferenceMode guard;
  const at::Tensor x = at::randn({prefill + decode + full_steps, c.hidden_size}, at::kFloat);
  const double scale32 = 32.0 / static_cast<double>(layers);

  KvCache cache;
  t0 = std::chrono::steady_clock::now();
  (void)llm.forward(x.narrow(0, 0, prefill), &cache);
  const double pre = seconds_since(t0);
  std::printf("  prefill %lld tokens: %.2f s (%.1f tokens/s) -> 32 layers ~ %.1f s\n", static_cast<long long>(prefill),
              pre, prefill / pre, pre * scale32);
  double dec = 0;
  for (int64_t k = 0; k < decode; ++k) {
    t0 = std::chrono::steady_clock::now();
    (void)llm.forward(x.narrow(0, prefill + k, 1), &cache);
    dec += seconds_since(t0);
  }
  if (decode > 0)
    std::printf("  decode with KV cache: %.3f s/token over %lld tokens -> 32 layers ~ %.2f s/token; cache %.1f MB "
                "(%.3f MB/token/layer)\n",
                dec / decode, static_cast<long long>(decode), dec / decode * scale32, cache.bytes() / 1e6,
                2.0 * c.hidden_size * 4 / 1e6);
  double full = 0;
  for (int64_t k = 0; k < full_steps; ++k) {
    t0 = std::chrono::steady_clock::now();
    (void)llm.forward(x.narrow(0, 0, prefill + k + 1), nullptr);
    full += seconds_since(t0);
  }
  if (full_steps > 0)
    std::printf("  decode by full recomputation: %.2f s/token (%lld steps) -> 32 layers ~ %.1f s/token; "
                "KV cache speed-up x%.0f\n",
                full / full_steps, static_cast<long long>(full_steps), full / full_steps * scale32,
                decode > 0 ? (full / full_steps) / (dec / decode) : 0.0);
}

/// GLaMM-7B memory from the §2.2 shapes, numel × stored dtype size as WeightStore::bytes_total counts it.
void memory_estimate() {
  const double D = 4096, I = 11008, V = 32007, L = 32;
  const double llm = 2 * V * D + D + L * (4 * D * D + 3 * D * I + 2 * D);
  const double projector = 4096 * 1024 + 4096 + 4096 * 4096 + 4096;
  const double region = 4 * (1024 * 1026 + 1024) + 5 * (1024 * 1024 * 9 + 2 * 1024) + 4 * (1024 * 1024 * 9 + 1024) +
                        (256 * 4 + 256) + 2 * 256 + (1024 * 256 + 1024) + 2 * 1024 + (1024 * 200704.0 + 1024) +
                        (4096 * 1024 + 4096);
  const double text_fcs = 4096 * 4096 + 4096 + 256 * 4096 + 256;
  const double sam = 0.641e9, clip = 0.30e9;  // glamm-model.md §6.1 parameter counts (fp32)
  const double gb = 1e9;
  std::printf("memory for a real GLaMM-7B checkpoint (weights kept as stored, up-cast per use):\n");
  std::printf("  LLM %.2f B params bf16 %.2f GB | projector bf16 %.3f GB | region encoder bf16 %.2f GB\n", llm / 1e9,
              2 * llm / gb, 2 * projector / gb, 2 * region / gb);
  std::printf("  SAM fp32 %.2f GB | text_hidden_fcs fp32 %.3f GB | CLIP ViT-L fp32 %.2f GB\n", 4 * sam / gb,
              4 * text_fcs / gb, 4 * clip / gb);
  const double weights = 2 * (llm + projector + region) + 4 * (sam + text_fcs + clip);
  const double kv_per_token = 2 * L * D * 4;
  const double upcast = 4 * D * I;  // largest transient fp32 copy of one weight (gate/up/down)
  std::printf("  weights total %.2f GB; KV cache fp32 %.2f MB/token (1200 tokens: %.2f GB); transient up-cast "
              "%.2f GB; all fp32 would be %.1f GB\n",
              weights / gb, kv_per_token / 1e6, 1200 * kv_per_token / gb, upcast / gb,
              4 * (llm + projector + region + sam + text_fcs + clip) / gb);
}

}  // namespace
#endif

int main(int argc, char** argv) {
#if !GLAMM_WITH_TORCH
  (void)argc;
  (void)argv;
  std::fprintf(stderr, "llm_bench: built without libtorch\n");
  return 2;
#else
  int64_t layers = 2, prefill = 650, decode = 4, full_steps = 1, threads = 0;
  bool run_tiny = true, fp32_weights = false, run_clip = true;
  fs::path shared = GLAMM_LLM_SHARED_DEFAULT;
  if (const char* env = std::getenv("GLAMM_SHARED")) shared = env;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "llm_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--layers") layers = std::atoll(next());
    else if (a == "--prefill") prefill = std::atoll(next());
    else if (a == "--decode") decode = std::atoll(next());
    else if (a == "--full-steps") full_steps = std::atoll(next());
    else if (a == "--threads") threads = std::atoll(next());
    else if (a == "--shared") shared = next();
    else if (a == "--no-tiny") run_tiny = false;
    else if (a == "--fp32-weights") fp32_weights = true;
    else if (a == "--no-clip") run_clip = false;
    else {
      std::fprintf(stderr,
                   "usage: llm_bench [--layers N] [--prefill T] [--decode N] [--full-steps N] [--threads N] "
                   "[--shared DIR] [--no-tiny] [--no-clip] [--fp32-weights]\n");
      return 2;
    }
  }
  if (layers < 1 || prefill < 1 || decode < 0 || full_steps < 0) {
    std::fprintf(stderr, "llm_bench: --layers and --prefill must be >= 1, --decode/--full-steps >= 0\n");
    return 2;
  }
  // Debian's libtorch defaults to one intra-op thread per *physical* core (1 on a 2-vCPU machine): use all
  // hardware threads unless told otherwise.
  if (threads <= 0) threads = std::max(1u, std::thread::hardware_concurrency());
  at::set_num_threads(static_cast<int>(threads));
  std::printf("libtorch threads: %d (hardware %u)\n", at::get_num_threads(), std::thread::hardware_concurrency());
  const fs::path root = shared / "golden" / "model";
  if (run_tiny) {
    if (fs::exists(root / "tiny-glamm"))
      tiny(root);
    else
      std::printf("tiny GLaMM: %s not found (set GLAMM_SHARED or --shared), skipped\n", root.string().c_str());
  }
  if (run_clip) real_clip();
  real_size(layers, prefill, decode, full_steps, fp32_weights);
  memory_estimate();
  return 0;
#endif
}
