// GLaMM LLM throughput on CPU (libtorch only):
//   1. the tiny golden LLM (shared golden/model/tiny-glamm, when found): prefill of the GCG prompt (658 expanded
//      tokens) and greedy decoding with the KV cache and with full recomputation (the reference's way);
//   2. --dtype fp32 (default): a real-size LLaMA-7B layer stack with random bf16 weights up-cast per use (hidden
//      4096, intermediate 11008, 32 heads; --layers of the 32): prefill of ~650 tokens, per-token decode with the
//      KV cache and with full recomputation, extrapolated to 32 layers;
//      --dtype bf16: the same stack plus lm_head (32007 rows), decode in bf16 (in-place GEMV kernels) and by the
//      fp32 up-cast path on the same weights, next to the floor = the full 7B model's bytes per token / the read
//      bandwidth measured in the same run (best of 4 KiB and huge pages, before and after); prefill GFLOP/s
//      against the measured FMA / VDPBF16PS peaks; batch-8 decode; --json OUT writes the figures;
//   (also, unless --no-clip: the real-size CLIP ViT-L/14-336 tower with random weights, one image, in --dtype)
//   3. the memory a real GLaMM-7B checkpoint needs, from the same arithmetic as WeightStore's accounting
//      (numel × stored dtype size per tensor of glamm-model.md §2.2) plus the fp32 KV cache.
// Usage: llm_bench [--layers N (2)] [--prefill T (650)] [--decode N (4)] [--full-steps N (1)] [--threads N (all)]
//                  [--shared DIR] [--no-tiny] [--no-clip] [--fp32-weights (real-size stack without the bf16 up-cast)]
//                  [--dtype fp32|bf16] [--json OUT (with bf16)] [--skip-fp32 (bf16 run without the fp32 path)]
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
#include <sys/mman.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <nlohmann/json.hpp>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "common/safetensors.h"
#include "model/bf16_gemv.h"
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

/// Sum of n 64-bit words with four independent accumulators (vectorised by the compiler): a pure read stream.
__attribute__((noinline)) uint64_t read_sum(const uint64_t* p, std::size_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
  }
  for (; i < n; ++i) a += p[i];
  return a + b + c + d;
}

#if defined(__x86_64__)
/// Independent fp32 multiply-adds on registers: AVX512 FMA where present, else AVX2 FMA. Returns the flops done.
__attribute__((target("avx512f"), noinline)) double peak_fp32_avx512(int64_t iters) {
  __m512 acc[12];
  const __m512 m = _mm512_set1_ps(0.999f), a = _mm512_set1_ps(1e-3f);
  for (auto& v : acc) v = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < iters; ++i)
    for (auto& v : acc) v = _mm512_fmadd_ps(v, m, a);
  alignas(64) float out[16];
  float sink = 0;
  for (auto& v : acc) {
    _mm512_store_ps(out, v);
    sink += out[0];
  }
  if (sink == 42.0f) std::printf(" ");
  return 2.0 * 16 * 12 * static_cast<double>(iters);
}
__attribute__((target("avx2,fma"), noinline)) double peak_fp32_avx2(int64_t iters) {
  __m256 acc[12];
  const __m256 m = _mm256_set1_ps(0.999f), a = _mm256_set1_ps(1e-3f);
  for (auto& v : acc) v = _mm256_set1_ps(1.0f);
  for (int64_t i = 0; i < iters; ++i)
    for (auto& v : acc) v = _mm256_fmadd_ps(v, m, a);
  alignas(32) float out[8];
  float sink = 0;
  for (auto& v : acc) {
    _mm256_store_ps(out, v);
    sink += out[0];
  }
  if (sink == 42.0f) std::printf(" ");
  return 2.0 * 8 * 12 * static_cast<double>(iters);
}
__attribute__((target("avx512f,avx512bf16"), noinline)) double peak_bf16_avx512(int64_t iters) {
  __m512 acc[12];
  const __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80), y = (__m512bh)_mm512_set1_epi16(0x3a83);
  for (auto& v : acc) v = _mm512_setzero_ps();
  for (int64_t i = 0; i < iters; ++i)
    for (auto& v : acc) v = _mm512_dpbf16_ps(v, x, y);
  alignas(64) float out[16];
  float sink = 0;
  for (auto& v : acc) {
    _mm512_store_ps(out, v);
    sink += out[0];
  }
  if (sink == 42.0f) std::printf(" ");
  return 2.0 * 32 * 12 * static_cast<double>(iters);
}
#endif

double peak_loop_fp32(int64_t iters) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) return peak_fp32_avx512(iters);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return peak_fp32_avx2(iters);
#endif
  (void)iters;
  return 0;
}
double peak_loop_bf16(int64_t iters) {
#if defined(__x86_64__)
  if (gemv_isa_supported(GemvIsa::kAvx512Bf16)) return peak_bf16_avx512(iters);
#endif
  (void)iters;
  return 0;
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
void real_clip(bool bf16) {
  c10::InferenceMode guard;
  glamm::model::ClipVisionConfig cfg;  // defaults = openai/clip-vit-large-patch14-336
  glamm::model::ClipVisionTower clip = glamm::model::ClipVisionTower::random(cfg, 1);
  if (bf16) clip.set_compute_dtype(at::kBFloat16);
  const at::Tensor pixels = at::randn({1, 3, cfg.image_size, cfg.image_size});
  clip.forward(pixels);  // warm-up (allocator, oneDNN primitives)
  const auto t0 = std::chrono::steady_clock::now();
  const auto out = clip.forward(pixels);
  const double s = seconds_since(t0);
  std::printf("real-size CLIP ViT-L/14-336 (random weights, %s compute, 24 layers, 577 tokens): %.2f s per image "
              "(patches [%lld, %lld], %lld region levels)\n",
              bf16 ? "bf16" : "fp32", s, static_cast<long long>(out.patches.size(0)), static_cast<long long>(out.patches.size(1)),
              static_cast<long long>(out.region_levels.size(0)));
}

/// Read bandwidth of this machine in GB/s: `threads` threads summing disjoint parts of a 1 GiB buffer (STREAM-style,
/// read only, as decoding streams the weights), best of 5 passes after a touch pass. `huge`: the buffer is advised
/// for transparent huge pages, as the bf16 decode weights are (Llama::pack_for_decode).
double measure_read_bandwidth(int threads, bool huge) {
  const std::size_t bytes = std::size_t{1} << 30, n = bytes / sizeof(uint64_t);
  void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return 0;
  (void)::madvise(mem, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  auto* buf = static_cast<uint64_t*>(mem);
  for (std::size_t i = 0; i < n; i += 512) buf[i] = i;
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    std::vector<uint64_t> sums(static_cast<std::size_t>(threads));
    std::vector<std::thread> pool;
    const auto t0 = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        const std::size_t b = n * t / threads, e = n * (t + 1) / threads;
        sums[static_cast<std::size_t>(t)] = read_sum(buf + b, e - b);
      });
    for (auto& th : pool) th.join();
    const double s = seconds_since(t0);
    uint64_t total = 0;
    for (uint64_t v : sums) total += v;
    if (total == 42) std::printf(" ");  // keep the sums alive
    best = std::max(best, static_cast<double>(bytes) / s / 1e9);
  }
  ::munmap(mem, bytes);
  return best;
}

/// Peak arithmetic of `threads` cores in GFLOP/s from a register-only loop of independent multiply-adds: fp32 FMA
/// (AVX512 or AVX2) and, where present, VDPBF16PS (2 bf16 products per fp32 lane).
double measure_peak_gflops(int threads, bool bf16) {
  std::vector<double> per(static_cast<std::size_t>(threads));
  std::vector<std::thread> pool;
  const int64_t iters = 20'000'000;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      const auto t0 = std::chrono::steady_clock::now();
      const double flops = bf16 ? peak_loop_bf16(iters) : peak_loop_fp32(iters);
      per[static_cast<std::size_t>(t)] = flops / seconds_since(t0) / 1e9;
    });
  for (auto& th : pool) th.join();
  double sum = 0;
  for (double v : per) sum += v;
  return sum;
}

struct DecodeFigures {
  double prefill_s = 0;     // N layers, the whole prompt
  double layers_s = 0;      // per token: N layers + final norm (forward with the KV cache)
  double head_s = 0;        // per token: lm_head
  double per_token_32 = 0;  // layers_s · 32/N + head_s
};

DecodeFigures measure_decode(const Llama& llm, const at::Tensor& x, int64_t prefill, int64_t decode, int64_t layers) {
  c10::InferenceMode guard;
  DecodeFigures f;
  KvCache cache;
  auto t0 = std::chrono::steady_clock::now();
  const at::Tensor h0 = llm.forward(x.narrow(0, 0, prefill), &cache);
  f.prefill_s = seconds_since(t0);
  (void)llm.logits(h0.narrow(0, prefill - 1, 1));
  (void)llm.forward(x.narrow(0, prefill, 1), &cache);  // warm-up step (first use of the decode path)
  for (int64_t k = 0; k < decode; ++k) {
    t0 = std::chrono::steady_clock::now();
    const at::Tensor h = llm.forward(x.narrow(0, prefill + 1 + k, 1), &cache);
    f.layers_s += seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    (void)llm.logits(h);
    f.head_s += seconds_since(t0);
  }
  f.layers_s /= static_cast<double>(decode);
  f.head_s /= static_cast<double>(decode);
  f.per_token_32 = f.layers_s * 32.0 / static_cast<double>(layers) + f.head_s;
  return f;
}

/// Batched decoding (--batch-size): `batch` sequences with short prompts, then `steps` passes of one token each
/// through Llama::forward_batch + logits_rows; seconds per pass for N layers + lm_head, scaled to 32 layers.
double measure_batch_decode(const Llama& llm, int64_t batch, int64_t steps, int64_t layers) {
  c10::InferenceMode guard;
  const int64_t D = llm.config().hidden_size;
  std::vector<KvCache> caches(static_cast<std::size_t>(batch));
  std::vector<KvCache*> ptrs;
  for (auto& c : caches) {
    (void)llm.forward(at::randn({16, D}), &c);
    ptrs.push_back(&c);
  }
  auto step = [&] {
    std::vector<at::Tensor> in;
    for (int64_t b = 0; b < batch; ++b) in.push_back(at::randn({1, D}));
    double t_layers = 0;
    auto t0 = std::chrono::steady_clock::now();
    const std::vector<at::Tensor> h = llm.forward_batch(in, ptrs);
    t_layers = seconds_since(t0);
    std::vector<at::Tensor> last;
    for (const auto& x : h) last.push_back(x[0]);
    t0 = std::chrono::steady_clock::now();
    (void)llm.logits_rows(at::stack(last, 0));
    return t_layers * 32.0 / static_cast<double>(layers) + seconds_since(t0);
  };
  (void)step();  // warm-up
  double total = 0;
  for (int64_t k = 0; k < steps; ++k) total += step();
  return total / static_cast<double>(steps);
}

double load_average() {
  double l = -1;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &l) != 1) l = -1;
    std::fclose(f);
  }
  return l;
}

/// Real-size LLaMA-7B decoding with bf16 weights: today's fp32 path (bf16 weights up-cast per use) and the bf16
/// compute path (in-place bf16 GEMV for decode, oneDNN bf16 GEMM for prefill), on one model instance with the same
/// weights, next to the read-bandwidth floor and the arithmetic peaks measured in the same run.
nlohmann::json real_size_bf16(int64_t layers, int64_t prefill, int64_t decode, int threads, bool skip_fp32) {
  LlamaConfig c;  // LLaMA-2-7B sizes; GLaMM's vocabulary (32007 rows of lm_head)
  c.num_hidden_layers = layers;
  c.vocab_size = 32007;
  const double load0 = load_average();
  std::printf("LLaMA-7B decode, bf16 weights (%lld of 32 layers + final norm + lm_head measured; %d threads; "
              "GEMV kernel %s; load average %.2f)\n",
              static_cast<long long>(layers), threads, gemv_isa_name(best_gemv_isa()), load0);
  // The floor uses the best of 4 KiB and huge pages (the stricter floor), measured before and after decoding.
  const double bw_small = measure_read_bandwidth(threads, false), bw_huge = measure_read_bandwidth(threads, true);
  double bw = std::max(bw_small, bw_huge);
  const double bw1 = threads > 1 ? measure_read_bandwidth(1, true) : bw;
  const double peak32 = measure_peak_gflops(threads, false);
  const double peak16 = gemv_isa_supported(GemvIsa::kAvx512Bf16) ? measure_peak_gflops(threads, true) : 0.0;
  std::printf("  read bandwidth %.1f GB/s (%d threads; 4 KiB pages %.1f, huge pages %.1f; 1 thread %.1f); peak fp32 "
              "FMA %.0f GFLOP/s, bf16 dot %.0f GFLOP/s\n",
              bw, threads, bw_small, bw_huge, bw1, peak32, peak16);
  const double D = static_cast<double>(c.hidden_size), I = static_cast<double>(c.intermediate_size),
               V = static_cast<double>(c.vocab_size);
  const double layer_params = 4 * D * D + 3 * D * I + 2 * D;
  // Bytes read per decoded token by the full model: 32 layers, final norm, lm_head, one embedding row; bf16.
  const double bytes_per_token = 2.0 * (32 * layer_params + D + V * D + D);
  auto t0 = std::chrono::steady_clock::now();
  Llama llm = Llama::random(c, at::kBFloat16, 1, /*with_embeddings=*/true);
  std::printf("  init %.1f s, weights held %.2f GB (N layers + embeddings + lm_head)\n", seconds_since(t0),
              llm.weight_bytes() / 1e9);
  const at::Tensor x = at::randn({prefill + decode + 1, c.hidden_size}, at::kFloat);
  const DecodeFigures f32 = skip_fp32 ? DecodeFigures{} : measure_decode(llm, x, prefill, decode, layers);
  llm.set_compute_dtype(at::kBFloat16);
  const DecodeFigures b16 = measure_decode(llm, x, prefill, decode, layers);
  const double b8 = measure_batch_decode(llm, 8, std::max<int64_t>(2, decode / 2), layers);
  const double bw_after = std::max(measure_read_bandwidth(threads, false), measure_read_bandwidth(threads, true));
  std::printf("  read bandwidth after decoding: %.1f GB/s\n", bw_after);
  bw = std::max(bw, bw_after);
  const double floor = bytes_per_token / (bw * 1e9);
  const double prefill_flops = static_cast<double>(layers) * (2.0 * prefill * (layer_params - 2 * D) +
                                                              4.0 * prefill * prefill * D);
  auto row = [&](const char* name, const DecodeFigures& f, double peak) {
    std::printf("  %-26s decode %.3f s/token (N layers %.1f ms, lm_head %.1f ms) = %.0f%% of the floor; "
                "prefill %lld tokens %.2f s -> 32 layers %.1f s, %.0f tokens/s/32 layers, %.0f GFLOP/s (%.0f%% "
                "of peak)\n",
                name, f.per_token_32, f.layers_s * 1e3, f.head_s * 1e3, 100.0 * floor / f.per_token_32,
                static_cast<long long>(prefill), f.prefill_s, f.prefill_s * 32.0 / layers,
                prefill / (f.prefill_s * 32.0 / layers), prefill_flops / f.prefill_s / 1e9,
                peak > 0 ? 100.0 * prefill_flops / f.prefill_s / 1e9 / peak : 0.0);
  };
  std::printf("  floor: %.2f GB per token / %.1f GB/s = %.3f s/token\n", bytes_per_token / 1e9, bw, floor);
  if (!skip_fp32) row("fp32 (bf16 up-cast per use)", f32, peak32);
  row("bf16", b16, peak16 > 0 ? peak16 : peak32);
  std::printf("  bf16 batch 8: %.3f s per pass = %.1f tokens/s (batch 1: %.1f tokens/s)\n", b8, 8.0 / b8,
              1.0 / b16.per_token_32);
  std::printf("  bf16 decode at %.0f%% of the bandwidth floor (target >= 60%%)", 100.0 * floor / b16.per_token_32);
  if (!skip_fp32) std::printf("; %.2fx faster than the fp32 path", f32.per_token_32 / b16.per_token_32);
  std::printf("\n");
  nlohmann::json j;
  j["dtype"] = "bf16";
  j["layers"] = layers;
  j["threads"] = threads;
  j["gemv_kernel"] = gemv_isa_name(best_gemv_isa());
  j["decode_s_per_token"] = b16.per_token_32;
  j["floor_s_per_token"] = floor;
  j["floor_fraction"] = floor / b16.per_token_32;
  j["bandwidth_gb_s"] = bw;
  j["bandwidth_1thread_gb_s"] = bw1;
  j["bandwidth_4k_pages_gb_s"] = bw_small;
  j["bandwidth_huge_pages_gb_s"] = bw_huge;
  j["bandwidth_after_gb_s"] = bw_after;
  j["weight_bytes_per_token"] = bytes_per_token;
  if (!skip_fp32) {
    j["fp32_decode_s_per_token"] = f32.per_token_32;
    j["fp32_decode_layers_s"] = f32.layers_s;
    j["fp32_decode_lm_head_s"] = f32.head_s;
    j["fp32_prefill_s_32_layers"] = f32.prefill_s * 32.0 / layers;
    j["fp32_prefill_gflop_s"] = prefill_flops / f32.prefill_s / 1e9;
  }
  j["decode_layers_s"] = b16.layers_s;
  j["batch8_s_per_pass"] = b8;
  j["batch8_tokens_per_s"] = 8.0 / b8;
  j["batch1_tokens_per_s"] = 1.0 / b16.per_token_32;
  j["decode_lm_head_s"] = b16.head_s;
  j["prefill_tokens"] = prefill;
  j["prefill_s_32_layers"] = b16.prefill_s * 32.0 / layers;
  j["prefill_gflop_s"] = prefill_flops / b16.prefill_s / 1e9;
  j["peak_fp32_gflop_s"] = peak32;
  j["peak_bf16_gflop_s"] = peak16;
  j["load_average_start"] = load0;
  j["load_average_end"] = load_average();
  return j;
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
  const double all = llm + projector + region + sam + text_fcs + clip;
  std::printf("  --dtype bf16: every weight bf16 %.2f GB, KV cache bf16 %.2f MB/token (1200 tokens: %.2f GB), plus one "
              "matrix (%.2f GB) while the LLM moves into its huge-page mapping\n",
              2 * all / gb, kv_per_token / 2e6, 1200 * kv_per_token / 2 / gb, 2 * V * D / gb);
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
  std::string dtype = "fp32", json_out;
  bool skip_fp32 = false;
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
    else if (a == "--dtype") dtype = next();
    else if (a == "--json") json_out = next();
    else if (a == "--skip-fp32") skip_fp32 = true;
    else {
      std::fprintf(stderr,
                   "usage: llm_bench [--layers N] [--prefill T] [--decode N] [--full-steps N] [--threads N] "
                   "[--shared DIR] [--no-tiny] [--no-clip] [--fp32-weights] [--dtype fp32|bf16] [--json OUT] [--skip-fp32]\n");
      return 2;
    }
  }
  if (dtype != "fp32" && dtype != "bf16") {
    std::fprintf(stderr, "llm_bench: --dtype must be fp32 or bf16\n");
    return 2;
  }
  if (!json_out.empty() && dtype != "bf16") {
    std::fprintf(stderr, "llm_bench: --json goes with --dtype bf16 (the decode-versus-floor figures)\n");
    return 2;
  }
  if (dtype == "bf16" && decode < 1) {
    std::fprintf(stderr, "llm_bench: --dtype bf16 needs --decode >= 1\n");
    return 2;
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
  if (run_clip) real_clip(dtype == "bf16");
  if (dtype == "bf16") {
    const nlohmann::json j = real_size_bf16(layers, prefill, decode, static_cast<int>(threads), skip_fp32);
    if (!json_out.empty()) {
      const std::string tmp = json_out + ".tmp";
      FILE* f = std::fopen(tmp.c_str(), "w");
      const std::string text = j.dump(2) + "\n";
      if (!f || std::fwrite(text.data(), 1, text.size(), f) != text.size() || std::fclose(f) != 0 ||
          std::rename(tmp.c_str(), json_out.c_str()) != 0) {
        std::fprintf(stderr, "llm_bench: cannot write %s\n", json_out.c_str());
        return 1;
      }
      std::printf("  written %s\n", json_out.c_str());
    }
  } else {
    real_size(layers, prefill, decode, full_steps, fp32_weights);
  }
  memory_estimate();
  return 0;
#endif
}
