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
  // add.reduce starts from the identity-less first-element path: 0.0 + pairwise(all) for a contiguous array.
  return (0.0 + numpy_pairwise_sum(a, n)) / static_cast<double>(n);
}

}  // namespace glamm::metrics
