// The bf16-weight GEMV kernels (model/bf16_gemv.h): each kernel against the plain C++ emulation of its summation
// order (bit for bit), against a double-precision sum (accuracy), over row ranges, token counts and lengths with
// and without tails; and the bf16 rounding helpers against libtorch's own conversion.
#include <ATen/ATen.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "model/bf16_gemv.h"

using namespace glamm::model;

namespace {

std::vector<uint16_t> random_bf16(std::size_t n, float scale, std::mt19937& rng) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<uint16_t> v(n);
  for (auto& b : v) b = float_to_bf16_bits(d(rng));
  return v;
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

const GemvIsa kAll[] = {GemvIsa::kScalar, GemvIsa::kAvx2, GemvIsa::kAvx512Bf16};

}  // namespace

TEST(Bf16Gemv, EveryKernelMatchesItsOrderBitForBit) {
  std::mt19937 rng(7);
  int kernels = 0;
  for (GemvIsa isa : kAll) {
    if (!gemv_isa_supported(isa)) continue;
    ++kernels;
    for (int64_t K : {1, 2, 15, 16, 17, 31, 32, 33, 63, 100, 4096, 11008}) {
      const int64_t rows = 11, ldw = K + 3, T = 5, ldx = K + 1, ldy = rows + 2;
      const auto w = random_bf16(static_cast<std::size_t>(rows * ldw), 0.02f, rng);
      const auto x = random_bf16(static_cast<std::size_t>(T * ldx), 1.0f, rng);
      for (int64_t t_count : {1, 2, 3, 5}) {
        std::vector<float> y(static_cast<std::size_t>(T * ldy), -7.0f);
        // Two row ranges (as two threads would take them) covering rows 0..rows-1, the second with a partial block.
        gemv_bf16(isa, w.data(), ldw, x.data(), ldx, t_count, K, 0, 4, y.data(), ldy);
        gemv_bf16(isa, w.data(), ldw, x.data(), ldx, t_count, K, 4, rows, y.data(), ldy);
        for (int64_t t = 0; t < T; ++t)
          for (int64_t r = 0; r < ldy; ++r) {
            const float got = y[static_cast<std::size_t>(t * ldy + r)];
            if (t >= t_count || r >= rows) {
              ASSERT_EQ(got, -7.0f) << "wrote outside its range: " << gemv_isa_name(isa) << " t " << t << " r " << r;
              continue;
            }
            const float want = gemv_bf16_reference(isa, w.data() + r * ldw, x.data() + t * ldx, K);
            ASSERT_EQ(bits(got), bits(want)) << gemv_isa_name(isa) << " K " << K << " T " << t_count << " t " << t
                                             << " r " << r << ": " << got << " vs " << want;
            double exact = 0, mag = 0;
            for (int64_t k = 0; k < K; ++k) {
              const double p = static_cast<double>(bf16_bits_to_float(x[static_cast<std::size_t>(t * ldx + k)])) *
                               bf16_bits_to_float(w[static_cast<std::size_t>(r * ldw + k)]);
              exact += p;
              mag += std::fabs(p);
            }
            ASSERT_LE(std::fabs(got - exact), 1e-6 * mag + 1e-30) << gemv_isa_name(isa) << " K " << K;
          }
      }
    }
  }
  EXPECT_GE(kernels, 1);
}

TEST(Bf16Gemv, ScalarAndAvx2AreTheSameOrder) {
  if (!gemv_isa_supported(GemvIsa::kAvx2)) GTEST_SKIP() << "this CPU has no AVX2/FMA";
  std::mt19937 rng(11);
  const int64_t rows = 9, K = 4099;
  const auto w = random_bf16(static_cast<std::size_t>(rows * K), 0.05f, rng);
  const auto x = random_bf16(static_cast<std::size_t>(3 * K), 2.0f, rng);
  std::vector<float> a(3 * rows), b(3 * rows);
  gemv_bf16(GemvIsa::kScalar, w.data(), K, x.data(), K, 3, K, 0, rows, a.data(), rows);
  gemv_bf16(GemvIsa::kAvx2, w.data(), K, x.data(), K, 3, K, 0, rows, b.data(), rows);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
}

TEST(Bf16Gemv, Avx512Bf16OrderDiffersFromAvx2ButAgrees) {
  if (!gemv_isa_supported(GemvIsa::kAvx512Bf16)) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  std::mt19937 rng(3);
  const int64_t rows = 64, K = 4096;
  const auto w = random_bf16(static_cast<std::size_t>(rows * K), 0.02f, rng);
  const auto x = random_bf16(static_cast<std::size_t>(K), 1.0f, rng);
  std::vector<float> a(rows), b(rows);
  gemv_bf16(GemvIsa::kAvx512Bf16, w.data(), K, x.data(), K, 1, K, 0, rows, a.data(), rows);
  gemv_bf16(GemvIsa::kScalar, w.data(), K, x.data(), K, 1, K, 0, rows, b.data(), rows);
  int differ = 0;
  for (int64_t r = 0; r < rows; ++r) {
    differ += bits(a[r]) != bits(b[r]);
    EXPECT_NEAR(a[r], b[r], 1e-5 * (std::fabs(b[r]) + 1.0));
  }
  // Different summation orders: some results differ in the last bits (the orders are really different).
  EXPECT_GT(differ, 0);
}

TEST(Bf16Gemv, RoundingMatchesTorch) {
  std::vector<float> v = {0.0f, -0.0f, 1.0f, -1.5f, 1.00390625f /* tie: 1 + 2^-8 */, 1.01171875f /* tie, odd */,
                          3.0e38f, -3.4e38f, 1e-40f, std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::max(),
                          std::numeric_limits<float>::quiet_NaN()};
  std::mt19937 rng(5);
  std::normal_distribution<float> d(0.0f, 100.0f);
  for (int i = 0; i < 10000; ++i) v.push_back(d(rng));
  const at::Tensor t = at::from_blob(v.data(), {static_cast<int64_t>(v.size())}, at::kFloat).to(at::kBFloat16);
  const auto* tb = reinterpret_cast<const uint16_t*>(t.data_ptr());
  for (std::size_t i = 0; i < v.size(); ++i) {
    const uint16_t mine = float_to_bf16_bits(v[i]);
    if (std::isnan(v[i])) {
      EXPECT_TRUE(std::isnan(bf16_bits_to_float(mine)));
      continue;
    }
    ASSERT_EQ(mine, tb[i]) << "value " << v[i];
    EXPECT_EQ(bf16_bits_to_float(mine), static_cast<float>(t[static_cast<int64_t>(i)].item<c10::BFloat16>()));
  }
}
