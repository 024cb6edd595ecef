#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/numeric.h"

using glamm::metrics::numpy_mean;
using glamm::metrics::numpy_pairwise_sum;

TEST(NumpyPairwiseSum, ShortArraysSumSequentially) {
  std::vector<double> a = {0.1, 0.2, 0.3};
  EXPECT_EQ(numpy_pairwise_sum(a.data(), a.size()), (0.1 + 0.2) + 0.3);
}

TEST(NumpyPairwiseSum, SixteenElementsUseEightStridedAccumulators) {
  // 1e16 + 1 rounds back to 1e16 (ties to even, ulp 2), so a sequential sum never grows; the pairwise order
  // adds the ones in pairs first: ((1e16+2)+(2+2))+((2+2)+(2+2)) = 1e16 + 14.
  std::vector<double> a(16, 1.0);
  a[0] = 1e16;
  double seq = 0.0;
  for (double v : a) seq += v;
  EXPECT_EQ(seq, 1e16);
  EXPECT_EQ(numpy_pairwise_sum(a.data(), a.size()), 1e16 + 14);
}

TEST(NumpyPairwiseSum, LongArraysSplitAtMultipleOfEight) {
  // n = 300: split at 144 (150 - 150 % 8) and 156; each half of ones sums exactly, so the total is exact.
  std::vector<double> a(300, 1.0);
  EXPECT_EQ(numpy_pairwise_sum(a.data(), a.size()), 300.0);
}

TEST(NumpyMean, EmptyIsNaN) { EXPECT_TRUE(std::isnan(numpy_mean(std::vector<double>{}))); }

TEST(NumpyMean, MeanOfThirds) {
  std::vector<double> a = {1.0 / 3, 1.0 / 3, 1.0 / 3};
  EXPECT_EQ(numpy_mean(a), ((1.0 / 3 + 1.0 / 3) + 1.0 / 3) / 3.0);
}
