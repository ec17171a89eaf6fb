// SpectralAnalyzer against the formulas of docs/voice-descriptors.md (a naive DFT and plain
// loops, in double), against known truths of synthetic signals, and on hostile input.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <complex>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "simd.h"
#include "spectral.h"
#include "test_runner.h"
#include "test_util.h"

namespace {

using edgeser::DescriptorOptions;
using edgeser::Isa;
using edgeser::SpectralAnalyzer;
using edgeser::SpectralFrame;

constexpr double kPi = 3.14159265358979323846;
constexpr int kValues = 11;

std::vector<double> Values(const SpectralFrame& s) {
  return {s.loudness,
          s.energy_db,
          s.alpha_ratio_db,
          s.hammarberg_db,
          s.slope_0_500,
          s.slope_500_1500,
          s.spectral_flux,
          s.spectral_centroid_hz,
          s.spectral_rolloff_hz,
          s.spectral_entropy,
          s.zcr};
}

const char* const kNames[kValues] = {"loudness",      "energy_db",   "alpha_ratio_db",
                                     "hammarberg_db", "slope_0_500", "slope_500_1500",
                                     "spectral_flux", "centroid",    "rolloff",
                                     "entropy",       "zcr"};

// ---- the definition, one window at a time ------------------------------------------------------
double HzToMel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }
double MelToHz(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }
double Q(double hz) {
  const double w2 = std::pow(2.0 * kPi * hz, 2);
  return (w2 + 56.8e6) * w2 * w2 / (std::pow(w2 + 6.3e6, 2) * (w2 + 0.38e9));
}

struct Naive {
  explicit Naive(const DescriptorOptions& o) : opts(o) {}
  DescriptorOptions opts;
  std::vector<double> previous;  // empty: first frame

  std::vector<double> Analyze(const float* x) {
    const int n = opts.spectral_length(), fft = opts.fft_size(), bins = fft / 2 + 1;
    const double rate = opts.sample_rate, eps = opts.spectrum_floor;
    double sum = 0.0;
    for (int j = 0; j < n; ++j) sum += x[j];
    const double mean = sum / n;
    std::vector<double> s(n), sw(n);
    double energy = 0.0, wpow = 0.0;
    int crossings = 0;
    for (int j = 0; j < n; ++j) {
      s[j] = x[j] - mean;
      const double w = 0.54 - 0.46 * std::cos(2.0 * kPi * j / (n - 1));
      sw[j] = s[j] * w;
      wpow += w * w;
      energy += s[j] * s[j];
      if (j > 0 && (s[j] >= 0) != (s[j - 1] >= 0)) ++crossings;
    }
    const std::vector<std::complex<double>> X = edgeser_test::NaiveRfft(sw.data(), n, fft);
    std::vector<double> p(bins), f(bins);
    for (int k = 0; k < bins; ++k) {
      p[k] = std::norm(X[k]) / wpow;
      f[k] = k * rate / fft;
    }
    std::vector<double> out(kValues, 0.0);
    // loudness
    const double fmax = std::min(8000.0, rate / 2), m0 = HzToMel(20.0), m1 = HzToMel(fmax);
    for (int b = 0; b < 24; ++b) {
      const double lo = m0 + b * (m1 - m0) / 25, mid = m0 + (b + 1) * (m1 - m0) / 25,
                   hi = m0 + (b + 2) * (m1 - m0) / 25;
      double e = 0.0;
      for (int k = 0; k < bins; ++k) {
        const double m = HzToMel(f[k]);
        e += std::max(0.0, std::min((m - lo) / (mid - lo), (hi - m) / (hi - mid))) * p[k];
      }
      out[0] += std::pow(Q(MelToHz(mid)) / Q(1000.0) * e, 0.3);
    }
    out[1] = 10.0 * std::log10(energy / n + opts.power_floor);
    double a = 0, b = 0, h1 = 0, h2 = 0;
    for (int k = 0; k < bins; ++k) {
      if (f[k] >= 50 && f[k] < 1000) a += p[k];
      if (f[k] >= 1000 && f[k] < 5000) b += p[k];
      if (f[k] > 0 && f[k] < 2000) h1 = std::max(h1, p[k]);
      if (f[k] >= 2000 && f[k] < 5000) h2 = std::max(h2, p[k]);
    }
    out[2] = 10.0 * std::log10((a + eps) / (b + eps));
    out[3] = 10.0 * std::log10((h1 + eps) / (h2 + eps));
    for (int r = 0; r < 2; ++r) {
      const double lo = r ? 500 : 0, hi = r ? 1500 : 500;
      double sx = 0, sy = 0, c = 0;
      for (int k = 0; k < bins; ++k) {
        if (f[k] < lo || f[k] > hi) continue;
        sx += f[k] / 1000;
        sy += 10 * std::log10(p[k] + eps);
        ++c;
      }
      double sxy = 0, sxx = 0;
      for (int k = 0; k < bins && c >= 2; ++k) {
        if (f[k] < lo || f[k] > hi) continue;
        const double dx = f[k] / 1000 - sx / c;
        sxy += dx * (10 * std::log10(p[k] + eps) - sy / c);
        sxx += dx * dx;
      }
      out[4 + r] = c >= 2 ? sxy / sxx : 0.0;
    }
    std::vector<double> m(bins);
    double msum = 0.0;
    for (int k = 0; k < bins; ++k) msum += m[k] = std::sqrt(p[k]);
    for (double& v : m) v = msum > 0 ? v / msum : 0.0;
    for (int k = 0; k < bins && !previous.empty(); ++k) out[6] += std::pow(m[k] - previous[k], 2);
    previous = m;
    double total = 0.0, centroid = 0.0, entropy = 0.0;
    for (int k = 0; k < bins; ++k) {
      total += p[k];
      centroid += f[k] * p[k];
    }
    if (total >= eps) {
      out[7] = centroid / total;
      double cum = 0.0;
      int k = 0;
      while ((cum += p[k]) < 0.9 * total) ++k;
      out[8] = f[k];
      for (double v : p) {
        if (v > 0) entropy -= v / total * std::log2(v / total);
      }
      out[9] = entropy / std::log2(bins);
    }
    out[10] = static_cast<double>(crossings) / (n - 1);
    return out;
  }
};

// The analyzer's values of consecutive windows x[i * hop : i * hop + length], `block` at a time.
std::vector<std::vector<double>> Run(const SpectralAnalyzer& a, const std::vector<float>& x,
                                     int hop, int block,
                                     SpectralAnalyzer::Workspace* reuse = nullptr) {
  const int n = a.options().spectral_length();
  const int frames =
      x.size() < static_cast<std::size_t>(n) ? 0 : 1 + (static_cast<int>(x.size()) - n) / hop;
  SpectralAnalyzer::Workspace own = a.MakeWorkspace();
  SpectralAnalyzer::Workspace& ws = reuse ? *reuse : own;
  std::vector<std::vector<double>> out;
  SpectralFrame res[edgeser::kLanes];
  const float* starts[edgeser::kLanes];
  for (int first = 0; first < frames; first += block) {
    const int count = std::min(block, frames - first);
    for (int f = 0; f < count; ++f)
      starts[f] = x.data() + static_cast<std::size_t>(first + f) * hop;
    a.Analyze(starts, count, res, ws);
    for (int f = 0; f < count; ++f) out.push_back(Values(res[f]));
  }
  return out;
}

std::vector<float> Sine(int n, double rate, double hz, double amp, double phase = 0.0) {
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i)
    x[i] = static_cast<float>(amp * std::sin(2 * kPi * hz * i / rate + phase));
  return x;
}

std::vector<DescriptorOptions> Configs() {
  std::vector<DescriptorOptions> out(4);
  out[1].sample_rate = 8000;
  out[1].formant_max_hz = 4000;
  out[1].f0_max_hz = 500;
  out[2].sample_rate = 44100;
  out[2].spectral_window_ms = 20.0;
  out[3].sample_rate = 16000;
  out[3].spectral_window_ms = 32.0;  // N = K = 512
  return out;
}

EDGESER_TEST(spectral, matches_the_definition) {
  for (const DescriptorOptions& o : Configs()) {
    const SpectralAnalyzer a(o);
    const int n = o.spectral_length(), hop = n / 3;
    for (int shape = 0; shape < edgeser_test::NumSignalShapes(); ++shape) {
      const std::vector<float> x = edgeser_test::Signal(shape, n + 10 * hop, 17 + shape);
      const std::vector<std::vector<double>> got = Run(a, x, hop, edgeser::kLanes);
      Naive naive(o);
      for (std::size_t i = 0; i < got.size(); ++i) {
        const std::vector<double> want = naive.Analyze(x.data() + i * hop);
        for (int c = 0; c < kValues; ++c) {
          const double tol = (c == 8 || c == 10) ? 0.0 : 1e-9 * (1.0 + std::fabs(want[c]));
          CHECK_MSG(std::fabs(got[i][c] - want[c]) <= tol, kNames[c], " of frame ", i, " shape ",
                    shape, " at ", o.sample_rate, " Hz: ", got[i][c], " vs ", want[c]);
        }
      }
    }
  }
}

EDGESER_TEST(spectral, blocks_and_lanes_do_not_change_the_result) {
  const DescriptorOptions o;
  const SpectralAnalyzer a(o);
  const std::vector<float> x = edgeser_test::Signal(2, 16000, 3);
  const std::vector<std::vector<double>> eight = Run(a, x, 160, 8);
  for (int block : {1, 3, 5, 7}) CHECK(Run(a, x, 160, block) == eight);
  // A reused workspace continues the flux; Reset starts over.
  SpectralAnalyzer::Workspace ws = a.MakeWorkspace();
  Run(a, x, 160, 8, &ws);
  CHECK(Run(a, x, 160, 8, &ws)[0][6] > 0.0);
  SpectralAnalyzer::Reset(ws);
  CHECK(Run(a, x, 160, 8, &ws) == eight);
}

EDGESER_TEST(spectral, every_instruction_set_agrees) {
  const Isa saved = edgeser::ActiveIsa();
  const DescriptorOptions o;
  const SpectralAnalyzer a(o);
  const std::vector<float> x = edgeser_test::Signal(1, 8000, 5);
  const std::vector<std::vector<double>> want = Run(a, x, 160, 8);
  for (Isa isa : {Isa::kGeneric, Isa::kNeon, Isa::kAvx2, Isa::kAvx512}) {
    if (!edgeser::SetActiveIsa(isa)) continue;
    const std::vector<std::vector<double>> got = Run(a, x, 160, 8);
    for (std::size_t i = 0; i < got.size(); ++i) {
      for (int c = 0; c < kValues; ++c)
        CHECK_MSG(std::fabs(got[i][c] - want[i][c]) <= 1e-10 * (1 + std::fabs(want[i][c])),
                  kNames[c], " on ", edgeser::IsaName(isa));
    }
  }
  edgeser::SetActiveIsa(saved);
}

EDGESER_TEST(spectral, tones) {
  const DescriptorOptions o;
  const SpectralAnalyzer a(o);
  const int n = o.spectral_length();
  const double bin = 16000.0 / o.fft_size();
  for (double hz : {440.0, 1000.0, 1234.5, 3000.0, 6000.0}) {
    const std::vector<double> v = Run(a, Sine(n, 16000, hz, 1.0, 0.3), n, 1)[0];
    CHECK_MSG(std::fabs(v[7] - hz) < bin, "centroid ", v[7], " of ", hz);
    CHECK_MSG(std::fabs(v[8] - hz) <= 2 * bin, "rolloff ", v[8], " of ", hz);
    CHECK_MSG(v[9] < 0.25, "entropy ", v[9]);
    CHECK_MSG(std::fabs(v[10] - 2 * hz / 16000) <= 1.0 / (n - 1), "zcr ", v[10]);
    CHECK_MSG(std::fabs(v[1] + 3.0103) < 0.05, "energy_db ", v[1]);  // a full-scale sine
  }
  const std::vector<double> noise = Run(a, edgeser_test::Noise(n, 7), n, 1)[0];
  CHECK_MSG(noise[9] > 0.85, "entropy of white noise ", noise[9]);
}

EDGESER_TEST(spectral, balance_of_two_tones) {
  const DescriptorOptions o;
  const SpectralAnalyzer a(o);
  const int n = o.spectral_length();
  for (double a1 : {1.0, 0.3, 0.05}) {
    for (double a2 : {0.5, 0.1}) {
      std::vector<float> x = Sine(n, 16000, 500, a1), y = Sine(n, 16000, 3000, a2, 1.0);
      for (int i = 0; i < n; ++i) x[i] += y[i];
      const std::vector<double> v = Run(a, x, n, 1)[0];
      const double want = 20 * std::log10(a1 / a2);
      CHECK_MSG(std::fabs(v[2] - want) < 0.5, "alpha ratio ", v[2], " vs ", want);
      CHECK_MSG(std::fabs(v[3] - want) < 0.5, "Hammarberg ", v[3], " vs ", want);
    }
  }
}

EDGESER_TEST(spectral, slopes_of_pre_emphasised_noise) {
  // |H(f)|^2 = 1 + 0.97^2 - 1.94 cos(2 pi f / fs) rises by about +34 dB/kHz over 0-500 Hz and
  // +9 dB/kHz over 500-1500 Hz; a sum of falling sines (-12 dB/kHz) slopes the other way.
  const DescriptorOptions o;
  const SpectralAnalyzer a(o);
  const int n = o.spectral_length(), frames = 200;
  const std::vector<float> w = edgeser_test::Noise(n + 160 * frames, 11);
  std::vector<float> x(w.size());
  for (std::size_t i = 1; i < w.size(); ++i) x[i] = w[i] - 0.97f * w[i - 1];
  double low = 0, high = 0;
  for (const std::vector<double>& v : Run(a, x, 160, 8)) {
    low += v[4] / frames;
    high += v[5] / frames;
  }
  CHECK_MSG(low > 20 && low < 45, "slope_0_500 ", low);
  CHECK_MSG(high > 6 && high < 12, "slope_500_1500 ", high);
  std::vector<float> falling(n);
  for (int k = 1; k < 60; ++k) {
    const double hz = k * 25.0 + 3.0, amp = 0.05 * std::pow(10.0, -12.0 * hz / 1000 / 20);
    const std::vector<float> s = Sine(n, 16000, hz, amp, 0.7 * k * k);
    for (int i = 0; i < n; ++i) falling[i] += s[i];
  }
  const std::vector<double> v = Run(a, falling, n, 1)[0];
  CHECK_MSG(v[5] < -6 && v[5] > -18, "slope_500_1500 of a -12 dB/kHz comb ", v[5]);
}

EDGESER_TEST(spectral, gain) {
  const DescriptorOptions o;
  const SpectralAnalyzer a(o);
  std::vector<float> x = edgeser_test::Signal(1, 4000, 2), n = edgeser_test::Noise(4000, 3, 0.05);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] += n[i];
  const std::vector<std::vector<double>> base = Run(a, x, 160, 8);
  for (float g : {0.25f, 4.0f, 64.0f}) {  // powers of two: the scaled floats are exact
    std::vector<float> y(x);
    for (float& v : y) v *= g;
    const std::vector<std::vector<double>> got = Run(a, y, 160, 8);
    for (std::size_t i = 0; i < got.size(); ++i) {
      CHECK_NEAR(got[i][0], base[i][0] * std::pow(g, 0.6), 1e-9 * base[i][0] * std::pow(g, 0.6));
      CHECK_NEAR(got[i][1], base[i][1] + 20 * std::log10(g), 1e-6);
      for (int c : {2, 3, 4, 5, 6, 7, 8, 9, 10}) {
        // the spectrum floor (1e-22) is far below the emptiest bin: the slopes keep too
        const double tol = 1e-6 * (1 + std::fabs(base[i][c]));
        CHECK_MSG(std::fabs(got[i][c] - base[i][c]) <= tol, kNames[c], " changes with gain ", g,
                  ": ", got[i][c], " vs ", base[i][c]);
      }
    }
  }
  // Loudness grows with level.
  double last = 0.0;
  for (double amp : {1e-4, 1e-3, 1e-2, 0.1, 1.0}) {
    const double l = Run(a, Sine(o.spectral_length(), 16000, 700, amp), 1, 1)[0][0];
    CHECK_MSG(l > last, "loudness ", l, " at amplitude ", amp);
    last = l;
  }
}

EDGESER_TEST(spectral, flux) {
  const DescriptorOptions o;
  const SpectralAnalyzer a(o);
  const int n = o.spectral_length();
  // Windows 0, 1, 2 identical, then another tone.
  const std::vector<float> tone = Sine(n, 16000, 1000, 0.5), other = Sine(n, 16000, 2500, 0.5);
  const float* w[4] = {tone.data(), tone.data(), tone.data(), other.data()};
  SpectralAnalyzer::Workspace ws = a.MakeWorkspace();
  SpectralFrame r[4];
  a.Analyze(w, 4, r, ws);
  CHECK(r[0].spectral_flux == 0.0);  // the first window
  CHECK(r[1].spectral_flux == 0.0);
  CHECK(r[2].spectral_flux == 0.0);
  CHECK(r[3].spectral_flux > 0.1);
  a.Analyze(w + 3, 1, r, ws);  // the next block continues from the last window
  CHECK(r[0].spectral_flux == 0.0);
}

EDGESER_TEST(spectral, hostile_windows_stay_finite) {
  const float big = FLT_MAX, sub = std::numeric_limits<float>::denorm_min();
  for (const DescriptorOptions& o : Configs()) {
    const SpectralAnalyzer a(o);
    const int n = o.spectral_length();
    std::vector<std::vector<float>> cases;
    cases.push_back(std::vector<float>(n, 0.0f));
    cases.push_back(std::vector<float>(n, big));
    cases.push_back(std::vector<float>(n, -1.0f));
    std::vector<float> alt(n), spike(n, 0.0f), tiny(n), square(n);
    for (int i = 0; i < n; ++i) {
      alt[i] = (i % 2) ? big : -big;
      tiny[i] = (i % 3) ? sub : 1e-30f;
      square[i] = (i / 20) % 2 ? 1.0f : -1.0f;
    }
    spike[n / 2] = big;
    cases.insert(cases.end(), {alt, spike, tiny, square});
    for (int shape = 0; shape < edgeser_test::NumSignalShapes(); ++shape)
      cases.push_back(edgeser_test::Signal(shape, n, 100 + shape));
    std::vector<float> all;
    for (const std::vector<float>& c : cases) all.insert(all.end(), c.begin(), c.end());
    for (int block : {1, 8}) {
      for (const std::vector<double>& v : Run(a, all, n, block)) {
        for (int c = 0; c < kValues; ++c) CHECK_MSG(std::isfinite(v[c]), kNames[c], " = ", v[c]);
        CHECK(v[9] >= 0.0 && v[9] <= 1.0 + 1e-12);
        CHECK(v[10] >= 0.0 && v[10] <= 1.0);
      }
    }
    const std::vector<double> silence = Run(a, cases[0], n, 1)[0];
    for (int c : {0, 2, 3, 4, 5, 6, 7, 8, 9, 10}) CHECK_MSG(silence[c] == 0.0, kNames[c]);
    CHECK_NEAR(silence[1], -200.0, 1e-9);  // 10 log10(power_floor)
  }
}

EDGESER_TEST(spectral, rejects_bad_calls) {
  const DescriptorOptions o;
  const SpectralAnalyzer a(o);
  std::vector<float> x(o.spectral_length());
  const float* w[edgeser::kLanes + 1];
  for (const float*& p : w) p = x.data();
  SpectralFrame r[edgeser::kLanes + 1];
  SpectralAnalyzer::Workspace ws = a.MakeWorkspace();
  CHECK_THROWS(a.Analyze(w, edgeser::kLanes + 1, r, ws), std::invalid_argument, "count");
  CHECK_THROWS(a.Analyze(w, -1, r, ws), std::invalid_argument, "count");
  a.Analyze(w, 0, r, ws);  // nothing to do
  DescriptorOptions other;
  other.spectral_window_ms = 30.0;
  SpectralAnalyzer::Workspace wrong = SpectralAnalyzer(other).MakeWorkspace();
  CHECK_THROWS(a.Analyze(w, 1, r, wrong), std::invalid_argument, "workspace");
  SpectralAnalyzer::Workspace empty;
  CHECK_THROWS(a.Analyze(w, 1, r, empty), std::invalid_argument, "workspace");
}

}  // namespace
