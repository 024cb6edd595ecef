#include "metrics/numeric.h"

#include <limits>

namespace glamm::metrics {

double numpy_pairwise_sum(const double* a, std::size_t n) {
  if (n < 8) {
    // NumPy starts its sequential loop from -0.0 only in newer versions; 1.24 returns res = 0.; res += a[i].
    double res = 0.;
    for (std::size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int k = 0; k < 8; ++k) r[k] = a[k];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int k = 0; k < 8; ++k) r[k] += a[i + k];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_pairwise_sum(a, n2) + numpy_pairwise_sum(a + n2, n - n2);
}

double numpy_mean(const double* a, std::size_t n) {
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  // add.reduce hands the inner loop at most NPY_BUFSIZE = 8192 elements at a time: the result is
  // ((0.0 + pairwise(a[0:8192])) + pairwise(a[8192:16384])) + ... (checked against numpy 1.24.2 on 200 random
  // arrays of 100..60000 elements; a single pairwise sum differs in about a third of those above 8192).
  double acc = 0.0;
  for (std::size_t s = 0; s < n; s += 8192) acc += numpy_pairwise_sum(a + s, n - s < 8192 ? n - s : 8192);
  return acc / static_cast<double>(n);
}

}  // namespace glamm::metrics
