// Floating-point helpers that reproduce NumPy's summation order, so means match the reference bit for bit.
#pragma once

#include <cstddef>
#include <vector>

namespace glamm::metrics {

/// Sum of a[0..n) in NumPy 1.24's pairwise order (`pairwise_sum_DOUBLE` in loops_utils.h.src):
/// n < 8 sequential; n <= 128 eight strided accumulators combined ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) then the
/// tail added in order; larger n split at n2 = n/2 - (n/2)%8 and recursed. Used by np.sum / np.mean over a
/// contiguous float64 array.
double numpy_pairwise_sum(const double* a, std::size_t n);

/// np.mean of a contiguous float64 array: add.reduce in blocks of 8192 (NumPy's buffer size), i.e.
/// ((0.0 + pairwise(block0)) + pairwise(block1)) + ..., divided by n. Returns NaN for n == 0 (as NumPy does).
double numpy_mean(const double* a, std::size_t n);
inline double numpy_mean(const std::vector<double>& v) { return numpy_mean(v.data(), v.size()); }

/// np.spacing(1.0) = 2^-52, the epsilon pycocotools adds to the precision denominator.
constexpr double kNumpySpacing1 = 2.220446049250313e-16;

}  // namespace glamm::metrics
