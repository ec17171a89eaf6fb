// Pitch analyzer: the FFT difference function against its direct sum, known F0 of synthetic
// signals, finite output on hostile windows, lane independence, and every SmoothF0 rule.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "pitch.h"
#include "test_runner.h"
#include "test_util.h"

namespace edgeser {
// The friend of PitchAnalyzer that exposes d(t) to these tests.
struct PitchAnalyzerTestPeer {
  static const double* Difference(const PitchAnalyzer& a, const float* const* windows, int count,
                                  PitchAnalyzer::Workspace& ws) {
    return a.DifferenceFunction(windows, count, ws);
  }
};
}  // namespace edgeser

namespace {

using edgeser::DescriptorOptions;
using edgeser::kLanes;
using edgeser::PitchAnalyzer;
using edgeser::PitchFrame;

constexpr double kPi = 3.14159265358979323846;

// Sum of `harmonics` harmonics of f0 with amplitudes 1/k (a glottal-pulse-like spectrum).
std::vector<float> Harmonic(int n, double rate, double f0, int harmonics, double gain = 0.5,
                            double phase = 0.3) {
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) {
    double v = 0.0;
    for (int k = 1; k <= harmonics && k * f0 < rate / 2; ++k)
      v += std::sin(2 * kPi * k * f0 * i / rate + k * phase) / k;
    x[i] = static_cast<float>(gain * v);
  }
  return x;
}

// The windows' DC removal as the analyzer does it (four partial sums, see pitch.cc).
std::vector<double> RemoveDc(const float* w, int n) {
  double s[4] = {0, 0, 0, 0};
  for (int j = 0; j < n; ++j) s[j % 4] += w[j];
  const double mean = ((s[0] + s[1]) + (s[2] + s[3])) / n;
  std::vector<double> x(n);
  for (int j = 0; j < n; ++j) x[j] = static_cast<double>(w[j]) - mean;
  return x;
}

// Runs Analyze over any number of windows, kLanes at a time.
std::vector<PitchFrame> AnalyzeAll(const PitchAnalyzer& a, const std::vector<std::vector<float>>& w,
                                   int block = kLanes) {
  std::vector<PitchFrame> out(w.size());
  PitchAnalyzer::Workspace ws = a.MakeWorkspace();
  for (std::size_t first = 0; first < w.size(); first += block) {
    const int count = static_cast<int>(std::min<std::size_t>(block, w.size() - first));
    const float* ptrs[kLanes];
    for (int f = 0; f < count; ++f) ptrs[f] = w[first + f].data();
    a.Analyze(ptrs, count, out.data() + first, ws);
  }
  return out;
}

DescriptorOptions Options(int rate, double window_ms, double f0_min, double f0_max) {
  DescriptorOptions o;
  o.sample_rate = rate;
  o.pitch_window_ms = window_ms;
  o.f0_min_hz = f0_min;
  o.f0_max_hz = f0_max;
  o.formant_max_hz = std::min(o.formant_max_hz, rate / 2.0);
  return o;
}

std::vector<DescriptorOptions> Configs() {
  return {
      DescriptorOptions(),                // 800 samples, tau 32..267: FFT 1024, tail 512
      Options(16000, 62.5, 60, 500),      // 1000 samples: the window FFT doubles to 2048
      Options(8000, 50.0, 60, 500),       // 400 samples
      Options(22050, 40.0, 75, 600),      // 882 samples, tau 36..294
      Options(48000, 30.0, 80, 1000),     // 1440 samples
      Options(16000, 25.0, 100, 400),     // 400 samples, tau 40..160: tail length 160
      Options(16000, 33.3, 64.0, 500.0),  // 533 samples, tau_max 250 (no power of two)
  };
}

std::vector<std::vector<float>> MixedWindows(int n, double rate, std::uint64_t seed) {
  edgeser_test::Rng rng(seed);
  std::vector<std::vector<float>> w;
  for (int shape = 0; shape < edgeser_test::NumSignalShapes(); ++shape)
    w.push_back(edgeser_test::Signal(shape, n, seed + shape));
  for (int i = 0; i < 6; ++i) w.push_back(Harmonic(n, rate, rng.Uniform(70, 450), 12));
  // A sine with an integer period (d(T) is ~0: the floor), a loud tail after silence, a loud
  // head before silence, one impulse at the start.
  std::vector<float> sine(n), tail(n), head(n), click(n);
  for (int i = 0; i < n; ++i) sine[i] = static_cast<float>(0.7 * std::sin(2 * kPi * i / 40.0));
  for (int i = n - n / 4; i < n; ++i) tail[i] = static_cast<float>(rng.Normal());
  for (int i = 0; i < n / 8; ++i) head[i] = static_cast<float>(1e4 * rng.Normal());
  click[0] = 1.0f;
  w.push_back(sine);
  w.push_back(tail);
  w.push_back(head);
  w.push_back(click);
  return w;
}

EDGESER_TEST(pitch, fft_difference_function_equals_the_direct_sum) {
  double worst_scaled = 0.0, worst_relative = 0.0;
  for (const DescriptorOptions& o : Configs()) {
    const PitchAnalyzer a(o);
    const int n = o.pitch_length(), tmax = o.tau_max(), w = n - tmax;
    const std::vector<std::vector<float>> windows = MixedWindows(n, o.sample_rate, 11);
    PitchAnalyzer::Workspace ws = a.MakeWorkspace();
    for (std::size_t first = 0; first < windows.size(); first += kLanes) {
      const int count = static_cast<int>(std::min<std::size_t>(kLanes, windows.size() - first));
      const float* ptrs[kLanes];
      for (int f = 0; f < count; ++f) ptrs[f] = windows[first + f].data();
      const double* d = edgeser::PitchAnalyzerTestPeer::Difference(a, ptrs, count, ws);
      for (int f = 0; f < count; ++f) {
        const std::vector<double> x = RemoveDc(ptrs[f], n);
        double e0 = 0.0;
        for (int j = 0; j < w; ++j) e0 += x[j] * x[j];
        CHECK(d[f] == 0.0);
        for (int t = 1; t <= tmax; ++t) {
          double direct = 0.0, et = 0.0;
          for (int j = 0; j < w; ++j) {
            direct += (x[j] - x[j + t]) * (x[j] - x[j + t]);
            et += x[j + t] * x[j + t];
          }
          const double got = d[t * kLanes + f], scale = e0 + et;
          CHECK_MSG(got >= 0.0 && std::isfinite(got), "t=", t, " d=", got);
          if (scale == 0.0) {
            CHECK(got == 0.0);
            continue;
          }
          // Against the scale of the energies everywhere (the floor sits at 1e-11 of it) ...
          const double scaled = std::abs(got - direct) / scale;
          worst_scaled = std::max(worst_scaled, scaled);
          CHECK_MSG(scaled <= 1e-9, "window ", first + f, " t=", t, " fft ", got, " direct ",
                    direct, " scale ", scale, " rate ", o.sample_rate);
          // ... and relative to d itself where d is not tiny.
          if (direct > 1e-3 * scale) {
            const double relative = std::abs(got - direct) / direct;
            worst_relative = std::max(worst_relative, relative);
            CHECK_MSG(relative <= 1e-9, "t=", t, " fft ", got, " direct ", direct);
          }
        }
      }
    }
  }
  std::printf("    d(t) by FFT vs direct: worst %.2e of e0 + e_t, %.2e relative\n", worst_scaled,
              worst_relative);
}

EDGESER_TEST(pitch, sines_and_harmonic_signals_give_their_f0) {
  const DescriptorOptions o;
  const PitchAnalyzer a(o);
  const int n = o.pitch_length();
  std::vector<std::vector<float>> w;
  std::vector<double> truth;
  for (double f0 = 80.0; f0 <= 400.0; f0 *= 1.07) {
    std::vector<float> sine(n);
    for (int i = 0; i < n; ++i)
      sine[i] = static_cast<float>(0.5 * std::sin(2 * kPi * f0 * i / 16000));
    w.push_back(sine);
    truth.push_back(f0);
    w.push_back(Harmonic(n, 16000, f0, 20));
    truth.push_back(f0);
  }
  const std::vector<PitchFrame> out = AnalyzeAll(a, w);
  std::vector<double> errors;
  for (std::size_t i = 0; i < w.size(); ++i) {
    CHECK_MSG(out[i].f0_hz > 0.0, "f0 ", truth[i], " unvoiced");
    errors.push_back(std::abs(out[i].f0_hz - truth[i]) / truth[i]);
    CHECK(out[i].voicing > 0.8);
    CHECK(out[i].hnr_db > 15.0);
  }
  std::sort(errors.begin(), errors.end());
  std::printf("    F0 error: median %.3g%%, worst %.3g%%\n", 100 * errors[errors.size() / 2],
              100 * errors.back());
  CHECK(errors[errors.size() / 2] < 0.005);
  CHECK(errors.back() < 0.02);
}

EDGESER_TEST(pitch, noise_and_silence_are_unvoiced) {
  const DescriptorOptions o;
  const PitchAnalyzer a(o);
  const int n = o.pitch_length();
  std::vector<std::vector<float>> w;
  for (int s = 0; s < 16; ++s) w.push_back(edgeser_test::Noise(n, 100 + s, 0.3));
  w.push_back(std::vector<float>(n, 0.0f));
  w.push_back(std::vector<float>(n, 0.25f));                     // DC only
  std::vector<float> quiet = Harmonic(n, 16000, 150, 10, 1e-9);  // -186 dBFS: under the gate
  w.push_back(quiet);
  const std::vector<PitchFrame> out = AnalyzeAll(a, w);
  for (std::size_t i = 0; i < w.size(); ++i) {
    CHECK_MSG(out[i].f0_hz == 0.0, "window ", i, " f0 ", out[i].f0_hz);
    CHECK(out[i].jitter_local == 0.0 && out[i].shimmer_local_db == 0.0);
  }
  CHECK(out[16].voicing == 0.0 && out[16].hnr_db < -19.9);
  CHECK(out[18].voicing > 0.9);  // gated, but its periodicity is still measured
  // -126 dBFS is above the gate (-150): a quiet recording is voiced as a loud one
  const std::vector<PitchFrame> quieter = AnalyzeAll(a, {Harmonic(n, 16000, 150, 10, 1e-6)});
  CHECK_NEAR(quieter[0].f0_hz, 150.0, 1.0);
}

EDGESER_TEST(pitch, hostile_windows_give_finite_results) {
  for (const DescriptorOptions& o : Configs()) {
    const PitchAnalyzer a(o);
    const int n = o.pitch_length();
    std::vector<std::vector<float>> w = MixedWindows(n, o.sample_rate, 3);
    std::vector<float> square(n), huge(n, 3.0e38f), alternating(n);
    for (int i = 0; i < n; ++i) {
      square[i] = (i / 37) % 2 ? 1.0f : -1.0f;
      alternating[i] = i % 2 ? 3.0e38f : -3.0e38f;
    }
    w.push_back(square);
    w.push_back(huge);
    w.push_back(alternating);
    w.push_back(std::vector<float>(n, 1e-30f));
    w.push_back(Harmonic(n, o.sample_rate, 200, 8, 1e-30));
    for (const PitchFrame& p : AnalyzeAll(a, w)) {
      CHECK(std::isfinite(p.f0_hz) && std::isfinite(p.voicing) && std::isfinite(p.hnr_db));
      CHECK(std::isfinite(p.jitter_local) && std::isfinite(p.shimmer_local_db));
      CHECK(p.voicing >= 0.0 && p.voicing <= 1.0);
      CHECK(p.hnr_db >= -20.0 && p.hnr_db <= 40.0);
      CHECK(p.f0_hz == 0.0 || (p.f0_hz >= o.f0_min_hz * 0.95 && p.f0_hz <= o.f0_max_hz * 1.05));
    }
  }
}

EDGESER_TEST(pitch, results_do_not_depend_on_the_lane_or_block) {
  const DescriptorOptions o;
  const PitchAnalyzer a(o);
  const std::vector<std::vector<float>> w = MixedWindows(o.pitch_length(), 16000, 7);
  const std::vector<PitchFrame> full = AnalyzeAll(a, w);
  for (int block : {1, 3, 5}) {
    const std::vector<PitchFrame> other = AnalyzeAll(a, w, block);
    for (std::size_t i = 0; i < w.size(); ++i) {
      CHECK(other[i].f0_hz == full[i].f0_hz && other[i].voicing == full[i].voicing);
      CHECK(other[i].hnr_db == full[i].hnr_db && other[i].jitter_local == full[i].jitter_local);
      CHECK(other[i].shimmer_local_db == full[i].shimmer_local_db);
    }
  }
  PitchAnalyzer::Workspace ws;  // a default workspace is sized on first use
  PitchFrame out[kLanes];
  const float* ptrs[kLanes + 1] = {};
  for (int f = 0; f <= kLanes; ++f) ptrs[f] = w[f].data();
  a.Analyze(ptrs, 1, out, ws);
  CHECK(out[0].f0_hz == full[0].f0_hz && out[0].hnr_db == full[0].hnr_db);
  CHECK_THROWS(a.Analyze(ptrs, kLanes + 1, out, ws), std::invalid_argument, "count");
}

EDGESER_TEST(pitch, alternating_periods_and_amplitudes_give_jitter_and_shimmer) {
  const DescriptorOptions o;
  const PitchAnalyzer a(o);
  const int n = o.pitch_length();
  // Zero-mean pulses (Ricker wavelets) at alternating periods T (1 +- delta) and alternating
  // amplitudes 1 and g: jitter_local = 2 delta, shimmer = 20 log10(1 / g) dB.
  const double period = 100.0, delta = 0.01, g = std::pow(10.0, -0.8 / 20.0);
  std::vector<float> x(n);
  double at = 13.0;
  for (int k = 0; at < n + 20; ++k) {
    const double amp = k % 2 ? g : 1.0;
    for (int i = 0; i < n; ++i) {
      const double u = (i - at) / 4.0;
      x[i] += static_cast<float>(0.5 * amp * (1 - u * u) * std::exp(-0.5 * u * u));
    }
    at += period * (k % 2 ? 1 - delta : 1 + delta);
  }
  const PitchFrame p = AnalyzeAll(a, {x})[0];
  std::printf("    jitter %.5f (truth %.5f), shimmer %.4f dB (truth %.4f)\n", p.jitter_local,
              2 * delta, p.shimmer_local_db, -20 * std::log10(g));
  CHECK_NEAR(p.f0_hz, 160.0, 3.0);
  CHECK_NEAR(p.jitter_local, 2 * delta, 0.1 * 2 * delta);
  CHECK_NEAR(p.shimmer_local_db, -20 * std::log10(g), 0.1);
}

EDGESER_TEST(pitch, smooth_f0_rules) {
  using edgeser::SmoothF0;
  auto s = [](double a, double b, double c, double d, double e) {
    const double raw[5] = {a, b, c, d, e};
    return SmoothF0(raw);
  };
  CHECK(s(100, 100, 0, 100, 100) == 0.0);      // unvoiced stays unvoiced
  CHECK(s(100, 0, 120, 0, 100) == 0.0);        // isolated: both neighbours unvoiced
  CHECK(s(-1, -1, 120, -1, -1) == 0.0);        // isolated: no neighbours at all
  CHECK(s(-1, -1, 120, 121, 119) == 120.0);    // first frame, neighbours after it
  CHECK(s(100, 101, 205, 99, 100) == 102.5);   // octave up: halved (m = 100)
  CHECK(s(200, 201, 100, 199, 200) == 200.0);  // octave down: doubled (m = 200)
  CHECK(s(100, 101, 175, 99, 100) == 175.0);   // 1.75 m: kept
  CHECK(s(200, 201, 115, 199, 200) == 115.0);  // 0.575 m: kept
  CHECK(s(200, 201, 105, 199, 200) == 210.0);  // 0.525 m: doubled
  CHECK(s(-1, 0, 300, 100, -1) == 300.0);      // two values: m = 200, 300 < 360
  CHECK(s(-1, 0, 1000, 100, -1) == 500.0);     // m = 550, 1000 > 990: halved
  CHECK(s(100, 100, 110, 0, -1) == 110.0);     // last but one, one neighbour voiced
  CHECK(s(0, 0, 50, 100, 100) == 100.0);       // m = 100, 50 < 55: doubled
  CHECK(s(90, 100, 50, 110, 0) == 100.0);      // even count: m = (90 + 100) / 2, 50 < 52.25
  CHECK(s(90, 100, 53, 110, 0) == 53.0);       // 53 > 52.25: kept (m = 100 would double it)
}

}  // namespace
