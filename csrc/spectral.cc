// Spectral shape and energy (docs/voice-descriptors.md), kLanes windows at a time: the samples in
// lane layout (one window per lane), one RealFft for all of them, then a few passes over the bins
// with every per-window quantity a lane of a register.
//
// Two sums run strictly left to right per lane because their order shows in the result, and the
// NumPy reference (spectral_reference.py) sums them with np.cumsum to match: the window mean (its
// bits decide on which side of zero a sample equal to it falls, hence the zero-crossing count) and
// the cumulative power of the roll-off.
#include "spectral.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "simd_math.h"

namespace edgeser {
namespace {

constexpr int K = kLanes;
// A magnitude row: the previous window's normalised magnitude, then sqrt(P_k) of each lane, so
// loading a register one slot early gives every lane its predecessor (the flux's m').
constexpr int kMagStride = kLanes + 1;
constexpr int kLoudnessBands = 24;
constexpr double kLoudnessFminHz = 20.0;
constexpr double kLoudnessFmaxHz = 8000.0;
constexpr double kLoudnessExponent = 0.3;
constexpr double kRolloff = 0.9;
constexpr double kPi = 3.14159265358979323846;
constexpr double kDbPerNeper = 4.34294481903251827651;  // 10 / ln(10)

// ---- lane-wise operations Simd<W> lacks ---------------------------------------------------------
// NEON pairs first: the templates below must see these overloads when they are instantiated.
#if defined(EDGESER_NEON_DISPATCH)
EDGESER_INLINE Simd<4>::V MaxOf(Simd<4>::V a, Simd<4>::V b) {
  return {vmaxq_f64(a.lo, b.lo), vmaxq_f64(a.hi, b.hi)};
}
EDGESER_INLINE Simd<4>::V Below(Simd<4>::V a, Simd<4>::V b) {
  const uint64x2_t one = vreinterpretq_u64_f64(vdupq_n_f64(1.0));
  return {vreinterpretq_f64_u64(vandq_u64(vcltq_f64(a.lo, b.lo), one)),
          vreinterpretq_f64_u64(vandq_u64(vcltq_f64(a.hi, b.hi), one))};
}
EDGESER_INLINE Simd<4>::U ShiftLeft52(Simd<4>::U u) {
  return {vshlq_n_u64(u.lo, 52), vshlq_n_u64(u.hi, 52)};
}
#endif

// GCC/Clang vector types (and plain doubles): element-wise comparisons select lanes.
template <typename V>
EDGESER_INLINE V MaxOf(V a, V b) {
  return a > b ? a : b;
}
template <typename V>
EDGESER_INLINE V Below(V a, V b) {  // 1.0 where a < b, else 0.0
  return a < b ? V{} + 1.0 : V{};
}
template <typename U>
EDGESER_INLINE U ShiftLeft52(U u) {
  return u << 52;
}

// e^y for |y| < 700: y = n ln 2 + r with |r| <= ln(2) / 2, e^r by its Taylor series to r^12
// (relative error < 2e-16), 2^n from exponent bits.
template <int W>
EDGESER_INLINE typename Simd<W>::V ExpModerate(typename Simd<W>::V y) {
  using V = typename Simd<W>::V;
  using U = typename Simd<W>::U;
  const double kShifter = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  const double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  const V t = y * 1.44269504088896340736 + kShifter;
  const V n = t - kShifter;
  const V r = (y - n * kLn2Hi) - n * kLn2Lo;
  V poly = Simd<W>::Set(1.0 / 479001600.0);  // 1 / 12!
  poly = poly * r + 1.0 / 39916800.0;
  poly = poly * r + 1.0 / 3628800.0;
  poly = poly * r + 1.0 / 362880.0;
  poly = poly * r + 1.0 / 40320.0;
  poly = poly * r + 1.0 / 5040.0;
  poly = poly * r + 1.0 / 720.0;
  poly = poly * r + 1.0 / 120.0;
  poly = poly * r + 1.0 / 24.0;
  poly = poly * r + 1.0 / 6.0;
  poly = poly * r + 0.5;
  poly = poly * r + 1.0;
  poly = poly * r + 1.0;
  // The low bits of t hold n + 2^51; shifted up by 52 only (n + 1023) mod 2^12 stays: 2^n.
  U bits;
  std::memcpy(&bits, &t, sizeof bits);
  const U scale_bits = ShiftLeft52(bits + 1023ULL);
  V scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  return poly * scale;
}

// ---- time domain: DC removal, energy, zero crossings, window ------------------------------------
struct TimeSums {
  double energy[K];     // sum_j s_j^2
  double crossings[K];  // how many j in 1..N-1 have (s_j >= 0) != (s_{j-1} >= 0)
};

// samples[j * K + l] = s_j w_j of lane l (lanes >= count repeat window 0).
template <int W>
EDGESER_INLINE void PrepareImpl(int n, const double* window, const float* const* windows, int count,
                                double* samples, TimeSums* sums) {
  using V = typename Simd<W>::V;
  const V zero = Simd<W>::Set(0.0);
  for (int q = 0; q < K / W; ++q) {
    const float* src[W];
    for (int r = 0; r < W; ++r) src[r] = windows[q * W + r < count ? q * W + r : 0];
    double* out = samples + q * W;
    // The samples as doubles, W x W blocks transposed in registers, summed left to right.
    V sum = zero;
    int i = 0;
    for (; i + W <= n; i += W) {
      V v[W];
      for (int r = 0; r < W; ++r) v[r] = Simd<W>::LoadFloats(src[r] + i);
      Simd<W>::Transpose(v);
      for (int j = 0; j < W; ++j) {
        Simd<W>::Store(out + (i + j) * K, v[j]);
        sum += v[j];
      }
    }
    for (; i < n; ++i) {
      double lane[W];
      for (int r = 0; r < W; ++r) lane[r] = src[r][i];
      const V v = Simd<W>::Load(lane);
      Simd<W>::Store(out + i * K, v);
      sum += v;
    }
    const V mean = sum / Simd<W>::Set(static_cast<double>(n));
    V energy = zero, crossings = zero;
    V was_negative = Below(Simd<W>::Load(out) - mean, zero);
    for (i = 0; i < n; ++i) {
      const V s = Simd<W>::Load(out + i * K) - mean;
      const V negative = Below(s, zero);
      const V change = negative - was_negative;  // -1, 0 or 1
      crossings += change * change;
      was_negative = negative;
      energy += s * s;
      Simd<W>::Store(out + i * K, s * window[i]);
    }
    Simd<W>::Store(sums->energy + q * W, energy);
    Simd<W>::Store(sums->crossings + q * W, crossings);
  }
}

EDGESER_MULTIVERSIONED(Prepare,
                       (int n, const double* window, const float* const* windows, int count,
                        double* samples, TimeSums* sums),
                       (n, window, windows, count, samples, sums))

// ---- frequency domain ---------------------------------------------------------------------------
struct BinRange {
  int begin, end;
};

struct SpectrumPlan {
  int bins;
  double inv_window_power;
  const double* freqs;
  int bands;
  const int* band_first;
  const int* band_offset;
  const double* band_weights;
  BinRange alpha_low, alpha_high, hammarberg_low, hammarberg_high, slope_low, slope_high;
  const double* slope_low_coef;
  const double* slope_high_coef;
  double eps;  // DescriptorOptions::spectrum_floor
};

struct SpectrumSums {
  double total[K];                               // S
  double centroid[K];                            // sum_k f_k P_k
  double magnitude[K];                           // sum_k sqrt(P_k)
  double alpha_low[K], alpha_high[K];            // sums of P
  double hammarberg_low[K], hammarberg_high[K];  // maxima of P
  double slope_low[K], slope_high[K];            // dB per kHz
  double loudness[K];                            // sum_b (Q_b E_b)^0.3
  double inv_total[K];                           // 1 / S (0 when S < eps), for pass two
  double threshold[K];                           // 0.9 S
  double inv_magnitude[K];                       // 1 / sum sqrt(P) (0 when the sum is 0)
  double entropy[K];                             // sum_k p_k ln p_k
  double below_rolloff[K];                       // bins whose cumulative sum is < 0.9 S
  double flux[K];                                // against the lane before
};

// slope[q] = sum_k coef_k (ln(P_k + eps) - ln(P_begin + eps)): sum_k coef_k is 0 up to rounding,
// and subtracting the first term makes a flat spectrum's slope exactly 0, as in the reference.
template <int W, int C>
EDGESER_INLINE void SlopeSums(BinRange r, const double* coef, const double* power, double eps,
                              typename Simd<W>::V* slope) {
  using V = typename Simd<W>::V;
  if (r.begin >= r.end) return;
  V base[C];
  for (int q = 0; q < C; ++q)
    base[q] = LogPositive<W>(Simd<W>::Load(power + r.begin * K + q * W) + eps);
  for (int k = r.begin + 1; k < r.end; ++k) {
    const double c = coef[k - r.begin];
    for (int q = 0; q < C; ++q)
      slope[q] += c * (LogPositive<W>(Simd<W>::Load(power + k * K + q * W) + eps) - base[q]);
  }
}

// Pass one: P_k = |X_k|^2 / sum w^2 in place, its sums, maxima and regressions, the magnitudes.
template <int W>
EDGESER_INLINE void SpectrumPassOneImpl(const SpectrumPlan& p, double* power, double* mags,
                                        SpectrumSums* out) {
  using V = typename Simd<W>::V;
  constexpr int C = K / W;
  const V zero = Simd<W>::Set(0.0);
  V total[C], centroid[C];
  for (int q = 0; q < C; ++q) total[q] = centroid[q] = zero;
  for (int k = 0; k < p.bins; ++k) {
    const double f = p.freqs[k];
    for (int q = 0; q < C; ++q) {
      double* at = power + k * K + q * W;
      const V x = Simd<W>::Load(at) * p.inv_window_power;
      Simd<W>::Store(at, x);
      total[q] += x;  // left to right, as the roll-off's cumulative sum in pass two
      centroid[q] += x * f;
    }
  }
  for (int k = 0; k < p.bins; ++k) {  // a flat loop the compiler turns into vector square roots
    for (int l = 0; l < K; ++l) mags[k * kMagStride + 1 + l] = std::sqrt(power[k * K + l]);
  }
  V magnitude[C], alpha_low[C], alpha_high[C], ham_low[C], ham_high[C], slope_low[C], slope_high[C],
      loudness[C];
  for (int q = 0; q < C; ++q) {
    magnitude[q] = alpha_low[q] = alpha_high[q] = ham_low[q] = ham_high[q] = zero;
    slope_low[q] = slope_high[q] = loudness[q] = zero;
  }
  for (int k = 0; k < p.bins; ++k) {
    for (int q = 0; q < C; ++q) magnitude[q] += Simd<W>::Load(mags + k * kMagStride + 1 + q * W);
  }
  for (int k = p.alpha_low.begin; k < p.alpha_low.end; ++k) {
    for (int q = 0; q < C; ++q) alpha_low[q] += Simd<W>::Load(power + k * K + q * W);
  }
  for (int k = p.alpha_high.begin; k < p.alpha_high.end; ++k) {
    for (int q = 0; q < C; ++q) alpha_high[q] += Simd<W>::Load(power + k * K + q * W);
  }
  for (int k = p.hammarberg_low.begin; k < p.hammarberg_low.end; ++k) {
    for (int q = 0; q < C; ++q)
      ham_low[q] = MaxOf(ham_low[q], Simd<W>::Load(power + k * K + q * W));
  }
  for (int k = p.hammarberg_high.begin; k < p.hammarberg_high.end; ++k) {
    for (int q = 0; q < C; ++q)
      ham_high[q] = MaxOf(ham_high[q], Simd<W>::Load(power + k * K + q * W));
  }
  SlopeSums<W, C>(p.slope_low, p.slope_low_coef, power, p.eps, slope_low);
  SlopeSums<W, C>(p.slope_high, p.slope_high_coef, power, p.eps, slope_high);
  const V tiny = Simd<W>::Set(DBL_MIN);
  for (int b = 0; b < p.bands; ++b) {
    const double* w = p.band_weights + p.band_offset[b];
    const int nw = p.band_offset[b + 1] - p.band_offset[b];
    const double* s = power + p.band_first[b] * K;
    V e[C];
    for (int q = 0; q < C; ++q) e[q] = zero;
    for (int j = 0; j < nw; ++j) {
      for (int q = 0; q < C; ++q) e[q] += w[j] * Simd<W>::Load(s + j * K + q * W);
    }
    // (Q_b E_b)^0.3 = e^(0.3 ln(Q_b E_b)); bands with no (normal) energy add exactly 0.
    for (int q = 0; q < C; ++q) {
      const V root = ExpModerate<W>(kLoudnessExponent * LogPositive<W>(MaxOf(e[q], tiny)));
      loudness[q] += root * (Simd<W>::Set(1.0) - Below(e[q], tiny));
    }
  }
  for (int q = 0; q < C; ++q) {
    Simd<W>::Store(out->total + q * W, total[q]);
    Simd<W>::Store(out->centroid + q * W, centroid[q]);
    Simd<W>::Store(out->magnitude + q * W, magnitude[q]);
    Simd<W>::Store(out->alpha_low + q * W, alpha_low[q]);
    Simd<W>::Store(out->alpha_high + q * W, alpha_high[q]);
    Simd<W>::Store(out->hammarberg_low + q * W, ham_low[q]);
    Simd<W>::Store(out->hammarberg_high + q * W, ham_high[q]);
    Simd<W>::Store(out->slope_low + q * W, slope_low[q]);
    Simd<W>::Store(out->slope_high + q * W, slope_high[q]);
    Simd<W>::Store(out->loudness + q * W, loudness[q]);
  }
}

// Pass two, once S and sum sqrt(P) are known: entropy, roll-off and flux.
template <int W>
EDGESER_INLINE void SpectrumPassTwoImpl(int bins, const double* power, double* mags,
                                        SpectrumSums* out) {
  using V = typename Simd<W>::V;
  constexpr int C = K / W;
  const V zero = Simd<W>::Set(0.0), tiny = Simd<W>::Set(DBL_MIN);
  V inv_total[C], threshold[C];
  V cumulative[C], below[C], entropy[C], flux[C];
  for (int q = 0; q < C; ++q) {
    inv_total[q] = Simd<W>::Load(out->inv_total + q * W);
    threshold[q] = Simd<W>::Load(out->threshold + q * W);
    cumulative[q] = below[q] = entropy[q] = flux[q] = zero;
  }
  // Normalised in place first, in their own loop: fused into the difference below, m - m' of two
  // equal spectra would be a multiply-add's rounding residue instead of exactly 0.
  for (int k = 0; k < bins; ++k) {
    for (int l = 0; l < K; ++l) mags[k * kMagStride + 1 + l] *= out->inv_magnitude[l];
  }
  for (int k = 0; k < bins; ++k) {
    const double* row = mags + k * kMagStride;
    for (int q = 0; q < C; ++q) {
      const V x = Simd<W>::Load(power + k * K + q * W);
      cumulative[q] += x;
      below[q] += Below(cumulative[q], threshold[q]);
      const V pk = x * inv_total[q];  // p_k = 0 gives 0 * ln(DBL_MIN) = 0
      entropy[q] += pk * LogPositive<W>(MaxOf(pk, tiny));
      const V d = Simd<W>::Load(row + 1 + q * W) - Simd<W>::Load(row + q * W);
      flux[q] += d * d;
    }
  }
  for (int q = 0; q < C; ++q) {
    Simd<W>::Store(out->entropy + q * W, entropy[q]);
    Simd<W>::Store(out->below_rolloff + q * W, below[q]);
    Simd<W>::Store(out->flux + q * W, flux[q]);
  }
}

EDGESER_MULTIVERSIONED(SpectrumPassOne,
                       (const SpectrumPlan& p, double* power, double* mags, SpectrumSums* out),
                       (p, power, mags, out))
EDGESER_MULTIVERSIONED(SpectrumPassTwo,
                       (int bins, const double* power, double* mags, SpectrumSums* out),
                       (bins, power, mags, out))

// ---- tables -------------------------------------------------------------------------------------
double HzToMel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }
double MelToHz(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }

// Hermansky's PLP equal-loudness curve, not normalised.
double EqualLoudness(double hz) {
  const double w2 = (2.0 * kPi * hz) * (2.0 * kPi * hz);
  return (w2 + 56.8e6) * (w2 * w2) / ((w2 + 6.3e6) * (w2 + 6.3e6) * (w2 + 0.38e9));
}

// numpy.linspace(start, stop, num)[i].
double Linspace(double start, double stop, int num, int i) {
  if (i == num - 1) return stop;
  return i * ((stop - start) / (num - 1)) + start;
}

}  // namespace

SpectralAnalyzer::SpectralAnalyzer(const DescriptorOptions& opts)
    : opts_(opts), length_(opts.spectral_length()), fft_(opts.fft_size()), bins_(fft_.num_bins()) {
  const int n = length_;
  window_.resize(n);
  double window_power = 0.0;
  for (int j = 0; j < n; ++j) {
    window_[j] = 0.54 - 0.46 * std::cos(2.0 * kPi * j / (n - 1));
    window_power += window_[j] * window_[j];
  }
  inv_window_power_ = 1.0 / window_power;

  freqs_.resize(bins_);
  for (int k = 0; k < bins_; ++k)
    freqs_[k] = static_cast<double>(k) * opts.sample_rate / fft_.size();
  // The bins in a band: f_k rises with k, so each selection is one contiguous range.
  const auto bins_where = [this](auto inside) {
    Range r;
    while (r.begin < bins_ && !inside(freqs_[r.begin])) ++r.begin;
    r.end = r.begin;
    while (r.end < bins_ && inside(freqs_[r.end])) ++r.end;
    return r;
  };
  alpha_low_ = bins_where([](double f) { return f >= 50.0 && f < 1000.0; });
  alpha_high_ = bins_where([](double f) { return f >= 1000.0 && f < 5000.0; });
  hammarberg_low_ = bins_where([](double f) { return f > 0.0 && f < 2000.0; });
  hammarberg_high_ = bins_where([](double f) { return f >= 2000.0 && f < 5000.0; });
  slope_low_ = bins_where([](double f) { return f >= 0.0 && f <= 500.0; });
  slope_high_ = bins_where([](double f) { return f >= 500.0 && f <= 1500.0; });
  // Least squares: slope = sum_k (x_k - mean x) y_k / sum_k (x_k - mean x)^2 (the mean of y drops
  // out), with x = f / 1000 and y = 10 log10(P + eps) = kDbPerNeper ln(P + eps).
  const auto regression = [this](Range& r) {
    std::vector<double> coef;
    const int m = r.end - r.begin;
    if (m < 2) {
      r = Range();  // fewer than two bins: no slope (0)
      return coef;
    }
    double mean = 0.0;
    for (int k = r.begin; k < r.end; ++k) mean += freqs_[k] / 1000.0;
    mean /= m;
    double sxx = 0.0;
    for (int k = r.begin; k < r.end; ++k)
      sxx += (freqs_[k] / 1000.0 - mean) * (freqs_[k] / 1000.0 - mean);
    for (int k = r.begin; k < r.end; ++k)
      coef.push_back((freqs_[k] / 1000.0 - mean) / sxx * kDbPerNeper);
    return coef;
  };
  slope_low_coef_ = regression(slope_low_);
  slope_high_coef_ = regression(slope_high_);

  // Loudness: triangles in the mel domain between 26 equally spaced HTK-mel edges.
  const double fmax = std::min(kLoudnessFmaxHz, opts.sample_rate / 2.0);
  const double mel_lo = HzToMel(kLoudnessFminHz), mel_hi = HzToMel(fmax);
  double edges[kLoudnessBands + 2];
  for (int i = 0; i < kLoudnessBands + 2; ++i)
    edges[i] = Linspace(mel_lo, mel_hi, kLoudnessBands + 2, i);
  std::vector<double> mel(bins_);
  for (int k = 0; k < bins_; ++k) mel[k] = HzToMel(freqs_[k]);
  const double q_1khz = EqualLoudness(1000.0);
  band_offset_.push_back(0);
  for (int b = 0; b < kLoudnessBands; ++b) {
    const double lo = edges[b], mid = edges[b + 1], hi = edges[b + 2];
    const double q = EqualLoudness(MelToHz(mid)) / q_1khz;
    // T_b > 0 on one run of bins (the triangle's support), possibly none.
    std::vector<double> t(bins_);
    int first = bins_, last = -1;
    for (int k = 0; k < bins_; ++k) {
      t[k] = std::max(0.0, std::min((mel[k] - lo) / (mid - lo), (hi - mel[k]) / (hi - mid)));
      if (t[k] > 0.0) {
        first = std::min(first, k);
        last = k;
      }
    }
    for (int k = first; k <= last; ++k) band_weights_.push_back(t[k] * q);
    band_first_.push_back(last < 0 ? 0 : first);
    band_offset_.push_back(static_cast<int>(band_weights_.size()));
  }
}

SpectralAnalyzer::Workspace SpectralAnalyzer::MakeWorkspace() const {
  Workspace ws;
  ws.samples_ = AlignedBuffer::Uninitialized(static_cast<std::size_t>(length_) * K);
  ws.fft_ = AlignedBuffer::Uninitialized(fft_.workspace_size());
  // Zeroed: the FFT writes only the lanes of the windows analysed, and the passes read all.
  ws.power_ = AlignedBuffer(static_cast<std::size_t>(bins_) * K);
  ws.magnitude_ = AlignedBuffer(static_cast<std::size_t>(bins_) * kMagStride);
  ws.has_previous_ = false;
  return ws;
}

void SpectralAnalyzer::Reset(Workspace& ws) { ws.has_previous_ = false; }

void SpectralAnalyzer::Analyze(const float* const* windows, int count, SpectralFrame* out,
                               Workspace& ws) const {
  if (count < 0 || count > K)
    throw std::invalid_argument("SpectralAnalyzer::Analyze: count must be in [0, kLanes]");
  if (count == 0) return;
  if (ws.magnitude_.size() != static_cast<std::size_t>(bins_) * kMagStride ||
      ws.samples_.size() != static_cast<std::size_t>(length_) * K)
    throw std::invalid_argument("SpectralAnalyzer::Analyze: workspace from another analyzer");
  const int n = length_;
  TimeSums time;
  Prepare(n, window_.data(), windows, count, ws.samples_.data(), &time);
  double* power = ws.power_.data();
  double* mags = ws.magnitude_.data();
  fft_.Forward(ws.samples_.data(), n, SpectrumOutput::kPower, bins_, power, ws.fft_.data(), count);

  const SpectrumPlan plan{bins_,
                          inv_window_power_,
                          freqs_.data(),
                          kLoudnessBands,
                          band_first_.data(),
                          band_offset_.data(),
                          band_weights_.data(),
                          {alpha_low_.begin, alpha_low_.end},
                          {alpha_high_.begin, alpha_high_.end},
                          {hammarberg_low_.begin, hammarberg_low_.end},
                          {hammarberg_high_.begin, hammarberg_high_.end},
                          {slope_low_.begin, slope_low_.end},
                          {slope_high_.begin, slope_high_.end},
                          slope_low_coef_.data(),
                          slope_high_coef_.data(),
                          opts_.spectrum_floor};
  const double eps = opts_.spectrum_floor;
  SpectrumSums sums;
  SpectrumPassOne(plan, power, mags, &sums);
  for (int l = 0; l < K; ++l) {
    const double total = sums.total[l], magnitude = sums.magnitude[l];
    sums.inv_total[l] = total >= eps ? 1.0 / total : 0.0;
    sums.threshold[l] = kRolloff * total;
    sums.inv_magnitude[l] = magnitude > 0.0 ? 1.0 / magnitude : 0.0;
  }
  SpectrumPassTwo(bins_, power, mags, &sums);
  // The last window's normalised magnitudes become the next block's previous row.
  for (int k = 0; k < bins_; ++k) mags[k * kMagStride] = mags[k * kMagStride + count];
  if (!ws.has_previous_) sums.flux[0] = 0.0;
  ws.has_previous_ = true;

  const double log_bins = std::log(static_cast<double>(bins_));
  for (int l = 0; l < count; ++l) {
    SpectralFrame& r = out[l];
    r.loudness = sums.loudness[l];
    r.energy_db = 10.0 * std::log10(time.energy[l] / n + opts_.power_floor);
    r.alpha_ratio_db = 10.0 * std::log10((sums.alpha_low[l] + eps) / (sums.alpha_high[l] + eps));
    r.hammarberg_db =
        10.0 * std::log10((sums.hammarberg_low[l] + eps) / (sums.hammarberg_high[l] + eps));
    r.slope_0_500 = sums.slope_low[l];
    r.slope_500_1500 = sums.slope_high[l];
    r.spectral_flux = sums.flux[l];
    const double total = sums.total[l];
    if (total >= eps) {
      r.spectral_centroid_hz = sums.centroid[l] / total;
      const int rolloff = std::min(static_cast<int>(sums.below_rolloff[l]), bins_ - 1);
      r.spectral_rolloff_hz = freqs_[rolloff];
      r.spectral_entropy = -sums.entropy[l] / log_bins;
    } else {
      r.spectral_centroid_hz = r.spectral_rolloff_hz = r.spectral_entropy = 0.0;
    }
    r.zcr = time.crossings[l] / (n - 1);
  }
}

}  // namespace edgeser
