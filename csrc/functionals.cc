#include "functionals.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

#include "descriptor_options.h"
#include "mask_runs.h"

namespace edgeser {
namespace {

constexpr double kActiveRangeDb = 60.0;  // frames this far below the loudest are silence
constexpr double kSemitoneRefHz = 27.5;
constexpr int kContourSize = 8;

// Appends to the output vector; every value is double until the final cast, as in NumPy.
class Writer {
 public:
  explicit Writer(double* out) : out_(out) {}
  void Put(double v) { out_[n_++] = v; }
  int size() const { return n_; }

 private:
  double* out_;
  int n_ = 0;
};

double Mean(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

// Population std about `mean` (NumPy's std, ddof 0).
double Std(const std::vector<double>& v, double mean) {
  double s = 0.0;
  for (double x : v) s += (x - mean) * (x - mean);
  return std::sqrt(s / static_cast<double>(v.size()));
}

void PutMeanStd(const std::vector<double>& v, Writer& w) {
  if (v.empty()) {
    w.Put(0.0);
    w.Put(0.0);
    return;
  }
  const double m = Mean(v);
  w.Put(m);
  w.Put(Std(v, m));
}

// NumPy's default (linear) percentile of `sorted` at q in [0, 100].
double Percentile(const std::vector<double>& sorted, double q) {
  const long long last = static_cast<long long>(sorted.size()) - 1;
  const double pos = q / 100.0 * static_cast<double>(last);
  const long long lo = static_cast<long long>(std::floor(pos));
  const long long hi = std::min(lo + 1, last);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

// Percentiles 20/50/80, their range, and the mean / std of the rising and falling slopes (per
// second) between consecutive values inside each run.
void PutContour(const std::vector<double>& values, const Runs& runs, double step_s, Writer& w) {
  const long long n = static_cast<long long>(values.size());
  if (n == 0) {
    for (int i = 0; i < kContourSize; ++i) w.Put(0.0);
    return;
  }
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const double p20 = Percentile(sorted, 20), p50 = Percentile(sorted, 50);
  const double p80 = Percentile(sorted, 80);
  w.Put(p20);
  w.Put(p50);
  w.Put(p80);
  w.Put(p80 - p20);
  // A step i -> i+1 counts when both frames lie in runs and i+1 does not start one.
  std::vector<char> covered(n, 0), starts(n, 0);
  for (const auto& [a, b] : runs) {
    std::fill(covered.begin() + a, covered.begin() + b, 1);
    starts[a] = 1;
  }
  std::vector<double> rise, fall;
  for (long long i = 0; i + 1 < n; ++i) {
    if (!covered[i] || !covered[i + 1] || starts[i + 1]) continue;
    const double d = (values[i + 1] - values[i]) / step_s;
    if (d > 0) rise.push_back(d);
    if (d < 0) fall.push_back(-d);
  }
  PutMeanStd(rise, w);
  PutMeanStd(fall, w);
}

// Column `col` of the descriptor rows, as doubles.
std::vector<double> Column(const FunctionalsInput& in, int col) {
  std::vector<double> v(in.frames);
  for (long long t = 0; t < in.frames; ++t) v[t] = in.lld[t * kNumDescriptors + col];
  return v;
}

// Mean and population std of column `col` over the frames where mask (and, with positive_only,
// the value > 0) holds; 0 and 0 without any.
std::pair<double, double> MaskedMeanStd(const std::vector<double>& v, const std::vector<char>& mask,
                                        bool positive_only) {
  double sum = 0.0;
  long long count = 0;
  for (std::size_t t = 0; t < v.size(); ++t) {
    if (mask[t] && (!positive_only || v[t] > 0)) {
      sum += v[t];
      ++count;
    }
  }
  if (count == 0) return {0.0, 0.0};
  const double mean = sum / static_cast<double>(count);
  double ss = 0.0;
  for (std::size_t t = 0; t < v.size(); ++t)
    if (mask[t] && (!positive_only || v[t] > 0)) ss += (v[t] - mean) * (v[t] - mean);
  return {mean, std::sqrt(ss / static_cast<double>(count))};
}

std::vector<double> Select(const std::vector<double>& v, const std::vector<char>& mask) {
  std::vector<double> out;
  for (std::size_t t = 0; t < v.size(); ++t)
    if (mask[t]) out.push_back(v[t]);
  return out;
}

std::vector<double> RunLengths(const Runs& runs, double step_s) {
  std::vector<double> out;
  for (const auto& [a, b] : runs) out.push_back(static_cast<double>(b - a) * step_s);
  return out;
}

}  // namespace

void GemapsV1(const FunctionalsInput& in, float* out) {
  if (in.frames < 0 || in.mfcc_frames < 0)
    throw std::invalid_argument("functionals: negative frame count");
  if (in.frames > 0 && in.lld == nullptr)
    throw std::invalid_argument("functionals: no descriptor rows");
  if (in.mfcc_frames > 0 && in.mfcc == nullptr)
    throw std::invalid_argument("functionals: no MFCC rows");
  if (in.mfcc_dim < kGemapsV1MfccUsed + 1)
    throw std::invalid_argument("functionals: mfcc_dim must be >= 5 (MFCC 1-4 are used)");
  if (!(in.frame_step_s > 0) || !std::isfinite(in.frame_step_s))
    throw std::invalid_argument("functionals: frame_step_s must be a positive finite number");

  const long long n = in.frames;
  const double step = in.frame_step_s;
  const double duration = static_cast<double>(std::max(n, 1LL)) * step;
  double vec[kGemapsV1Dim];
  Writer w(vec);

  const std::vector<double> energy = Column(in, kEnergyDb);
  const std::vector<double> f0 = Column(in, kF0Hz);
  std::vector<char> active(n, 0), voiced(n, 0), unvoiced(n, 0);
  if (n > 0) {
    // NumPy's max propagates NaN, and then no frame is active.
    double top = energy[0];
    for (double e : energy) {
      if (std::isnan(e)) {
        top = e;
        break;
      }
      top = std::max(top, e);
    }
    for (long long t = 0; t < n; ++t) {
      active[t] = energy[t] >= top - kActiveRangeDb;
      voiced[t] = f0[t] > 0;
      unvoiced[t] = active[t] && !voiced[t];
    }
  }
  long long n_active = 0, n_voiced = 0;
  for (long long t = 0; t < n; ++t) {
    n_active += active[t];
    n_voiced += voiced[t];
  }

  // F0 in semitones over voiced frames; slopes inside voiced runs.
  const Runs runs = MaskRuns(voiced);
  std::vector<double> st;
  Runs local_runs;
  for (const auto& [a, b] : runs) {
    const long long at = static_cast<long long>(st.size());
    for (long long t = a; t < b; ++t) st.push_back(12.0 * std::log2(f0[t] / kSemitoneRefHz));
    local_runs.emplace_back(at, at + b - a);
  }
  PutMeanStd(st, w);
  PutContour(st, local_runs, step, w);

  // Loudness relative to the utterance's mean over active frames.
  const std::vector<double> loud = Column(in, kLoudness);
  double mean_loud = 0.0;
  if (n_active > 0) mean_loud = Mean(Select(loud, active));
  std::vector<double> rel(n, 0.0);
  if (mean_loud > 0)
    for (long long t = 0; t < n; ++t) rel[t] = loud[t] / mean_loud;
  const std::vector<double> rel_active = Select(rel, active);
  w.Put(rel_active.empty() ? 0.0 : Std(rel_active, Mean(rel_active)));
  Runs all_active;
  if (!rel_active.empty()) all_active.emplace_back(0, static_cast<long long>(rel_active.size()));
  PutContour(rel_active, all_active, step, w);

  std::vector<double> e = Select(energy, active);
  if (e.empty()) {
    w.Put(0.0);
    w.Put(0.0);
  } else {
    w.Put(Std(e, Mean(e)));
    std::sort(e.begin(), e.end());
    w.Put(Percentile(e, 80) - Percentile(e, 20));
  }

  for (int col : {kJitterLocal, kShimmerLocalDb, kHnrDb}) {
    const auto [m, s] = MaskedMeanStd(Column(in, col), voiced, false);
    w.Put(m);
    w.Put(s);
  }
  for (int col : {kF1Hz, kF2Hz, kF3Hz, kF1BwHz, kF2BwHz, kF3BwHz}) {
    const auto [m, s] = MaskedMeanStd(Column(in, col), voiced, true);
    w.Put(m);
    w.Put(s);
  }
  for (int col : {kAlphaRatioDb, kHammarbergDb, kSlope0To500, kSlope500To1500}) {
    const std::vector<double> v = Column(in, col);
    const auto [m, s] = MaskedMeanStd(v, voiced, false);
    w.Put(m);
    w.Put(s);
    w.Put(MaskedMeanStd(v, unvoiced, false).first);
  }
  for (int col : {kSpectralFlux, kSpectralCentroidHz, kSpectralRolloffHz, kSpectralEntropy, kZcr}) {
    const auto [m, s] = MaskedMeanStd(Column(in, col), active, false);
    w.Put(m);
    w.Put(s);
  }
  for (int k = 1; k <= kGemapsV1MfccUsed; ++k) {
    std::vector<double> c(in.mfcc_frames);
    for (long long t = 0; t < in.mfcc_frames; ++t) c[t] = in.mfcc[t * in.mfcc_dim + k];
    PutMeanStd(c, w);
  }

  w.Put(static_cast<double>(n_voiced) / static_cast<double>(std::max(n_active, 1LL)));
  w.Put(static_cast<double>(runs.size()) / duration);
  PutMeanStd(RunLengths(runs, step), w);
  PutMeanStd(RunLengths(MaskRuns(unvoiced), step), w);
  if (n >= 3 && mean_loud > 0) {
    // A 3-frame moving average (zero beyond the ends, NumPy's convolve "same"), then local
    // maxima above the mean loudness.
    const double third = 1.0 / 3.0;
    std::vector<double> smooth(n);
    for (long long t = 0; t < n; ++t) {
      double s = 0.0;
      if (t > 0) s += rel[t - 1] * third;
      s += rel[t] * third;
      if (t + 1 < n) s += rel[t + 1] * third;
      smooth[t] = s;
    }
    long long peaks = 0;
    for (long long t = 1; t + 1 < n; ++t)
      peaks += smooth[t] > smooth[t - 1] && smooth[t] >= smooth[t + 1] && smooth[t] > 1.0;
    w.Put(static_cast<double>(peaks) / duration);
  } else {
    w.Put(0.0);
  }
  if (w.size() != kGemapsV1Dim) throw std::logic_error("functionals: wrong output size");
  for (int i = 0; i < kGemapsV1Dim; ++i)
    out[i] = std::isfinite(vec[i]) ? static_cast<float>(vec[i]) : 0.0f;
}

}  // namespace edgeser
