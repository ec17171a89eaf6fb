// Pitch and voice quality per pitch window (docs/voice-descriptors.md, "Pitch and voice
// quality").
//
// The difference function d(t) = e0 + e_t - 2 r(t) (e0 = sum_{j<W} x[j]^2, e_t = sum_{j<W}
// x[j+t]^2 by a running sum) takes its cross term r(t) = sum_{j<W} x[j] x[j+t] from FFTs of the
// kLanes windows of a block at once instead of O(W tau_max) direct sums: r is the
// autocorrelation of the window x[0:L] minus that of its tail x[W:L] (the products x[j] x[j+t]
// with j >= W), each the inverse transform of a power spectrum. A power spectrum is real and
// even, so its inverse is a cosine transform, computed with a real FFT of half the size (see
// EvenPrepare). In all: real FFTs of sizes N and N/2 for the window, M and M/2 for the tail
// (N = 1024, M = 512 at 16 kHz), about 70% of the arithmetic of three size-N transforms (the
// cross-spectrum way). The lags that wrap around an FFT are fixed by short direct sums.
#include "pitch.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace edgeser {
namespace {

constexpr int K = kLanes;
constexpr int S = kComplexStride;

// d(t) at or below this share of e0 + e_t is taken as 0: the FFT gives the cross term only to
// round-off of the window energies, so a near-perfect match must not come out as noise (or
// negative). The NumPy reference applies the same floor to its direct sums.
constexpr double kDifferenceFloor = 1e-11;

int NextPowerOfTwo(int n) {
  int p = 4;
  while (p < n) p <<= 1;
  return p;
}

// ---- lane-parallel passes (one instruction stream for all kLanes windows) ---------------------

// Where a > b, x; elsewhere y (element-wise).
#if defined(EDGESER_NEON_DISPATCH)
EDGESER_INLINE Simd<4>::V Select(Simd<4>::V a, Simd<4>::V b, Simd<4>::V x, Simd<4>::V y) {
  return {vbslq_f64(vcgtq_f64(a.lo, b.lo), x.lo, y.lo),
          vbslq_f64(vcgtq_f64(a.hi, b.hi), x.hi, y.hi)};
}
#endif
template <typename V>  // GCC/Clang vector types and plain doubles
EDGESER_INLINE V Select(V a, V b, V x, V y) {
  return a > b ? x : y;
}

// x[j * K + l] = window l minus its mean (lanes >= count repeat window 0), the means and
// power[l] = sum_j x[j]^2. The
// mean is fixed to the last bit, so that DC removal matches the reference exactly: four partial
// sums s_q of x[q], x[q + 4], ... left to right (independent chains), ((s0 + s1) + (s2 + s3)) / n.
template <int W>
EDGESER_INLINE void LoadWindowsImpl(int n, const float* const* windows, int count, double* x,
                                    double* means, double* power) {
  using V = typename Simd<W>::V;
  const V zero = Simd<W>::Set(0.0);
  for (int q = 0; q < K / W; ++q) {
    const float* src[W];
    for (int r = 0; r < W; ++r) src[r] = windows[q * W + r < count ? q * W + r : 0];
    double* out = x + q * W;
    V sum[4] = {zero, zero, zero, zero};  // sum[r]: rows i with i % 4 == r
    int i = 0;
    for (; i + W <= n; i += W) {  // W x W blocks transposed in registers
      V v[W];
      for (int r = 0; r < W; ++r) v[r] = Simd<W>::LoadFloats(src[r] + i);
      Simd<W>::Transpose(v);
      for (int j = 0; j < W; ++j) {
        Simd<W>::Store(out + (i + j) * K, v[j]);
        if constexpr (W % 4 == 0) sum[j % 4] += v[j];  // i % 4 == 0 here
      }
    }
    for (; i < n; ++i) {
      double lane[W];
      for (int r = 0; r < W; ++r) lane[r] = src[r][i];
      Simd<W>::Store(out + i * K, Simd<W>::Load(lane));
      if constexpr (W % 4 == 0) sum[i % 4] += Simd<W>::Load(lane);
    }
    if constexpr (W % 4 != 0) {
      for (i = 0; i < n; ++i) sum[i % 4] += Simd<W>::Load(out + i * K);
    }
    const V mean = ((sum[0] + sum[1]) + (sum[2] + sum[3])) / Simd<W>::Set(static_cast<double>(n));
    V energy[2] = {zero, zero};  // two chains
    for (i = 0; i + 2 <= n; i += 2) {
      for (int r = 0; r < 2; ++r) {
        const V v = Simd<W>::Load(out + (i + r) * K) - mean;
        Simd<W>::Store(out + (i + r) * K, v);
        energy[r] += v * v;
      }
    }
    for (; i < n; ++i) {
      const V v = Simd<W>::Load(out + i * K) - mean;
      Simd<W>::Store(out + i * K, v);
      energy[0] += v * v;
    }
    Simd<W>::Store(means + q * W, mean);
    Simd<W>::Store(power + q * W, energy[0] + energy[1]);
  }
}

EDGESER_MULTIVERSIONED(LoadWindows,
                       (int n, const float* const* windows, int count, double* x, double* means,
                        double* power),
                       (n, windows, count, x, means, power))

// ---- autocorrelation by FFT -------------------------------------------------------------------

// The inverse DFT (times N) of the real even spectrum P of size N = 2n, given P[0..n]:
// C(t) = P[0] + (-1)^t P[n] + 2 sum_{0<k<n} P[k] cos(pi k t / n), for t in [0, t_max], t_max <= n.
// With y[j] = (P[j] + P[n-j]) / 2 - sin(pi j / n) (P[j] - P[n-j]) and Y its DFT of size n, the
// even part of y gives C(2m) = 2 Re Y[m] and the odd part Im Y[m] = (C(2m-1) - C(2m+1)) / 2, a
// recurrence from C(1) = sum_{j<n} (P[j] - P[n-j]) cos(pi j / n).
template <int W>
EDGESER_INLINE void EvenPrepareImpl(int n, const double* p, const double* sn, const double* cs,
                                    double* y, double* c1) {
  using V = typename Simd<W>::V;
  for (int l = 0; l < K; l += W) {
    V first[2] = {Simd<W>::Set(0.0), Simd<W>::Set(0.0)};  // two chains (n is even)
    for (int j = 0; j < n; j += 2) {
      for (int q = 0; q < 2; ++q) {
        const V a = Simd<W>::Load(p + static_cast<std::ptrdiff_t>(j + q) * K + l);
        const V b = Simd<W>::Load(p + static_cast<std::ptrdiff_t>(n - j - q) * K + l);
        const V diff = a - b;
        Simd<W>::Store(y + static_cast<std::ptrdiff_t>(j + q) * K + l,
                       0.5 * (a + b) - sn[j + q] * diff);
        first[q] += cs[j + q] * diff;
      }
    }
    Simd<W>::Store(c1 + l, first[0] + first[1]);
  }
}

EDGESER_MULTIVERSIONED(EvenPrepare,
                       (int n, const double* p, const double* sn, const double* cs, double* y,
                        double* c1),
                       (n, p, sn, cs, y, c1))

// c[t] = C(t) * scale for t in [0, t_max] from Y (complex bins) and C(1).
template <int W>
EDGESER_INLINE void EvenFinishImpl(int t_max, const double* spec, const double* c1, double scale,
                                   double* c) {
  using V = typename Simd<W>::V;
  for (int l = 0; l < K; l += W) {
    V odd = Simd<W>::Load(c1 + l);  // C(2m - 1), starting at C(1)
    for (int t = 0; t <= t_max; ++t) {
      const double* bin = spec + static_cast<std::ptrdiff_t>(t / 2) * S + l;
      V v;
      if (t % 2 == 0) {
        v = 2.0 * Simd<W>::Load(bin);
      } else {
        if (t > 1) odd = odd - 2.0 * Simd<W>::Load(bin + K);
        v = odd;
      }
      Simd<W>::Store(c + static_cast<std::ptrdiff_t>(t) * K + l, v * scale);
    }
  }
}

EDGESER_MULTIVERSIONED(EvenFinish,
                       (int t_max, const double* spec, const double* c1, double scale, double* c),
                       (t_max, spec, c1, scale, c))

// ac[t] -= sum_{j<length-s} s[j] s[j+s] with s = size - t, for t in [from, to]: the part of the
// circular autocorrelation that wrapped around.
template <int W>
EDGESER_INLINE void UnwrapImpl(const double* seq, int length, int size, int from, int to,
                               double* ac) {
  using V = typename Simd<W>::V;
  for (int t = from; t <= to; ++t) {
    const int lag = size - t;
    for (int l = 0; l < K; l += W) {
      V sum = Simd<W>::Set(0.0);
      for (int j = 0; j + lag < length; ++j) {
        sum += Simd<W>::Load(seq + static_cast<std::ptrdiff_t>(j) * K + l) *
               Simd<W>::Load(seq + static_cast<std::ptrdiff_t>(j + lag) * K + l);
      }
      double* out = ac + static_cast<std::ptrdiff_t>(t) * K + l;
      Simd<W>::Store(out, Simd<W>::Load(out) - sum);
    }
  }
}

EDGESER_MULTIVERSIONED(Unwrap,
                       (const double* seq, int length, int size, int from, int to, double* ac),
                       (seq, length, size, from, to, ac))

// Products of the direct sums that fix the wrapped lags of an FFT of size `size`.
long long UnwrapCost(int length, int lags, int size) {
  long long cost = 0;
  for (int t = std::max(1, size - length + 1); t < lags; ++t) cost += length - (size - t);
  return cost;
}

// The smallest power of two >= length whose wrapped lags cost little next to the FFT.
int AutocorrelationSize(int length, int lags) {
  int size = NextPowerOfTwo(length);
  while (UnwrapCost(length, lags, size) > 4LL * size) size *= 2;
  return size;
}

// d(t) = e0 + e_t - 2 r(t) for t in [0, tau_max] (floored), r = window minus tail
// autocorrelation, e_t by a running sum.
template <int W>
EDGESER_INLINE void DifferenceImpl(int width, int tau_max, const double* x, const double* ac,
                                   const double* tail, double* d) {
  using V = typename Simd<W>::V;
  const V zero = Simd<W>::Set(0.0), floor = Simd<W>::Set(kDifferenceFloor);
  for (int l = 0; l < K; l += W) {
    V acc[4] = {zero, zero, zero, zero};  // independent chains
    int j = 0;
    for (; j + 4 <= width; j += 4) {
      for (int q = 0; q < 4; ++q) {
        const V v = Simd<W>::Load(x + static_cast<std::ptrdiff_t>(j + q) * K + l);
        acc[q] += v * v;
      }
    }
    for (; j < width; ++j) {
      const V v = Simd<W>::Load(x + static_cast<std::ptrdiff_t>(j) * K + l);
      acc[0] += v * v;
    }
    const V e0 = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    V et = e0;
    Simd<W>::Store(d + l, zero);
    for (int t = 1; t <= tau_max; ++t) {
      const std::ptrdiff_t at = static_cast<std::ptrdiff_t>(t) * K + l;
      const V leaving = Simd<W>::Load(x + static_cast<std::ptrdiff_t>(t - 1) * K + l);
      const V entering = Simd<W>::Load(x + static_cast<std::ptrdiff_t>(width + t - 1) * K + l);
      et += entering * entering - leaving * leaving;
      const V energy = e0 + Simd<W>::Max(et, 0.0);
      const V r = Simd<W>::Load(ac + at) - Simd<W>::Load(tail + at);
      const V v = energy - 2.0 * r;
      Simd<W>::Store(d + at, Select(v, floor * energy, v, zero));
    }
  }
}

EDGESER_MULTIVERSIONED(Difference,
                       (int width, int tau_max, const double* x, const double* ac,
                        const double* tail, double* d),
                       (width, tau_max, x, ac, tail, d))

// c(t) = d(t) t / sum_{k=1..t} d(k) (1 where the sum is 0) for t in [from, tau_max].
template <int W>
EDGESER_INLINE void CmndImpl(int from, int tau_max, const double* d, double* c) {
  using V = typename Simd<W>::V;
  const V zero = Simd<W>::Set(0.0), one = Simd<W>::Set(1.0);
  for (int l = 0; l < K; l += W) {
    V cum = zero;
    for (int t = 1; t <= tau_max; ++t) {
      const V dt = Simd<W>::Load(d + static_cast<std::ptrdiff_t>(t) * K + l);
      cum += dt;
      if (t < from) continue;
      const V ct = dt * static_cast<double>(t) / Select(cum, zero, cum, one);
      Simd<W>::Store(c + static_cast<std::ptrdiff_t>(t) * K + l, Select(cum, zero, ct, one));
    }
  }
}

EDGESER_MULTIVERSIONED(Cmnd, (int from, int tau_max, const double* d, double* c),
                       (from, tau_max, d, c))

// One window's DC-removed samples, contiguous (exactly the values of the lane layout), and its
// direct sums at lag t: e0 = sum_{j<W} x[j]^2, et = sum_{j<W} x[j+t]^2, r = sum_{j<W} x[j]
// x[j+t] (HNR must be exactly 0 where an energy is).
struct LaneSums {
  double e0, et, r;
};

template <int W>
EDGESER_INLINE void WindowSumsImpl(const float* window, int n, double mean, int width, int lag,
                                   double* xs, LaneSums* sums) {
  using V = typename Simd<W>::V;
  for (int j = 0; j < n; ++j) xs[j] = static_cast<double>(window[j]) - mean;
  const V zero = Simd<W>::Set(0.0);
  V e0[2] = {zero, zero}, et[2] = {zero, zero}, r[2] = {zero, zero};
  int j = 0;
  for (; j + 2 * W <= width; j += 2 * W) {  // two chains of each sum
    for (int q = 0; q < 2; ++q) {
      const V a = Simd<W>::Load(xs + j + q * W), b = Simd<W>::Load(xs + j + q * W + lag);
      e0[q] += a * a;
      et[q] += b * b;
      r[q] += a * b;
    }
  }
  double tail_e0 = 0.0, tail_et = 0.0, tail_r = 0.0;
  for (; j < width; ++j) {
    const double a = xs[j], b = xs[j + lag];
    tail_e0 += a * a;
    tail_et += b * b;
    tail_r += a * b;
  }
  auto total = [](const V* v, double tail) {
    double lanes[W];
    Simd<W>::Store(lanes, v[0] + v[1]);
    for (int l = 0; l < W; ++l) tail += lanes[l];
    return tail;
  };
  sums->e0 = total(e0, tail_e0);
  sums->et = total(et, tail_et);
  sums->r = total(r, tail_r);
}

EDGESER_MULTIVERSIONED(WindowSums,
                       (const float* window, int n, double mean, int width, int lag, double* xs,
                        LaneSums* sums),
                       (window, n, mean, width, lag, xs, sums))

// First index of the maximum of v[lo..hi] (v[i] at v[i * stride]): the maximum first, with
// independent chains (exact in any order), then the first index that holds it.
int FirstArgmax(const double* v, int stride, int lo, int hi) {
  auto at = [&](int i) { return v[static_cast<std::ptrdiff_t>(i) * stride]; };
  double m[4] = {at(lo), at(lo), at(lo), at(lo)};
  int i = lo + 1;
  for (; i + 3 <= hi; i += 4) {
    for (int q = 0; q < 4; ++q) m[q] = std::max(m[q], at(i + q));
  }
  for (; i <= hi; ++i) m[0] = std::max(m[0], at(i));
  const double best = std::max(std::max(m[0], m[1]), std::max(m[2], m[3]));
  for (i = lo; at(i) != best; ++i) {
  }
  return i;
}

// First index of the minimum of v[lo..hi], likewise.
int FirstArgmin(const double* v, int stride, int lo, int hi) {
  auto at = [&](int i) { return v[static_cast<std::ptrdiff_t>(i) * stride]; };
  double m[4] = {at(lo), at(lo), at(lo), at(lo)};
  int i = lo + 1;
  for (; i + 3 <= hi; i += 4) {
    for (int q = 0; q < 4; ++q) m[q] = std::min(m[q], at(i + q));
  }
  for (; i <= hi; ++i) m[0] = std::min(m[0], at(i));
  const double best = std::min(std::min(m[0], m[1]), std::min(m[2], m[3]));
  for (i = lo; at(i) != best; ++i) {
  }
  return i;
}

// Local jitter and shimmer from the pulses of one DC-removed window (x[j] at x[j * stride]) with
// period `period` samples, by the definition's peak picking.
void PulseMeasures(const double* x, int stride, int length, double period, double* jitter,
                   double* shimmer) {
  auto at = [&](int j) { return x[static_cast<std::ptrdiff_t>(j) * stride]; };
  // Half to even, like Python's round(): nearbyint in the default rounding mode.
  const int lo_step = static_cast<int>(std::nearbyint(0.8 * period));
  const int hi_step = static_cast<int>(std::nearbyint(1.2 * period));
  int pulse = FirstArgmax(x, stride, 0, std::min(static_cast<int>(std::ceil(period)), length) - 1);
  int periods = 0, prev_period = 0;
  long long sum_periods = 0, sum_changes = 0;
  int pairs = 0;
  double sum_db = 0.0;
  for (;;) {
    const int lo = pulse + lo_step, hi = pulse + hi_step;
    if (hi > length - 1) break;
    const int next = FirstArgmax(x, stride, lo, hi);
    const int p = next - pulse;
    if (periods > 0) sum_changes += std::abs(p - prev_period);
    sum_periods += p;
    prev_period = p;
    ++periods;
    const double a0 = at(pulse), a1 = at(next);
    if (a0 > 0.0 && a1 > 0.0) {
      sum_db += std::abs(20.0 * std::log10(a1 / a0));
      ++pairs;
    }
    pulse = next;
  }
  *jitter = periods >= 2 ? (static_cast<double>(sum_changes) / (periods - 1)) /
                               (static_cast<double>(sum_periods) / periods)
                         : 0.0;
  *shimmer = pairs > 0 ? sum_db / pairs : 0.0;
}

}  // namespace

// ---- Autocorrelator ---------------------------------------------------------------------------

PitchAnalyzer::Autocorrelator::Autocorrelator(int length_in, int max_lag_in)
    : length(length_in),
      max_lag(max_lag_in),
      size(AutocorrelationSize(length_in, std::min(max_lag_in, length_in - 1) + 1)),
      lags(std::min(max_lag_in, length_in - 1) + 1),
      fft(size),
      half_fft(size / 2) {
  const int n = size / 2;
  const double kPi = 3.14159265358979323846;
  sin_table.resize(n);
  cos_table.resize(n);
  for (int j = 0; j < n; ++j) {
    sin_table[j] = std::sin(kPi * j / n);
    cos_table[j] = std::cos(kPi * j / n);
  }
}

// Parts of the work area, in doubles.
namespace {
struct AutocorrelatorLayout {
  std::size_t power, y, spec, c1, fft, total;
};
AutocorrelatorLayout Layout(int size, int bins, std::size_t fft_work) {
  const std::size_t n = static_cast<std::size_t>(size / 2);
  AutocorrelatorLayout a;
  a.power = 0;
  a.y = a.power + (n + 1) * K;
  a.spec = a.y + n * K;
  a.c1 = a.spec + static_cast<std::size_t>(bins) * S;
  a.fft = a.c1 + K;
  a.total = a.fft + fft_work;
  return a;
}
}  // namespace

std::size_t PitchAnalyzer::Autocorrelator::workspace_size() const {
  const int t_max = std::min(lags - 1, size / 2);
  return Layout(size, t_max / 2 + 1, std::max(fft.workspace_size(), half_fft.workspace_size()))
      .total;
}

void PitchAnalyzer::Autocorrelator::Run(const double* s, int lanes, double* ac,
                                        double* work) const {
  const int n = size / 2;
  const int t_max = std::min(lags - 1, n);  // C(t) beyond n is C(size - t)
  const AutocorrelatorLayout at =
      Layout(size, t_max / 2 + 1, std::max(fft.workspace_size(), half_fft.workspace_size()));
  double* power = work + at.power;
  double* y = work + at.y;
  double* spec = work + at.spec;
  double* c1 = work + at.c1;
  double* fft_work = work + at.fft;
  fft.Forward(s, length, SpectrumOutput::kPower, n + 1, power, fft_work, lanes);
  EvenPrepare(n, power, sin_table.data(), cos_table.data(), y, c1);
  half_fft.Forward(y, n, SpectrumOutput::kComplex, t_max / 2 + 1, spec, fft_work, lanes);
  EvenFinish(t_max, spec, c1, 1.0 / size, ac);
  for (int t = t_max + 1; t <= max_lag; ++t) {
    double* out = ac + static_cast<std::ptrdiff_t>(t) * K;
    if (t < lags) {  // the circular autocorrelation is even: C(t) = C(size - t), size - t < t
      std::copy(ac + static_cast<std::ptrdiff_t>(size - t) * K,
                ac + static_cast<std::ptrdiff_t>(size - t + 1) * K, out);
    } else {  // no products at this lag
      std::fill(out, out + K, 0.0);
    }
  }
  Unwrap(s, length, size, std::max(1, size - length + 1), lags - 1, ac);
}

// ---- PitchAnalyzer ----------------------------------------------------------------------------

PitchAnalyzer::PitchAnalyzer(const DescriptorOptions& opts)
    : opts_(opts),
      length_(opts.pitch_length()),  // validates opts
      tau_min_(opts.tau_min()),
      tau_max_(opts.tau_max()),
      width_(length_ - tau_max_),
      window_ac_(length_, tau_max_),
      tail_ac_(tau_max_, tau_max_) {
  const std::size_t lag_rows = static_cast<std::size_t>(tau_max_ + 1) * K;
  x_at_ = 0;
  r_at_ = x_at_ + static_cast<std::size_t>(length_) * K;
  tail_at_ = r_at_ + lag_rows;
  d_at_ = tail_at_ + lag_rows;
  c_at_ = d_at_ + lag_rows;
  work_at_ = c_at_ + lag_rows;
  means_at_ = work_at_ + std::max(window_ac_.workspace_size(), tail_ac_.workspace_size());
  means_at_ = (means_at_ + K - 1) / K * K;
  power_at_ = means_at_ + K;
  lanes_size_ = power_at_ + K;
}

PitchAnalyzer::Workspace PitchAnalyzer::MakeWorkspace() const {
  Workspace ws;
  EnsureWorkspace(ws);
  return ws;
}

void PitchAnalyzer::EnsureWorkspace(Workspace& ws) const {
  if (ws.lanes_.size() != lanes_size_) ws.lanes_ = AlignedBuffer(lanes_size_);
  ws.scratch_.resize(static_cast<std::size_t>(length_));
}

const double* PitchAnalyzer::DifferenceFunction(const float* const* windows, int count,
                                                Workspace& ws) const {
  EnsureWorkspace(ws);
  double* base = ws.lanes_.data();
  double* x = base + x_at_;
  LoadWindows(length_, windows, count, x, base + means_at_, base + power_at_);
  window_ac_.Run(x, count, base + r_at_, base + work_at_);
  tail_ac_.Run(x + static_cast<std::ptrdiff_t>(width_) * K, count, base + tail_at_,
               base + work_at_);
  Difference(width_, tau_max_, x, base + r_at_, base + tail_at_, base + d_at_);
  return base + d_at_;
}

void PitchAnalyzer::Analyze(const float* const* windows, int count, PitchFrame* out,
                            Workspace& ws) const {
  if (count < 0 || count > kLanes)
    throw std::invalid_argument("PitchAnalyzer: count must be in [0, kLanes]");
  if (count == 0) return;
  const double* d = DifferenceFunction(windows, count, ws);
  const double* means = ws.lanes_.data() + means_at_;
  const double* power = ws.lanes_.data() + power_at_;
  double* c = ws.lanes_.data() + c_at_;
  Cmnd(tau_min_, tau_max_, d, c);  // c is read on [tau_min, tau_max] only
  const int tmin = tau_min_, tmax = tau_max_;
  double* xs = ws.scratch_.data();

  for (int f = 0; f < count; ++f) {
    const double* cf = c + f;
    auto cs = [&](int t) { return cf[static_cast<std::ptrdiff_t>(t) * K]; };
    // The first dip under the threshold, walked down to its bottom; else the global minimum.
    int t = tmin;
    while (t <= tmax && !(cs(t) < opts_.voicing_threshold)) ++t;
    const bool dip = t <= tmax;
    if (dip) {
      while (t + 1 <= tmax && cs(t + 1) < cs(t)) ++t;
    } else {
      t = FirstArgmin(cf, K, tmin, tmax);
    }
    double t_hat = t;
    if (t > tmin && t < tmax) {  // parabolic refinement
      const double a = cs(t - 1), b = cs(t), cc = cs(t + 1);
      const double den = a - 2.0 * b + cc;
      if (den > 0.0) t_hat = std::min(std::max(t + 0.5 * (a - cc) / den, t - 0.5), t + 0.5);
    }

    LaneSums sums;
    WindowSums(windows[f], length_, means[f], width_, t, xs, &sums);
    PitchFrame& o = out[f];
    o = PitchFrame();
    o.voicing = std::min(std::max(1.0 - cs(t), 0.0), 1.0);
    const double energy = sums.e0 * sums.et;
    double rho = energy > 0.0 ? sums.r / std::sqrt(energy) : 0.0;
    rho = std::min(std::max(rho, 0.01), 0.9999);
    o.hnr_db = 10.0 * std::log10(rho / (1.0 - rho));
    const bool silent = 10.0 * std::log10(power[f] / length_ + 1e-20) < opts_.silence_dbfs;
    if (dip && !silent) {
      o.f0_hz = opts_.sample_rate / t_hat;
      PulseMeasures(xs, 1, length_, t_hat, &o.jitter_local, &o.shimmer_local_db);
    }
  }
}

double SmoothF0(const double raw[5]) {
  const double f0 = raw[2];
  if (!(f0 > 0.0)) return 0.0;
  if (!(raw[1] > 0.0) && !(raw[3] > 0.0)) return 0.0;  // an isolated voiced frame
  double voiced[5];
  int n = 0;
  for (int i = 0; i < 5; ++i) {  // insertion sort of the voiced values
    if (!(raw[i] > 0.0)) continue;
    int j = n++;
    for (; j > 0 && voiced[j - 1] > raw[i]; --j) voiced[j] = voiced[j - 1];
    voiced[j] = raw[i];
  }
  const double m = (n % 2) ? voiced[n / 2] : 0.5 * (voiced[n / 2 - 1] + voiced[n / 2]);
  if (f0 > 1.8 * m) return 0.5 * f0;
  if (f0 < 0.55 * m) return 2.0 * f0;
  return f0;
}

}  // namespace edgeser
