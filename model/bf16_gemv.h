// Matrix–vector products over bf16 weights read in place (no up-cast copy), for memory-bound LLM decoding on CPUs.
// Torch-free: raw pointers and row ranges, so callers choose the threading (model/llama.cpp splits output rows
// over libtorch's intra-op threads; every output element is computed by one thread in a fixed order, so results do
// not depend on the thread count).
//
// Three kernels, chosen at run time (best_gemv_isa(); GLAMM_GEMV_ISA=scalar|avx2|avx512bf16 forces one the CPU
// supports, for tests and comparisons):
//   avx512bf16  VDPBF16PS (AVX512-BF16): 16 fp32 lanes, each adding the products of one bf16 pair per step;
//   avx2        AVX2+FMA: bf16 widened to fp32 by a 16-bit shift, two 8-lane fp32 accumulators;
//   scalar      plain C++ in exactly the avx2 kernel's order (so the two give bit-equal results).
// A product of two bf16 values is exact in fp32, so each step is one correctly rounded fp32 addition; the order of
// those additions is documented per kernel below and reproduced by gemv_bf16_reference() for tests.
// The GPU reference (cuBLAS bf16 GEMM) also multiplies bf16 and accumulates in fp32, in an order of its own.
#pragma once

#include <cstdint>

namespace glamm::model {

enum class GemvIsa { kScalar, kAvx2, kAvx512Bf16 };

/// The fastest kernel this CPU runs (CPUID at first call), unless GLAMM_GEMV_ISA names another supported one.
/// Throws std::invalid_argument when GLAMM_GEMV_ISA names an unknown kernel or one this CPU lacks.
GemvIsa best_gemv_isa();
/// Whether this CPU can run `isa`.
bool gemv_isa_supported(GemvIsa isa);
/// "scalar", "avx2", "avx512bf16".
const char* gemv_isa_name(GemvIsa isa);

/// y[t·ldy + r] = Σ_k x[t·ldx + k] · w[r·ldw + k]  for t in [0, T), r in [r0, r1), k in [0, K).
/// `w`: bf16 bit patterns, row-major [rows, ldw ≥ K] (a torch nn.Linear weight [out, in]); `x`: T rows of bf16 bit
/// patterns [T, ldx ≥ K]; `y`: fp32 [T, ldy] (only columns r0..r1−1 written, not rounded to bf16: the caller
/// rounds). T is small (decode: 1 per sequence); each weight row is read once for all T rows of x.
/// Summation order per output element:
///   avx512bf16: 4 accumulators of 16 lanes; block b of 32 k's (a final partial block padded with zeros) goes
///               to accumulator b mod 4, whose lane i adds first the product of pair element 2i+1, then of 2i (the
///               instruction's documented order); then the accumulators are added lane-wise as (0+1)+(2+3) and
///               the lanes as a tree: i + (i+8), then + 4, + 2, + 1. Denormal inputs and results are flushed to
///               zero (the instruction's DAZ/FTZ behaviour). Each weight row is read once, front to back.
///   avx2/scalar: 16 partial sums; partial j takes k ≡ j (mod 16) in increasing k (zero-padded tail); then
///               partial j + partial j+8 (j < 8), then the 8 are added as a tree: + 4, + 2, + 1.
/// Preconditions (not checked: hot path): K ≥ 1, 0 ≤ r0 ≤ r1 ≤ rows, pointers valid for the ranges used, `isa`
/// supported by this CPU (calling an unsupported kernel is an illegal instruction).
void gemv_bf16(GemvIsa isa, const uint16_t* w, int64_t ldw, const uint16_t* x, int64_t ldx, int64_t T, int64_t K,
               int64_t r0, int64_t r1, float* y, int64_t ldy);

/// Plain C++ emulation of kernel `isa`'s summation order (avx512bf16 with its flush-to-zero), one output element:
/// Σ_k x[k]·w[k] over K. For tests: gemv_bf16(isa, …) must equal it bit for bit.
float gemv_bf16_reference(GemvIsa isa, const uint16_t* w, const uint16_t* x, int64_t K);

/// fp32 → bf16 bit pattern, round to nearest even (NaN stays NaN), as torch's .to(torch.bfloat16).
uint16_t float_to_bf16_bits(float f);
/// bf16 bit pattern → fp32 (exact).
float bf16_bits_to_float(uint16_t b);

}  // namespace glamm::model
