#include "mel_banks.h"

#include <algorithm>
#include <cmath>

namespace edgeser {
namespace {

constexpr double kSlaneyFSp = 200.0 / 3.0;
constexpr double kSlaneyMinLogHz = 1000.0;
constexpr double kSlaneyMinLogMel = kSlaneyMinLogHz / kSlaneyFSp;
const double kSlaneyLogStep = std::log(6.4) / 27.0;

// max(0, min(up, down)) with NaN propagation, then non-finite -> 0 (numpy's nan_to_num).
double TriangleWeight(double up, double down) {
  double v;
  if (std::isnan(up) || std::isnan(down)) {
    v = NAN;
  } else {
    v = std::min(up, down);
    v = std::max(0.0, v);
  }
  return std::isfinite(v) ? v : 0.0;
}

}  // namespace

double HzToMel(double hz, MelScale scale) {
  if (scale == MelScale::kHtk) return 1127.0 * std::log1p(hz / 700.0);
  if (hz >= kSlaneyMinLogHz)
    return kSlaneyMinLogMel + std::log(std::max(hz, 1e-12) / kSlaneyMinLogHz) / kSlaneyLogStep;
  return hz / kSlaneyFSp;
}

double MelToHz(double mel, MelScale scale) {
  if (scale == MelScale::kHtk) return 700.0 * std::expm1(mel / 1127.0);
  if (mel >= kSlaneyMinLogMel)
    return kSlaneyMinLogHz * std::exp(kSlaneyLogStep * (mel - kSlaneyMinLogMel));
  return mel * kSlaneyFSp;
}

double VtlpWarp(double hz, const FrontendOptions& opts) {
  const double alpha = opts.vtlp_alpha;
  if (alpha == 1.0) return hz;
  const double nyquist = opts.sample_rate / 2.0;
  const double lo = opts.vtlp_high_hz * std::min(alpha, 1.0);
  const double boundary = lo / alpha;
  if (hz <= boundary) return hz * alpha;
  return nyquist - (nyquist - lo) / (nyquist - boundary) * (nyquist - hz);
}

double Linspace(double start, double stop, int num, int i) {
  if (num > 1 && i == num - 1) return stop;
  if (num <= 1) return start;
  const double step = (stop - start) / (num - 1);
  if (step == 0.0) return static_cast<double>(i) / (num - 1) * (stop - start) + start;
  return static_cast<double>(i) * step + start;
}

MelBanks::MelBanks(const FrontendOptions& opts) : num_bins_(opts.n_bins()) {
  const int n_mels = opts.n_mels;
  const MelScale scale = opts.mel_scale;
  const bool mel_domain = opts.triangle_domain == TriangleDomain::kMel;

  const double mel_lo = HzToMel(opts.fmin, scale);
  const double mel_hi = HzToMel(opts.fmax_hz(), scale);
  std::vector<double> edges_hz(n_mels + 2), points(n_mels + 2);
  for (int i = 0; i < n_mels + 2; ++i) {
    edges_hz[i] = VtlpWarp(MelToHz(Linspace(mel_lo, mel_hi, n_mels + 2, i), scale), opts);
    points[i] = mel_domain ? HzToMel(edges_hz[i], scale) : edges_hz[i];
  }
  std::vector<double> x(num_bins_);
  for (int k = 0; k < num_bins_; ++k) {
    const double hz = Linspace(0.0, opts.sample_rate / 2.0, num_bins_, k);
    x[k] = mel_domain ? HzToMel(hz, scale) : hz;
  }

  offset_.push_back(0);
  std::vector<double> row(num_bins_);
  for (int m = 0; m < n_mels; ++m) {
    const double left = points[m], centre = points[m + 1], right = points[m + 2];
    const double norm =
        opts.mel_norm == MelNorm::kSlaney ? 2.0 / (edges_hz[m + 2] - edges_hz[m]) : 1.0;
    int first = -1, last = -1;
    for (int k = 0; k < num_bins_; ++k) {
      const double up = (x[k] - left) / (centre - left);
      const double down = (right - x[k]) / (right - centre);
      double w = TriangleWeight(up, down);
      if (opts.mel_norm == MelNorm::kSlaney) w *= norm;
      row[k] = w;
      if (w != 0.0) {
        if (first < 0) first = k;
        last = k;
      }
    }
    if (first < 0) {
      first_bin_.push_back(0);
    } else {
      first_bin_.push_back(first);
      weights_.insert(weights_.end(), row.begin() + first, row.begin() + last + 1);
      bins_used_ = std::max(bins_used_, last + 1);
    }
    offset_.push_back(static_cast<int>(weights_.size()));
  }
}

std::vector<double> MelBanks::Dense() const {
  std::vector<double> dense(static_cast<std::size_t>(num_banks()) * num_bins_, 0.0);
  for (int m = 0; m < num_banks(); ++m) {
    for (int j = 0; j < num_weights(m); ++j)
      dense[static_cast<std::size_t>(m) * num_bins_ + first_bin(m) + j] = weights(m)[j];
  }
  return dense;
}

}  // namespace edgeser
