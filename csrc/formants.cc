#include "formants.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "lpc.h"
#include "polynomial_roots.h"
#include "simd.h"

namespace edgeser {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kPreemphasis = 0.97;
constexpr double kWhiteNoiseCorrection = 1e-9;  // R_0 *= 1 + this: keeps R positive definite
constexpr double kSilenceR0 = 1e-12;            // R_0 at or below this: no formants
constexpr double kMinFormantHz = 90.0;

// Where each array lives in Workspace::scratch_.
struct Layout {
  std::size_t prepared, autocorrelation, lpc, root_re, root_im, roots_work, total;
  Layout(int length, int order) {
    std::size_t at = 0;
    auto take = [&at](std::size_t n) {
      const std::size_t start = at;
      at += n;
      return start;
    };
    prepared = take(length + AutocorrelationPadding(order));
    autocorrelation = take(order + 1);
    lpc = take(order);
    root_re = take(order);
    root_im = take(order);
    roots_work = take(PolynomialRootsWorkSize(order));
    total = at;
  }
};

// Keeps the three lowest (frequency, bandwidth) candidates in order (frequency first, then
// bandwidth, as the reference's lexsort).
struct LowestThree {
  int size = 0;
  double freq[3], bw[3];
  void Offer(double f, double b) {
    int at = size;
    while (at > 0 && (f < freq[at - 1] || (f == freq[at - 1] && b < bw[at - 1]))) --at;
    if (at >= 3) return;
    for (int k = (size < 3 ? size : 2); k > at; --k) {
      freq[k] = freq[k - 1];
      bw[k] = bw[k - 1];
    }
    freq[at] = f;
    bw[at] = b;
    if (size < 3) ++size;
  }
};

// DC removal, pre-emphasis (y[0] = x[0]) and the window: u = y w. The mean in 8 interleaved
// partial sums and the rest element by element, so both loops vectorise (W only selects the
// instruction set the compiler vectorises for).
template <int W>
EDGESER_INLINE void PrepareImpl(const float* x, int n, const double* window, double* u) {
  double partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int j = 0;
  for (; j + 8 <= n; j += 8)
    for (int l = 0; l < 8; ++l) partial[l] += x[j + l];
  double mean = ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
                ((partial[4] + partial[5]) + (partial[6] + partial[7]));
  for (; j < n; ++j) mean += x[j];
  mean /= n;
  u[0] = (x[0] - mean) * window[0];
  for (j = 1; j < n; ++j) u[j] = ((x[j] - mean) - kPreemphasis * (x[j - 1] - mean)) * window[j];
}

EDGESER_MULTIVERSIONED(Prepare, (const float* x, int n, const double* window, double* u),
                       (x, n, window, u))

}  // namespace

FormantAnalyzer::FormantAnalyzer(const DescriptorOptions& opts)
    : opts_(opts), length_(opts.spectral_length()), window_(length_) {
  // The symmetric Hamming window; spectral_length() >= lpc_order + 1 >= 5 (validated).
  for (int j = 0; j < length_; ++j)
    window_[j] = 0.54 - 0.46 * std::cos(2.0 * kPi * j / (length_ - 1));
  // The candidate region |z| > e^{-pi max_bw / rate}, 90 Hz < angle rate / (2 pi) < max_hz,
  // widened by a relative 1e-6 so the prefilter never drops a root the exact test keeps.
  const double rate = opts_.sample_rate;
  min_modulus_ = std::exp(-kPi * opts_.formant_max_bw_hz / rate) * (1.0 - 1e-6);
  max_cosine_ = std::cos(2.0 * kPi * kMinFormantHz / rate) + 1e-6;
  min_cosine_ = std::cos(2.0 * kPi * opts_.formant_max_hz / rate) - 1e-6;
}

FormantAnalyzer::Workspace FormantAnalyzer::MakeWorkspace() const {
  Workspace ws;
  ws.scratch_.assign(Layout(length_, opts_.lpc_order).total, 0.0);
  return ws;
}

void FormantAnalyzer::Analyze(const float* const* windows, int count, FormantFrame* out,
                              Workspace& ws) const {
  const int n = length_, order = opts_.lpc_order;
  const Layout layout(n, order);
  // A default-constructed Workspace allocates here once; MakeWorkspace() ones never do.
  if (ws.scratch_.size() < layout.total) ws.scratch_.assign(layout.total, 0.0);
  double* base = ws.scratch_.data();
  double* u = base + layout.prepared;
  // The zeros after the window that Autocorrelation reads (a Workspace may come from another
  // analyzer, longer windows having left samples there).
  std::fill(u + n, u + n + AutocorrelationPadding(order), 0.0);
  double* r = base + layout.autocorrelation;
  double* a = base + layout.lpc;
  double* re = base + layout.root_re;
  double* im = base + layout.root_im;
  const double rate = opts_.sample_rate;
  for (int f = 0; f < count; ++f) {
    out[f] = FormantFrame();
    Prepare(windows[f], n, window_.data(), u);
    Autocorrelation(u, n, order, r);
    if (!(r[0] > kSilenceR0)) continue;
    r[0] *= 1.0 + kWhiteNoiseCorrection;
    if (!LevinsonDurbin(r, order, a)) continue;
    if (!MonicPolynomialRoots(a, order, re, im, base + layout.roots_work)) continue;
    LowestThree best;
    for (int k = 0; k < order; ++k) {
      if (!(im[k] > 0.0)) continue;
      // A cheap test with a margin first, so atan2 and log run for plausible roots only.
      const double modulus = std::sqrt(re[k] * re[k] + im[k] * im[k]);
      if (modulus < min_modulus_ || re[k] > max_cosine_ * modulus || re[k] < min_cosine_ * modulus)
        continue;
      const double freq = std::atan2(im[k], re[k]) * rate / (2.0 * kPi);
      if (!(freq > kMinFormantHz && freq < opts_.formant_max_hz)) continue;
      const double bw = -std::log(std::hypot(re[k], im[k])) * rate / kPi;
      if (!(bw < opts_.formant_max_bw_hz) || !std::isfinite(bw)) continue;
      best.Offer(freq, bw);
    }
    for (int k = 0; k < best.size; ++k) {
      out[f].freq_hz[k] = best.freq[k];
      out[f].bw_hz[k] = best.bw[k];
    }
  }
}

}  // namespace edgeser
