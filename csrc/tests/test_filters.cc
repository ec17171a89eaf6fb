// Window, mel filter bank and DCT against their formulas.
#include <cmath>
#include <vector>

#include "dct.h"
#include "mel_banks.h"
#include "test_runner.h"
#include "window.h"

namespace {

using edgeser::FrontendOptions;
const double kPi = 3.14159265358979323846;

EDGESER_TEST(window, formulas_and_symmetry) {
  FrontendOptions o;  // 400 samples
  const struct {
    edgeser::WindowType type;
    double (*f)(double c);
  } cases[] = {
      {edgeser::WindowType::kHamming, [](double c) { return 0.54 - 0.46 * c; }},
      {edgeser::WindowType::kHann, [](double c) { return 0.5 - 0.5 * c; }},
      {edgeser::WindowType::kPovey, [](double c) { return std::pow(0.5 - 0.5 * c, 0.85); }},
      {edgeser::WindowType::kRectangular, [](double) { return 1.0; }},
  };
  for (const auto& c : cases) {
    o.window = c.type;
    const std::vector<double> w = edgeser::MakeWindow(o);
    CHECK(static_cast<int>(w.size()) == o.frame_length());
    const int n = static_cast<int>(w.size());
    for (int i = 0; i < n; ++i) {
      CHECK_NEAR(w[i], c.f(std::cos(2 * kPi * i / (n - 1))), 1e-15);
      CHECK_NEAR(w[i], w[n - 1 - i], 1e-15);  // symmetric (Kaldi: denominator n - 1)
    }
  }
  o.window = edgeser::WindowType::kHann;
  const std::vector<double> w = edgeser::MakeWindow(o);
  CHECK(w.front() == 0.0);
}

EDGESER_TEST(window, shortest_frame) {
  FrontendOptions o;
  o.frame_length_ms = 0.125;  // 2 samples at 16 kHz
  o.n_mels = 1;
  o.n_mfcc = 1;
  const std::vector<double> w = edgeser::MakeWindow(o);
  CHECK(w.size() == 2);
  CHECK_NEAR(w[0], 0.08, 1e-15);
  CHECK_NEAR(w[1], 0.08, 1e-15);
}

EDGESER_TEST(mel, scales_round_trip_and_known_points) {
  for (auto scale : {edgeser::MelScale::kHtk, edgeser::MelScale::kSlaney}) {
    for (double hz : {0.0, 1e-3, 440.0, 999.9, 1000.0, 1000.1, 7999.0, 24000.0}) {
      CHECK_NEAR(edgeser::MelToHz(edgeser::HzToMel(hz, scale), scale), hz, 1e-9 * (1 + hz));
    }
  }
  CHECK_NEAR(edgeser::HzToMel(700.0, edgeser::MelScale::kHtk), 1127.0 * std::log(2.0), 1e-12);
  CHECK_NEAR(edgeser::HzToMel(1000.0, edgeser::MelScale::kSlaney), 15.0, 1e-12);
  CHECK_NEAR(edgeser::HzToMel(500.0, edgeser::MelScale::kSlaney), 7.5, 1e-12);
}

EDGESER_TEST(mel, linspace_is_numpy_linspace) {
  CHECK(edgeser::Linspace(0.0, 1.0, 5, 0) == 0.0);
  CHECK(edgeser::Linspace(0.0, 1.0, 5, 4) == 1.0);
  CHECK(edgeser::Linspace(0.0, 1.0, 5, 2) == 0.5);
  CHECK(edgeser::Linspace(3.0, 7.0, 1, 0) == 3.0);
}

EDGESER_TEST(mel, triangles_are_sparse_nonnegative_and_peak_at_one) {
  FrontendOptions o;
  o.n_mels = 40;
  const edgeser::MelBanks banks(o);
  CHECK(banks.num_banks() == 40);
  CHECK(banks.num_bins() == o.n_bins());
  const std::vector<double> dense = banks.Dense();
  for (int m = 0; m < banks.num_banks(); ++m) {
    double peak = 0.0;
    for (int j = 0; j < banks.num_weights(m); ++j) {
      CHECK(banks.weights(m)[j] >= 0.0 && banks.weights(m)[j] <= 1.0);
      peak = std::max(peak, banks.weights(m)[j]);
    }
    CHECK_MSG(peak > 0.5, "filter ", m, " peaks at ", peak);
    // The stored span starts and ends on nonzero weights; outside it the row is zero.
    CHECK(banks.weights(m)[0] > 0.0 && banks.weights(m)[banks.num_weights(m) - 1] > 0.0);
    for (int k = 0; k < banks.num_bins(); ++k) {
      const bool inside = k >= banks.first_bin(m) && k < banks.first_bin(m) + banks.num_weights(m);
      if (!inside) CHECK(dense[static_cast<std::size_t>(m) * banks.num_bins() + k] == 0.0);
    }
    CHECK(banks.first_bin(m) + banks.num_weights(m) <= banks.bins_used());
  }
}

EDGESER_TEST(mel, hz_triangles_match_the_formula) {
  FrontendOptions o;
  o.n_mels = 10;
  o.n_mfcc = 10;
  o.fmin = 100.0;
  o.fmax = 7000.0;
  const edgeser::MelBanks banks(o);
  const std::vector<double> dense = banks.Dense();
  const int bins = banks.num_bins();
  const double lo = edgeser::HzToMel(100.0, o.mel_scale),
               hi = edgeser::HzToMel(7000.0, o.mel_scale);
  for (int m = 0; m < 10; ++m) {
    const double l = edgeser::MelToHz(lo + (hi - lo) * m / 11.0, o.mel_scale);
    const double c = edgeser::MelToHz(lo + (hi - lo) * (m + 1) / 11.0, o.mel_scale);
    const double r = edgeser::MelToHz(lo + (hi - lo) * (m + 2) / 11.0, o.mel_scale);
    for (int k = 0; k < bins; ++k) {
      const double hz = 8000.0 * k / (bins - 1);
      const double want = std::max(0.0, std::min((hz - l) / (c - l), (r - hz) / (r - c)));
      CHECK_NEAR(dense[static_cast<std::size_t>(m) * bins + k], want, 1e-9);
    }
  }
}

EDGESER_TEST(mel, slaney_norm_gives_equal_areas_in_hz) {
  FrontendOptions o;
  o.mel_norm = edgeser::MelNorm::kSlaney;
  o.mel_scale = edgeser::MelScale::kSlaney;
  o.n_fft = 4096;  // fine bins, so the sum approximates the area
  const edgeser::MelBanks banks(o);
  const double bin_hz = 8000.0 / (banks.num_bins() - 1);
  for (int m = 5; m < banks.num_banks(); ++m) {
    double area = 0.0;
    for (int j = 0; j < banks.num_weights(m); ++j) area += banks.weights(m)[j] * bin_hz;
    CHECK_NEAR(area, 1.0, 0.02);  // 2 / (right - left) * triangle area (right - left) / 2
  }
}

EDGESER_TEST(mel, vtlp_warp) {
  FrontendOptions o;
  CHECK(edgeser::VtlpWarp(1234.5, o) == 1234.5);  // alpha 1: identity
  o.vtlp_alpha = 0.9;
  CHECK_NEAR(edgeser::VtlpWarp(1000.0, o), 900.0, 1e-12);
  CHECK_NEAR(edgeser::VtlpWarp(8000.0, o), 8000.0, 1e-9);  // Nyquist stays put
  o.vtlp_alpha = 1.1;
  CHECK_NEAR(edgeser::VtlpWarp(1000.0, o), 1100.0, 1e-12);
  CHECK_NEAR(edgeser::VtlpWarp(8000.0, o), 8000.0, 1e-9);
}

EDGESER_TEST(dct, orthonormal_rows_and_lifter) {
  FrontendOptions o;
  o.n_mels = 24;
  o.n_mfcc = 24;
  const std::vector<double> d = edgeser::DctMatrix(o);
  for (int a = 0; a < 24; ++a) {
    for (int b = 0; b < 24; ++b) {
      double dot = 0.0;
      for (int j = 0; j < 24; ++j) dot += d[a * 24 + j] * d[b * 24 + j];
      CHECK_NEAR(dot, a == b ? 1.0 : 0.0, 1e-13);
    }
  }
  for (int j = 0; j < 24; ++j) CHECK_NEAR(d[j], 1.0 / std::sqrt(24.0), 1e-15);
  o.lifter = 22.0;
  const std::vector<double> lift = edgeser::LifterCoeffs(o);
  for (int k = 0; k < 24; ++k) CHECK_NEAR(lift[k], 1 + 11.0 * std::sin(kPi * k / 22.0), 1e-13);
  const std::vector<double> lifted = edgeser::LiftedDctMatrix(o);
  for (int k = 0; k < 24; ++k) {
    for (int j = 0; j < 24; ++j) CHECK_NEAR(lifted[k * 24 + j], d[k * 24 + j] * lift[k], 1e-15);
  }
  o.lifter = 0.0;
  for (double c : edgeser::LifterCoeffs(o)) CHECK(c == 1.0);
}

}  // namespace
