#include "lpc.h"

#include <cmath>

#include "simd.h"

namespace edgeser {
namespace {

// Lags [first, first + kVectors * W) at once: kVectors registers of W lags, broadcasting x[j]
// against x[j + lag], in four interleaved partial sums over j (j mod 4) so that 4 kVectors
// independent additions hide the latency of each. Past the frame the padding zeros add exact
// zeros, so each lag's sum is the same whatever the vector width.
constexpr int kStreams = 4;

template <int W, int kVectors>
EDGESER_INLINE void LagBlock(const double* x, int n, int first, double* out) {
  using S = Simd<W>;
  using V = typename S::V;
  V acc[kStreams][kVectors];
  for (int s = 0; s < kStreams; ++s)
    for (int q = 0; q < kVectors; ++q) acc[s][q] = S::Set(0.0);
  const double* y = x + first;
  for (int j = 0; j < n; j += kStreams) {  // x[n .. n + 3) are padding zeros
    for (int s = 0; s < kStreams; ++s) {
      const V xj = S::Set(x[j + s]);
      for (int q = 0; q < kVectors; ++q) acc[s][q] += xj * S::Load(y + j + s + q * W);
    }
  }
  for (int q = 0; q < kVectors; ++q)
    S::Store(out + q * W, (acc[0][q] + acc[1][q]) + (acc[2][q] + acc[3][q]));
}

template <int W>
EDGESER_INLINE void AutocorrelationVectorsImpl(const double* x, int n, int max_lag, double* r) {
  // 4 kVectors accumulators plus the operands fit the registers (32 with AVX-512, else 16).
  constexpr int kMaxVectors = W == 8 ? 4 : 2;
  const int lags = max_lag + 1;
  for (int first = 0; first < lags; first += kMaxVectors * W) {
    double block[4 * 8];  // kMaxVectors * W <= 32
    const int vectors = (lags - first + W - 1) / W;
    if constexpr (kMaxVectors == 4) {
      if (vectors >= 4) {
        LagBlock<W, 4>(x, n, first, block);
      } else if (vectors == 3) {
        LagBlock<W, 3>(x, n, first, block);
      } else if (vectors == 2) {
        LagBlock<W, 2>(x, n, first, block);
      } else {
        LagBlock<W, 1>(x, n, first, block);
      }
    } else if (vectors >= 2) {
      LagBlock<W, 2>(x, n, first, block);
    } else {
      LagBlock<W, 1>(x, n, first, block);
    }
    for (int k = first; k < lags && k < first + kMaxVectors * W; ++k) r[k] = block[k - first];
  }
}

EDGESER_MULTIVERSIONED(AutocorrelationVectors, (const double* x, int n, int max_lag, double* r),
                       (x, n, max_lag, r))

}  // namespace

void Autocorrelation(const double* x, int n, int max_lag, double* r) {
  AutocorrelationVectors(x, n, max_lag, r);
}

bool LevinsonDurbin(const double* r, int order, double* a) {
  double err = r[0];
  if (!(err > 0.0) || !std::isfinite(err)) return false;
  for (int i = 0; i < order; ++i) {  // step i finds a_{i+1} of order i + 1
    // acc = r_{i+1} + sum_j a_j r_{i-j}, in two partial sums to halve the dependency chain.
    double even = r[i + 1], odd = 0.0;
    int j = 0;
    for (; j + 1 < i; j += 2) {
      even += a[j] * r[i - j];
      odd += a[j + 1] * r[i - j - 1];
    }
    if (j < i) even += a[j] * r[i - j];
    const double k = -(even + odd) / err;
    // a_j += k a_{i-1-j}, in place from both ends.
    for (int lo = 0, hi = i - 1; lo <= hi; ++lo, --hi) {
      const double a_lo = a[lo], a_hi = a[hi];
      a[lo] = a_lo + k * a_hi;
      if (lo != hi) a[hi] = a_hi + k * a_lo;
    }
    a[i] = k;
    err *= 1.0 - k * k;
    if (!(err > 0.0) || !std::isfinite(err)) return false;
  }
  return true;
}

}  // namespace edgeser
