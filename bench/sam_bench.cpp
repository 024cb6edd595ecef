// SAM component latency with random weights (no checkpoint, no shared data): the image encoder and the mask
// decoder (per mask, plus post-processing to full resolution and RLE), for the tiny golden sizes and for the real
// ViT-H / SAM decoder sizes. The real ViT-H encoder (32 blocks) is too slow to run whole on a small CPU, so by
// default 2 windowed blocks and 1 global block are timed and the full encoder is extrapolated as
// patch+neck + 28·windowed + 4·global (printed as such). Also prints peak RSS and the load average, since on a
// shared machine the wall times mean something only when the load is below the core count.
//
// Usage: sam_bench [--threads N] [--full-vit-h] [--runs R] [--dtype fp32|bf16]
//   --threads N    intra-op threads (default: libtorch's default)
//   --full-vit-h   also run the whole 32-block ViT-H encoder once (minutes on 2 cores, ~2.6 GB of weights)
//   --runs R       repetitions of the fast measurements (median reported; default 3)
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "model/sam_image_encoder.h"
#include "model/sam_mask_decoder.h"

using glamm::model::SamImageEncoder;
using glamm::model::SamMaskDecoder;
using glamm::model::SamPromptEncoder;

namespace {

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

/// CPU seconds (user + system, all threads) of the last seconds()/median_seconds() measurement: on a loaded
/// machine the single-thread CPU time is what the wall time would be on an idle core.
double g_last_cpu = 0;

double seconds(const std::function<void()>& fn) {
  const double c0 = process_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  g_last_cpu = process_cpu_seconds() - c0;
  return wall;
}

/// Median wall time of `runs` runs; g_last_cpu is set to the median CPU time.
double median_seconds(int runs, const std::function<void()>& fn) {
  std::vector<double> t, c;
  for (int i = 0; i < runs; ++i) {
    t.push_back(seconds(fn));
    c.push_back(g_last_cpu);
  }
  std::sort(t.begin(), t.end());
  std::sort(c.begin(), c.end());
  g_last_cpu = c[c.size() / 2];
  return t[t.size() / 2];
}

at::Tensor rnd(std::vector<int64_t> shape, double scale) { return at::randn(shape) * scale; }

bool g_bf16 = false;  // --dtype bf16: every component in the official run's precision (set_compute_dtype)

template <class T>
T in_dtype(T m) {
  if (g_bf16) m.set_compute_dtype(at::kBFloat16);
  return m;
}

/// Random encoder weights: `windows` lists each block's window (0 = global) for a grid of `grid` tokens.
SamImageEncoder::Weights encoder_weights(int64_t dim, int64_t head_dim, int64_t grid, int64_t out,
                                         const std::vector<int64_t>& windows) {
  SamImageEncoder::Weights w;
  const double s = 1.0 / std::sqrt(static_cast<double>(dim));
  w.patch_w = rnd({dim, 3, 16, 16}, 0.02);
  w.patch_b = rnd({dim}, 0.02);
  w.pos_embed = rnd({1, grid, grid, dim}, 0.02);
  for (int64_t win : windows) {
    const int64_t rows = win > 0 ? 2 * win - 1 : 2 * grid - 1;
    SamImageEncoder::Block b;
    b.norm1_w = at::ones({dim});
    b.norm1_b = at::zeros({dim});
    b.norm2_w = at::ones({dim});
    b.norm2_b = at::zeros({dim});
    b.qkv_w = rnd({3 * dim, dim}, s);
    b.qkv_b = at::zeros({3 * dim});
    b.proj_w = rnd({dim, dim}, s);
    b.proj_b = at::zeros({dim});
    b.rel_pos_h = rnd({rows, head_dim}, 0.02);
    b.rel_pos_w = rnd({rows, head_dim}, 0.02);
    b.lin1_w = rnd({4 * dim, dim}, s);
    b.lin1_b = at::zeros({4 * dim});
    b.lin2_w = rnd({dim, 4 * dim}, s / 2);
    b.lin2_b = at::zeros({dim});
    w.blocks.push_back(b);
  }
  w.neck0_w = rnd({out, dim, 1, 1}, s);
  w.neck1_w = at::ones({out});
  w.neck1_b = at::zeros({out});
  w.neck2_w = rnd({out, out, 3, 3}, 0.02);
  w.neck3_w = at::ones({out});
  w.neck3_b = at::zeros({out});
  return w;
}

SamMaskDecoder::Attention attention(int64_t dim, int64_t internal) {
  const double s = 1.0 / std::sqrt(static_cast<double>(dim));
  return {rnd({internal, dim}, s), at::zeros({internal}), rnd({internal, dim}, s), at::zeros({internal}),
          rnd({internal, dim}, s), at::zeros({internal}), rnd({dim, internal}, s), at::zeros({dim})};
}

SamMaskDecoder::Weights decoder_weights(int64_t dim, int64_t mlp) {
  SamMaskDecoder::Weights w;
  const double s = 1.0 / std::sqrt(static_cast<double>(dim));
  w.iou_token = rnd({1, dim}, 1.0);
  w.mask_tokens = rnd({4, dim}, 1.0);
  for (int i = 0; i < 2; ++i) {
    SamMaskDecoder::Layer l;
    l.self_attn = attention(dim, dim);
    l.token_to_image = attention(dim, dim / 2);
    l.image_to_token = attention(dim, dim / 2);
    for (int k = 0; k < 4; ++k) {
      l.norm_w[k] = at::ones({dim});
      l.norm_b[k] = at::zeros({dim});
    }
    l.lin1_w = rnd({mlp, dim}, s);
    l.lin1_b = at::zeros({mlp});
    l.lin2_w = rnd({dim, mlp}, s);
    l.lin2_b = at::zeros({dim});
    w.layers.push_back(l);
  }
  w.final_attn = attention(dim, dim / 2);
  w.norm_final_w = at::ones({dim});
  w.norm_final_b = at::zeros({dim});
  w.up0_w = rnd({dim, dim / 4, 2, 2}, s);
  w.up0_b = at::zeros({dim / 4});
  w.up1_w = at::ones({dim / 4});
  w.up1_b = at::zeros({dim / 4});
  w.up3_w = rnd({dim / 4, dim / 8, 2, 2}, s);
  w.up3_b = at::zeros({dim / 8});
  for (int i = 0; i < 4; ++i) {
    SamMaskDecoder::Mlp3 m;
    m.w[0] = rnd({dim, dim}, s);
    m.b[0] = at::zeros({dim});
    m.w[1] = rnd({dim, dim}, s);
    m.b[1] = at::zeros({dim});
    m.w[2] = rnd({dim / 8, dim}, s);
    m.b[2] = at::zeros({dim / 8});
    w.hyper.push_back(m);
  }
  return w;
}

/// Decoder + post-processing timings for `dim`-wide prompts on a 64×64 embedding.
void bench_decoder(const char* label, int64_t dim, int64_t heads, int64_t mlp, int runs) {
  const SamMaskDecoder dec = in_dtype(SamMaskDecoder(decoder_weights(dim, mlp), heads));
  const SamPromptEncoder pe = in_dtype(SamPromptEncoder(rnd({2, dim / 2}, 1.0), rnd({1, dim}, 0.1)));
  const at::Tensor emb = rnd({1, dim, 64, 64}, 1.0);
  const at::Tensor image_pe = pe.dense_pe(64, 64);
  for (int64_t n : {int64_t{1}, int64_t{4}}) {
    const at::Tensor sparse = rnd({n, 1, dim}, 1.0);
    const at::Tensor dense = pe.no_mask_dense(n, 64, 64);
    at::Tensor low;
    const double t = median_seconds(runs, [&] { low = dec.predict_low_res(emb, image_pe, sparse, dense); });
    std::printf("  %-28s n=%lld: decoder %.1f ms total (CPU %.1f ms), %.1f ms per mask\n", label,
                static_cast<long long>(n), 1e3 * t, 1e3 * g_last_cpu, 1e3 * t / static_cast<double>(n));
    if (n == 4) {
      for (auto [h, w] : {std::pair<int64_t, int64_t>{360, 640}, std::pair<int64_t, int64_t>{1500, 2250}}) {
        const std::pair<int64_t, int64_t> resized{(h * 1024 + w / 2) / w, 1024};
        std::vector<glamm::model::PredictedMask> rle;
        const double tp = median_seconds(runs, [&] {
          rle = glamm::model::sam_masks_to_rle(glamm::model::sam_postprocess_masks(low, resized, {h, w}));
        });
        std::printf("  %-28s post-processing + RLE to %lldx%lld: %.1f ms per mask (CPU %.1f ms)\n", label,
                    static_cast<long long>(h), static_cast<long long>(w), 1e3 * tp / static_cast<double>(n),
                    1e3 * g_last_cpu / static_cast<double>(n));
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool full = false;
  int runs = 3;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      at::set_num_threads(std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--full-vit-h")) {
      full = true;
    } else if (!std::strcmp(argv[i], "--dtype") && i + 1 < argc) {
      const std::string d = argv[++i];
      if (d != "fp32" && d != "bf16") {
        std::fprintf(stderr, "sam_bench: --dtype must be fp32 or bf16\n");
        return 2;
      }
      g_bf16 = d == "bf16";
    } else if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: sam_bench [--threads N] [--full-vit-h] [--runs R] [--dtype fp32|bf16]\n");
      return 2;
    }
  }
  c10::InferenceMode guard;
  at::manual_seed(0);
  std::printf("sam_bench: %d intra-op threads, %s, load average at start %s\n", at::get_num_threads(),
              g_bf16 ? "bf16" : "fp32", load_average().c_str());
  const at::Tensor image = at::randn({1, 3, 1024, 1024});

  // Tiny golden sizes: dim 48, 3 heads (head_dim 16), 4 blocks with global blocks 1 and 3, neck 32.
  {
    const SamImageEncoder enc = in_dtype(SamImageEncoder(encoder_weights(48, 16, 64, 32, {14, 0, 14, 0})));
    enc.forward(image);  // warm-up (oneDNN / allocator)
    const double t = median_seconds(runs, [&] { enc.forward(image); });
    std::printf("tiny SAM image encoder (dim 48, 4 blocks): %.0f ms (CPU %.0f ms; medians of %d)\n", 1e3 * t,
                1e3 * g_last_cpu, runs);
  }
  std::printf("tiny mask decoder (dim 32, 2 heads):\n");
  bench_decoder("tiny", 32, 2, 64, runs);
  std::printf("real mask decoder (dim 256, 8 heads, mlp 2048):\n");
  bench_decoder("real", 256, 8, 2048, runs);

  // Real ViT-H sizes: dim 1280, 16 heads × 80, window 14, grid 64, neck 256.
  {
    const SamImageEncoder enc = in_dtype(SamImageEncoder(encoder_weights(1280, 80, 64, 256, {14, 14, 0})));
    const auto& c = enc.config();
    const double t_all = seconds([&] { enc.forward(image); });  // base + 2·win + glob
    const double cpu_all = g_last_cpu;
    // One-block encoders (patch embedding and neck included): t_win1 = base + win, t_glob1 = base + glob.
    const SamImageEncoder e1 = in_dtype(SamImageEncoder(encoder_weights(1280, 80, 64, 256, {14})));
    const SamImageEncoder e0 = in_dtype(SamImageEncoder(encoder_weights(1280, 80, 64, 256, {0})));
    const double t_win1 = seconds([&] { e1.forward(image); });
    const double cpu_win1 = g_last_cpu;
    const double t_glob1 = seconds([&] { e0.forward(image); });
    const double cpu_glob1 = g_last_cpu;
    // The same solution on CPU seconds (equal to idle single-core wall time when running one thread).
    const double cwin = std::max(0.0, (cpu_all - cpu_glob1) / 2.0);
    const double cbase = std::max(0.0, cpu_win1 - cwin);
    const double cglob = std::max(0.0, cpu_glob1 - cbase);
    const double win_block = std::max(0.0, (t_all - t_glob1) / 2.0);
    const double base_time = std::max(0.0, t_win1 - win_block);
    const double glob_block = std::max(0.0, t_glob1 - base_time);
    const double extrapolated = base_time + 28.0 * win_block + 4.0 * glob_block;
    std::printf("ViT-H encoder, %lld of 32 blocks run (2 windowed + 1 global; dim %lld, %lld heads): %.2f s\n",
                static_cast<long long>(c.window.size()), static_cast<long long>(c.dim), static_cast<long long>(c.heads),
                t_all);
    std::printf(
        "  windowed block %.2f s, global block %.2f s, patch embed + neck %.2f s (solved from 1- and 3-block "
        "runs)\n",
        win_block, glob_block, base_time);
    std::printf("  CPU: windowed block %.2f s, global block %.2f s, patch embed + neck %.2f s\n", cwin, cglob, cbase);
    std::printf("  EXTRAPOLATED full ViT-H (patch+neck + 28 windowed + 4 global): wall %.1f s, CPU %.1f s\n",
                extrapolated, cbase + 28.0 * cwin + 4.0 * cglob);
    std::printf(
        "  peak RSS so far %.0f MiB (weights of the 3+1+1 blocks built here ~%.0f MiB; a full 32-block "
        "encoder holds ~%.0f MiB of weights)\n",
        peak_rss_mib(), 5 * 19.7e6 * 4 / 1048576.0, 32 * 19.7e6 * 4 / 1048576.0);
  }
  if (full) {
    std::vector<int64_t> windows;
    for (int i = 0; i < 32; ++i) windows.push_back((i % 8 == 7) ? 0 : 14);
    const SamImageEncoder enc(encoder_weights(1280, 80, 64, 256, windows));
    const double t = seconds([&] { enc.forward(image); });
    std::printf("full ViT-H encoder (32 blocks, measured): %.1f s\n", t);
  }
  std::printf("peak RSS %.0f MiB; load average at end %s\n", peak_rss_mib(), load_average().c_str());
  return 0;
}
