#include "large_functionals.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "descriptor_options.h"
#include "mask_runs.h"

namespace edgeser {
namespace {

constexpr double kActiveRangeDb = 60.0;  // frames this far below the loudest are silence
constexpr double kSemitoneRefHz = 27.5;
constexpr double kConstantSpread = 1e-10;  // std at or below this share of max |value|: constant
constexpr int kNumFunctionals = 14;
constexpr double kPercentiles[] = {1, 20, 50, 80, 99};

// The contours of one group as the reference stacks them: the rows of the group's frames (active
// or voiced), one column after another, so each column's statistics read contiguous memory.
struct Columns {
  long long rows = 0;
  int count = 0;
  std::vector<double> data;  // [count][rows]

  const double* Column(int c) const { return data.data() + static_cast<long long>(c) * rows; }

  // Appends the frames of `contour` (all n aligned frames) where `mask` holds.
  void Add(const std::vector<double>& contour, const std::vector<char>& mask) {
    for (std::size_t t = 0; t < contour.size(); ++t)
      if (mask[t]) data.push_back(contour[t]);
    ++count;
  }
};

// NumPy's max, which propagates NaN.
double NanMax(const std::vector<double>& v) {
  double top = v[0];
  for (double x : v) {
    if (std::isnan(x)) return x;
    top = std::max(top, x);
  }
  return top;
}

// Regression deltas over +-2 frames of a[0, n) with the edges repeated, in the reference's order
// of operations, into d[0, n); zeros for fewer than 2 frames.
void Deltas(const double* a, long long n, double* d) {
  if (n < 2) {
    std::fill(d, d + n, 0.0);
    return;
  }
  auto at = [&](long long t) { return a[std::min(std::max(t, 0LL), n - 1)]; };
  for (long long t = 0; t < n; ++t)
    d[t] = (at(t + 1) - at(t - 1) + 2.0 * (at(t + 2) - at(t - 2))) / 10.0;
}

// The deltas of all frames (within_runs false: v1), or of each run of active frames on its own
// with zeros elsewhere (v2).
std::vector<double> Deltas(const std::vector<double>& a, const std::vector<char>& active,
                           bool within_runs) {
  const long long n = static_cast<long long>(a.size());
  std::vector<double> d(n, 0.0);
  if (!within_runs) {
    Deltas(a.data(), n, d.data());
    return d;
  }
  for (const auto& [start, end] : MaskRuns(active))
    Deltas(a.data() + start, end - start, d.data() + start);
  return d;
}

// Puts the values of the ascending ranks r[0, nr) of a[lo, hi) (no NaN) where a full sort would
// put them: quickselect on all ranks at once with a branch-free three-way partition. (std::sort,
// whose comparisons of noisy contours are unpredictable, took 4x longer and cost more than
// everything else.) Recurses into the smaller side, so the stack stays O(log n); ranges of 16 or
// fewer, and any range reached after `rounds` partitions, are sorted: O(n log n) at worst.
void SelectRanks(double* a, long long lo, long long hi, const long long* r, int nr, int rounds) {
  while (nr > 0) {
    if (hi - lo <= 16 || rounds-- <= 0) {
      std::sort(a + lo, a + hi);
      return;
    }
    const double x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi - 1];
    const double pivot = std::max(std::min(x, y), std::min(std::max(x, y), z));  // median of 3
    long long less = lo;  // then a[lo, less) < pivot
    for (long long i = lo; i < hi; ++i) {
      const double t = a[i];
      a[i] = a[less];
      a[less] = t;
      less += t < pivot;
    }
    long long equal = less;  // then a[less, equal) == pivot
    for (long long i = less; i < hi; ++i) {
      const double t = a[i];
      a[i] = a[equal];
      a[equal] = t;
      equal += t <= pivot;
    }
    // Ranks in [less, equal) hold the pivot already; the others lie on one side (the pivot is one
    // of the values, so both sides are shorter than [lo, hi)).
    const int n_below = static_cast<int>(std::lower_bound(r, r + nr, less) - r);
    const int n_at_or_below = static_cast<int>(std::lower_bound(r, r + nr, equal) - r);
    const long long* r_above = r + n_at_or_below;
    const int n_above = nr - n_at_or_below;
    if (less - lo < hi - equal) {
      SelectRanks(a, lo, less, r, n_below, rounds);
      lo = equal, r = r_above, nr = n_above;
    } else {
      SelectRanks(a, equal, hi, r_above, n_above, rounds);
      hi = less, nr = n_below;
    }
  }
}

// The 14 functionals of every column of `g`, functional-major (out[f * g.count + c]); zeros for
// fewer than 2 rows.
void PutFunctionals(const Columns& g, double step_s, double* out) {
  const long long n = g.rows;
  const int k = g.count;
  if (n < 2) {
    std::fill(out, out + kNumFunctionals * k, 0.0);
    return;
  }
  const double nd = static_cast<double>(n);
  std::vector<double> tc(n), sorted(n);
  double tt = 0.0;
  // The ranks NumPy's linear percentiles read (below and above each position).
  long long lo[5], ranks[10];
  for (int q = 0; q < 5; ++q) {
    const double pos = kPercentiles[q] / 100.0 * static_cast<double>(n - 1);
    lo[q] = static_cast<long long>(std::floor(pos));
    ranks[2 * q] = lo[q];
    ranks[2 * q + 1] = std::min(lo[q] + 1, n - 1);
  }
  std::sort(ranks, ranks + 10);
  const int n_ranks = static_cast<int>(std::unique(ranks, ranks + 10) - ranks);
  int rounds = 8;
  for (long long m = n; m > 1; m /= 2) rounds += 2;
  for (long long i = 0; i < n; ++i) {
    tc[i] = (static_cast<double>(i) - static_cast<double>(n - 1) / 2.0) * step_s;
    tt += tc[i] * tc[i];
  }
  for (int c = 0; c < k; ++c) {
    const double* v = g.Column(c);
    double sum = 0.0, top = 0.0;
    for (long long i = 0; i < n; ++i) {
      sum += v[i];
      top = std::max(top, std::abs(v[i]));
    }
    const double mean = sum / nd;
    double ss = 0.0, tdev = 0.0;
    for (long long i = 0; i < n; ++i) {
      const double dev = v[i] - mean;
      ss += dev * dev;
      tdev += tc[i] * dev;
    }
    const double std_dev = std::sqrt(ss / nd);
    // A contour constant but for round-off has no shape (skewness and kurtosis 0), not the ratio
    // of two round-off errors. (With a NaN, std is NaN and the comparison false, as in NumPy.)
    double skew = 0.0, kurt = 0.0;
    if (!(std_dev <= kConstantSpread * top)) {
      for (long long i = 0; i < n; ++i) {
        const double z = (v[i] - mean) / std_dev;
        const double z2 = z * z;
        skew += z2 * z;
        kurt += z2 * z2;
      }
      skew /= nd;
      kurt /= nd;
    }
    // The order statistics of NumPy's sort, which puts NaN after everything else.
    const long long finite =
        std::remove_copy_if(v, v + n, sorted.begin(), [](double x) { return std::isnan(x); }) -
        sorted.begin();
    std::fill(sorted.begin() + finite, sorted.end(), std::numeric_limits<double>::quiet_NaN());
    const int n_finite_ranks =
        static_cast<int>(std::lower_bound(ranks, ranks + n_ranks, finite) - ranks);
    SelectRanks(sorted.data(), 0, finite, ranks, n_finite_ranks, rounds);
    double p[5];
    for (int q = 0; q < 5; ++q) {  // NumPy's default (linear) percentile
      const double pos = kPercentiles[q] / 100.0 * static_cast<double>(n - 1);
      const long long hi = std::min(lo[q] + 1, n - 1);
      p[q] = sorted[lo[q]] + (sorted[hi] - sorted[lo[q]]) * (pos - static_cast<double>(lo[q]));
    }
    double rise = 0.0, fall = 0.0;
    long long n_rise = 0, n_fall = 0;
    for (long long i = 0; i + 1 < n; ++i) {  // without branches: signs are unpredictable
      const double d = (v[i + 1] - v[i]) / step_s;
      rise += d > 0 ? d : 0.0;
      fall += d < 0 ? d : 0.0;
      n_rise += d > 0;
      n_fall += d < 0;
    }
    const double values[kNumFunctionals] = {
        mean,
        std_dev,
        skew,
        kurt,
        p[0],
        p[1],
        p[2],
        p[3],
        p[4],
        p[4] - p[0],
        p[3] - p[1],
        tdev / tt,
        rise / static_cast<double>(std::max(n_rise, 1LL)),
        -fall / static_cast<double>(std::max(n_fall, 1LL)),
    };
    for (int f = 0; f < kNumFunctionals; ++f) out[f * k + c] = values[f];
  }
}

}  // namespace

void LargeFunctionals(const LargeFunctionalsInput& in, float* out) {
  if (in.frames < 0 || in.mfcc_frames < 0 || in.mel_frames < 0)
    throw std::invalid_argument("large functionals: negative frame count");
  if (in.frames > 0 && in.lld == nullptr)
    throw std::invalid_argument("large functionals: no descriptor rows");
  if (in.mfcc_frames > 0 && in.mfcc == nullptr)
    throw std::invalid_argument("large functionals: no MFCC rows");
  if (in.mel_frames > 0 && in.log_mel == nullptr)
    throw std::invalid_argument("large functionals: no log-mel rows");
  if (in.mfcc_dim < kLargeV1Mfcc + 1)
    throw std::invalid_argument("large functionals: mfcc_dim must be >= 13 (MFCC 1-12 are used)");
  if (in.offset < 0) throw std::invalid_argument("large functionals: negative offset");
  if (!(in.frame_step_s > 0) || !std::isfinite(in.frame_step_s))
    throw std::invalid_argument("large functionals: frame_step_s must be a positive finite number");
  if (in.version != 1 && in.version != 2)
    throw std::invalid_argument("large functionals: version must be 1 or 2");

  const long long n =
      std::max(0LL, std::min({in.frames, in.mfcc_frames - in.offset, in.mel_frames - in.offset}));
  const double step = in.frame_step_s;
  auto descriptor = [&](int col) {
    std::vector<double> v(n);
    for (long long t = 0; t < n; ++t) v[t] = in.lld[t * kNumDescriptors + col];
    return v;
  };
  const std::vector<double> energy = descriptor(kEnergyDb);
  const std::vector<double> f0 = descriptor(kF0Hz);
  const double top = n > 0 ? NanMax(energy) : 0.0;  // a NaN leaves no frame active
  std::vector<char> active(n), voiced(n);
  long long n_active = 0, n_voiced = 0;
  for (long long t = 0; t < n; ++t) {
    active[t] = energy[t] >= top - kActiveRangeDb;
    voiced[t] = f0[t] > 0;
    n_active += active[t];
    n_voiced += voiced[t];
  }

  // The spectral envelope: MFCC 1-12, the log-mel bands relative to their mean level over the
  // active frames (one number for all bands), and the deltas of both over all aligned frames
  // (v1) or inside each run of active frames (v2).
  // (No pointer arithmetic without aligned frames: the tables may be null or shorter.)
  const float* mfcc = n > 0 ? in.mfcc + in.offset * in.mfcc_dim : nullptr;
  const float* mel = n > 0 ? in.log_mel + in.offset * kLargeV1Mels : nullptr;
  double mel_level = 0.0;
  if (n_active > 0) {
    double sum = 0.0;
    for (long long t = 0; t < n; ++t)
      if (active[t])
        for (int b = 0; b < kLargeV1Mels; ++b) sum += mel[t * kLargeV1Mels + b];
    mel_level = sum / static_cast<double>(n_active * kLargeV1Mels);
  }
  std::vector<std::vector<double>> mfccs(kLargeV1Mfcc), mels(kLargeV1Mels);
  for (int k = 0; k < kLargeV1Mfcc; ++k) {
    mfccs[k].resize(n);
    for (long long t = 0; t < n; ++t) mfccs[k][t] = mfcc[t * in.mfcc_dim + k + 1];
  }
  for (int b = 0; b < kLargeV1Mels; ++b) {
    mels[b].resize(n);
    for (long long t = 0; t < n; ++t)
      mels[b][t] = static_cast<double>(mel[t * kLargeV1Mels + b]) - mel_level;
  }
  Columns spectral;
  spectral.rows = n_active;
  spectral.data.reserve(n_active * 2 * (kLargeV1Mfcc + kLargeV1Mels));
  for (const auto& c : mfccs) spectral.Add(c, active);
  const bool within_runs = in.version == 2;
  for (const auto& c : mfccs) spectral.Add(Deltas(c, active, within_runs), active);
  for (const auto& c : mels) spectral.Add(c, active);
  for (const auto& c : mels) spectral.Add(Deltas(c, active, within_runs), active);

  // The level (loudness relative to its mean over active frames, energy relative to its
  // maximum) and the spectral balance and shape, over active frames.
  const std::vector<double> loud = descriptor(kLoudness);
  double mean_loud = 0.0;
  if (n_active > 0) {
    double sum = 0.0;
    for (long long t = 0; t < n; ++t)
      if (active[t]) sum += loud[t];
    mean_loud = sum / static_cast<double>(n_active);
  }
  std::vector<double> rel_loud(n, 0.0), energy_rel(n);
  for (long long t = 0; t < n; ++t) {
    if (mean_loud > 0) rel_loud[t] = loud[t] / mean_loud;
    energy_rel[t] = energy[t] - top;
  }
  Columns level;
  level.rows = n_active;
  level.Add(rel_loud, active);
  level.Add(energy_rel, active);
  for (int col : {kAlphaRatioDb, kHammarbergDb, kSlope0To500, kSlope500To1500, kSpectralFlux,
                  kSpectralCentroidHz, kSpectralRolloffHz, kSpectralEntropy, kZcr})
    level.Add(descriptor(col), active);

  // The voice, over voiced frames: F0 in semitones, voice quality, formants.
  std::vector<double> semitones(n);
  for (long long t = 0; t < n; ++t)
    semitones[t] = 12.0 * std::log2(std::max(f0[t], 1e-9) / kSemitoneRefHz);
  Columns voice;
  voice.rows = n_voiced;
  voice.Add(semitones, voiced);
  for (int col : {kVoicing, kHnrDb, kJitterLocal, kShimmerLocalDb, kF1Hz, kF1BwHz, kF2Hz, kF2BwHz,
                  kF3Hz, kF3BwHz})
    voice.Add(descriptor(col), voiced);

  std::vector<double> vec(kLargeV1Dim);
  double* w = vec.data();
  for (const Columns* g : {&spectral, &level, &voice}) {
    PutFunctionals(*g, step, w);
    w += kNumFunctionals * g->count;
  }
  *w++ = static_cast<double>(n_voiced) / static_cast<double>(std::max(n_active, 1LL));
  if (w != vec.data() + kLargeV1Dim) throw std::logic_error("large functionals: wrong size");
  for (int i = 0; i < kLargeV1Dim; ++i)
    out[i] = std::isfinite(vec[i]) ? static_cast<float>(vec[i]) : 0.0f;
}

}  // namespace edgeser
