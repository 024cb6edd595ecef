// bf16-weight matrix–vector kernels (see bf16_gemv.h). The vector kernels are compiled with per-function target
// attributes, so the library builds for any x86-64 and picks a kernel at run time.
#include "model/bf16_gemv.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define GLAMM_GEMV_X86 1
#else
#define GLAMM_GEMV_X86 0
#endif

namespace glamm::model {

float bf16_bits_to_float(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t float_to_bf16_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

namespace {

constexpr int64_t kRowBlock = 4;  // weight rows per pass: independent accumulator chains, one read of x per block

/// An fp32 value with denormals flushed to (signed) zero, as VDPBF16PS treats inputs and results.
float ftz(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7f800000u) == 0) u &= 0x80000000u;
  std::memcpy(&f, &u, 4);
  return f;
}

// ---- scalar (the avx2 kernel's order) --------------------------------------------------------------------------

float dot_scalar(const uint16_t* w, const uint16_t* x, int64_t K) {
  float p[16] = {};
  int64_t k = 0;
  for (; k + 16 <= K; k += 16)
    for (int j = 0; j < 16; ++j) p[j] += bf16_bits_to_float(x[k + j]) * bf16_bits_to_float(w[k + j]);
  for (int j = 0; k + j < K; ++j) p[j] += bf16_bits_to_float(x[k + j]) * bf16_bits_to_float(w[k + j]);
  float q[8];
  for (int j = 0; j < 8; ++j) q[j] = p[j] + p[j + 8];
  for (int j = 0; j < 4; ++j) q[j] += q[j + 4];
  for (int j = 0; j < 2; ++j) q[j] += q[j + 2];
  return q[0] + q[1];
}

void gemv_scalar(const uint16_t* w, int64_t ldw, const uint16_t* x, int64_t ldx, int64_t T, int64_t K, int64_t r0,
                 int64_t r1, float* y, int64_t ldy) {
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t t = 0; t < T; ++t) y[t * ldy + r] = dot_scalar(w + r * ldw, x + t * ldx, K);
}

/// Reference of the avx512bf16 order: block b of 32 k's goes to accumulator b mod 4, where lane i adds pair element
/// 2i+1 then 2i (flushing denormals); the accumulators are added lane-wise as (0+1)+(2+3), then the lane tree.
float dot_avx512bf16_reference(const uint16_t* w, const uint16_t* x, int64_t K) {
  float lane[4][16] = {};
  for (int64_t b = 0; b < K; b += 32) {
    float* acc = lane[(b / 32) % 4];
    for (int i = 0; i < 16; ++i)
      for (int e : {2 * i + 1, 2 * i}) {
        const int64_t k = b + e;
        const float xv = k < K ? ftz(bf16_bits_to_float(x[k])) : 0.0f;
        const float wv = k < K ? ftz(bf16_bits_to_float(w[k])) : 0.0f;
        acc[i] = ftz(acc[i] + ftz(xv * wv));
      }
  }
  float l[16];
  for (int i = 0; i < 16; ++i) l[i] = (lane[0][i] + lane[1][i]) + (lane[2][i] + lane[3][i]);
  float q[8];
  for (int j = 0; j < 8; ++j) q[j] = l[j] + l[j + 8];
  for (int j = 0; j < 4; ++j) q[j] += q[j + 4];
  for (int j = 0; j < 2; ++j) q[j] += q[j + 2];
  return q[0] + q[1];
}

#if GLAMM_GEMV_X86

// ---- AVX2 + FMA ------------------------------------------------------------------------------------------------

__attribute__((target("avx2,fma"))) inline __m256 widen_lo(__m256i v16) {
  // bf16 → fp32: zero-extend the low 8 halves to 32 bits and shift them into the high half.
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm256_castsi256_si128(v16)), 16));
}
__attribute__((target("avx2,fma"))) inline __m256 widen_hi(__m256i v16) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm256_extracti128_si256(v16, 1)), 16));
}
/// Lanes j + (j+8) already summed in `a`: the tree + 4, + 2, + 1.
__attribute__((target("avx2,fma"))) inline float reduce8(__m256 a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));  // j + (j+4)
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));                                          // j + (j+2)
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));                                      // 0 + 1
  return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) void gemv_avx2(const uint16_t* w, int64_t ldw, const uint16_t* x, int64_t ldx,
                                                   int64_t T, int64_t K, int64_t r0, int64_t r1, float* y,
                                                   int64_t ldy) {
  const int64_t Kb = K & ~int64_t{15};
  const int64_t tail = K - Kb;
  alignas(32) uint16_t xt[16], wt[kRowBlock][16];
  for (int64_t rb = r0; rb < r1; rb += kRowBlock) {
    const int nr = static_cast<int>(std::min<int64_t>(kRowBlock, r1 - rb));
    for (int64_t t = 0; t < T; ++t) {
      const uint16_t* xr = x + t * ldx;
      __m256 lo[kRowBlock], hi[kRowBlock];
      for (int i = 0; i < kRowBlock; ++i) lo[i] = hi[i] = _mm256_setzero_ps();
      for (int64_t k = 0; k < Kb; k += 16) {
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr + k));
        const __m256 xl = widen_lo(xv), xh = widen_hi(xv);
        for (int i = 0; i < nr; ++i) {
          const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + (rb + i) * ldw + k));
          lo[i] = _mm256_fmadd_ps(xl, widen_lo(wv), lo[i]);
          hi[i] = _mm256_fmadd_ps(xh, widen_hi(wv), hi[i]);
        }
      }
      if (tail) {
        std::memset(xt, 0, sizeof xt);
        std::memcpy(xt, xr + Kb, static_cast<std::size_t>(tail) * 2);
        const __m256i xv = _mm256_load_si256(reinterpret_cast<const __m256i*>(xt));
        const __m256 xl = widen_lo(xv), xh = widen_hi(xv);
        for (int i = 0; i < nr; ++i) {
          std::memset(wt[i], 0, sizeof wt[i]);
          std::memcpy(wt[i], w + (rb + i) * ldw + Kb, static_cast<std::size_t>(tail) * 2);
          const __m256i wv = _mm256_load_si256(reinterpret_cast<const __m256i*>(wt[i]));
          lo[i] = _mm256_fmadd_ps(xl, widen_lo(wv), lo[i]);
          hi[i] = _mm256_fmadd_ps(xh, widen_hi(wv), hi[i]);
        }
      }
      for (int i = 0; i < nr; ++i) y[t * ldy + rb + i] = reduce8(_mm256_add_ps(lo[i], hi[i]));
    }
  }
}

// ---- AVX512-BF16 -----------------------------------------------------------------------------------------------

#define GLAMM_AVX512BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")))

/// 16 lanes: the tree i + (i+8), then + 4, + 2, + 1 (scalar adds: once per output element).
GLAMM_AVX512BF16 inline float reduce16(__m512 a) {
  alignas(64) float l[16];
  _mm512_store_ps(l, a);
  float q[8];
  for (int j = 0; j < 8; ++j) q[j] = l[j] + l[j + 8];
  for (int j = 0; j < 4; ++j) q[j] += q[j + 4];
  for (int j = 0; j < 2; ++j) q[j] += q[j + 2];
  return q[0] + q[1];
}

/// One weight row against kN rows of x (1, 2 or 4): four accumulators per x row, block b of 32 k's going to
/// accumulator b mod 4, so each x row's sum has the same order whatever kN is; the weight row is read once, front
/// to back (a single sequential stream per thread, which the hardware prefetcher follows best; software prefetches
/// measured slower).
template <int kN>
GLAMM_AVX512BF16 inline void row_avx512bf16(const uint16_t* wr, const uint16_t* const* xs, int64_t K,
                                            float* const* ys) {
  const int64_t Kb = K & ~int64_t{31};
  const int64_t tail = K - Kb;
  __m512 acc[kN][4];
  for (int n = 0; n < kN; ++n)
    for (int j = 0; j < 4; ++j) acc[n][j] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 128 <= Kb; k += 128)
    for (int j = 0; j < 4; ++j) {
      const __m512bh wv = (__m512bh)_mm512_loadu_si512(wr + k + 32 * j);
      for (int n = 0; n < kN; ++n)
        acc[n][j] = _mm512_dpbf16_ps(acc[n][j], (__m512bh)_mm512_loadu_si512(xs[n] + k + 32 * j), wv);
    }
  int j = 0;
  for (; k < Kb; k += 32, ++j) {
    const __m512bh wv = (__m512bh)_mm512_loadu_si512(wr + k);
    for (int n = 0; n < kN; ++n)
      acc[n][j] = _mm512_dpbf16_ps(acc[n][j], (__m512bh)_mm512_loadu_si512(xs[n] + k), wv);
  }
  if (tail) {
    const __mmask32 m = static_cast<__mmask32>((uint64_t{1} << tail) - 1);
    const __m512bh wv = (__m512bh)_mm512_maskz_loadu_epi16(m, wr + Kb);
    for (int n = 0; n < kN; ++n)
      acc[n][j] = _mm512_dpbf16_ps(acc[n][j], (__m512bh)_mm512_maskz_loadu_epi16(m, xs[n] + Kb), wv);
  }
  for (int n = 0; n < kN; ++n)
    *ys[n] = reduce16(_mm512_add_ps(_mm512_add_ps(acc[n][0], acc[n][1]), _mm512_add_ps(acc[n][2], acc[n][3])));
}

GLAMM_AVX512BF16 void gemv_avx512bf16(const uint16_t* w, int64_t ldw, const uint16_t* x, int64_t ldx, int64_t T,
                                      int64_t K, int64_t r0, int64_t r1, float* y, int64_t ldy) {
  // x rows four at a time (16 accumulators), then a pair, then one; more rows re-read the weight row from L1/L2
  // (a 7B row is 8–22 KB).
  for (int64_t r = r0; r < r1; ++r) {
    const uint16_t* wr = w + r * ldw;
    int64_t t = 0;
    const uint16_t* xs[4];
    float* ys[4];
    auto point = [&](int n) {
      for (int i = 0; i < n; ++i) {
        xs[i] = x + (t + i) * ldx;
        ys[i] = y + (t + i) * ldy + r;
      }
    };
    for (; t + 4 <= T; t += 4) {
      point(4);
      row_avx512bf16<4>(wr, xs, K, ys);
    }
    for (; t + 2 <= T; t += 2) {
      point(2);
      row_avx512bf16<2>(wr, xs, K, ys);
    }
    if (t < T) {
      point(1);
      row_avx512bf16<1>(wr, xs, K, ys);
    }
  }
}

#endif  // GLAMM_GEMV_X86

GemvIsa parse_isa(const std::string& s) {
  if (s == "scalar") return GemvIsa::kScalar;
  if (s == "avx2") return GemvIsa::kAvx2;
  if (s == "avx512bf16") return GemvIsa::kAvx512Bf16;
  throw std::invalid_argument("GLAMM_GEMV_ISA='" + s + "': expected scalar, avx2 or avx512bf16");
}

GemvIsa detect_isa() {
  if (const char* env = std::getenv("GLAMM_GEMV_ISA"); env && *env) {
    const GemvIsa isa = parse_isa(env);
    if (!gemv_isa_supported(isa))
      throw std::invalid_argument(std::string("GLAMM_GEMV_ISA=") + env + ": this CPU does not support it");
    return isa;
  }
  if (gemv_isa_supported(GemvIsa::kAvx512Bf16)) return GemvIsa::kAvx512Bf16;
  if (gemv_isa_supported(GemvIsa::kAvx2)) return GemvIsa::kAvx2;
  return GemvIsa::kScalar;
}

}  // namespace

bool gemv_isa_supported(GemvIsa isa) {
  switch (isa) {
    case GemvIsa::kScalar:
      return true;
#if GLAMM_GEMV_X86
    case GemvIsa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case GemvIsa::kAvx512Bf16:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16") &&
             __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    default:
      return false;
  }
}

GemvIsa best_gemv_isa() {
  static const GemvIsa isa = detect_isa();
  return isa;
}

const char* gemv_isa_name(GemvIsa isa) {
  switch (isa) {
    case GemvIsa::kScalar:
      return "scalar";
    case GemvIsa::kAvx2:
      return "avx2";
    case GemvIsa::kAvx512Bf16:
      return "avx512bf16";
  }
  return "?";
}

void gemv_bf16(GemvIsa isa, const uint16_t* w, int64_t ldw, const uint16_t* x, int64_t ldx, int64_t T, int64_t K,
               int64_t r0, int64_t r1, float* y, int64_t ldy) {
  if (r1 <= r0 || T <= 0) return;
  switch (isa) {
#if GLAMM_GEMV_X86
    case GemvIsa::kAvx512Bf16:
      gemv_avx512bf16(w, ldw, x, ldx, T, K, r0, r1, y, ldy);
      return;
    case GemvIsa::kAvx2:
      gemv_avx2(w, ldw, x, ldx, T, K, r0, r1, y, ldy);
      return;
#endif
    default:
      gemv_scalar(w, ldw, x, ldx, T, K, r0, r1, y, ldy);
  }
}

float gemv_bf16_reference(GemvIsa isa, const uint16_t* w, const uint16_t* x, int64_t K) {
  return isa == GemvIsa::kAvx512Bf16 ? dot_avx512bf16_reference(w, x, K) : dot_scalar(w, x, K);
}

}  // namespace glamm::model
