// RealFft and ComplexFft against the O(n^2) DFT, in every lane, for power-of-two sizes (split
// radix path) and others (Bluestein), every output layout, zero padding and partial blocks.
#include <cmath>
#include <complex>
#include <limits>
#include <vector>

#include "rfft.h"
#include "simd.h"
#include "test_runner.h"
#include "test_util.h"

namespace {

using edgeser::AlignedBuffer;
using edgeser::kComplexStride;
using edgeser::kLanes;
using edgeser::RealFft;
using edgeser::SpectrumOutput;
using edgeser_test::NaiveRfft;
using edgeser_test::Rng;

// Lane l of the input is x scaled by (l + 1), so every lane is checked, not just the first.
// Returns the worst error relative to max(1, max |X|) over all lanes < lanes.
double WorstRfftError(int n, int length, SpectrumOutput what, int lanes, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<double> x(length);
  for (double& v : x) v = rng.Normal();
  const RealFft fft(n);
  AlignedBuffer samples(static_cast<std::size_t>(std::max(length, 1)) * kLanes);
  for (int i = 0; i < length; ++i) {
    for (int l = 0; l < kLanes; ++l)  // idle lanes hold NaN: they must not leak into others
      samples.data()[i * kLanes + l] =
          l < lanes ? x[i] * (l + 1) : std::numeric_limits<double>::quiet_NaN();
  }
  AlignedBuffer work(fft.workspace_size());
  AlignedBuffer out(static_cast<std::size_t>(fft.num_bins()) * kComplexStride);
  fft.Forward(samples.data(), length, what, fft.num_bins(), out.data(), work.data(), lanes);
  const auto want = NaiveRfft(x.data(), length, n);
  double scale = 1.0;
  for (const auto& v : want) scale = std::max(scale, std::abs(v));
  double worst = 0.0;
  for (int l = 0; l < lanes; ++l) {
    for (int k = 0; k < fft.num_bins(); ++k) {
      const double f = l + 1.0;
      double err;
      if (what == SpectrumOutput::kComplex) {
        const std::complex<double> got(out.data()[k * kComplexStride + l] / f,
                                       out.data()[k * kComplexStride + kLanes + l] / f);
        err = std::abs(got - want[k]) / scale;
      } else if (what == SpectrumOutput::kPower) {
        err = std::abs(out.data()[k * kLanes + l] / (f * f) - std::norm(want[k])) / (scale * scale);
      } else {
        err = std::abs(out.data()[k * kLanes + l] / f - std::abs(want[k])) / scale;
      }
      if (!(err <= worst)) worst = err;
    }
  }
  return worst;
}

EDGESER_TEST(rfft, matches_naive_dft_for_sizes_1_to_130) {
  for (int n = 1; n <= 130; ++n) {
    const double err = WorstRfftError(n, n, SpectrumOutput::kComplex, kLanes, n);
    CHECK_MSG(err <= 1e-13, "n=", n, " relative error ", err);
  }
}

EDGESER_TEST(rfft, matches_naive_dft_for_speech_sizes) {
  for (int n : {200, 255, 256, 400, 401, 511, 512, 513, 1000, 1024, 1200, 2048, 3001, 4096}) {
    for (int length : {n, n - 7 > 0 ? n - 7 : 1, n / 2 + 1}) {
      const double err = WorstRfftError(n, length, SpectrumOutput::kComplex, kLanes, n + length);
      CHECK_MSG(err <= 1e-13, "n=", n, " length=", length, " relative error ", err);
    }
  }
}

EDGESER_TEST(rfft, power_and_magnitude_outputs) {
  for (int n : {2, 8, 64, 400, 512, 1200}) {
    CHECK_MSG(WorstRfftError(n, n, SpectrumOutput::kPower, kLanes, 7) <= 1e-13, "n=", n);
    CHECK_MSG(WorstRfftError(n, n - 1, SpectrumOutput::kMagnitude, kLanes, 8) <= 1e-13, "n=", n);
  }
}

EDGESER_TEST(rfft, partial_blocks_ignore_idle_lanes) {
  for (int lanes = 1; lanes <= kLanes; ++lanes) {
    for (int n : {16, 400, 512}) {
      const double err = WorstRfftError(n, n, SpectrumOutput::kPower, lanes, lanes);
      CHECK_MSG(err <= 1e-13, "n=", n, " lanes=", lanes, " error ", err);
    }
  }
}

EDGESER_TEST(rfft, fewer_bins_are_a_prefix) {
  const int n = 512, length = 400;
  const RealFft fft(n);
  AlignedBuffer samples(static_cast<std::size_t>(length) * kLanes);
  Rng rng(3);
  for (std::size_t i = 0; i < samples.size(); ++i) samples.data()[i] = rng.Normal();
  AlignedBuffer work(fft.workspace_size()), all(fft.num_bins() * kLanes), some(100 * kLanes);
  fft.Forward(samples.data(), length, SpectrumOutput::kPower, fft.num_bins(), all.data(),
              work.data());
  fft.Forward(samples.data(), length, SpectrumOutput::kPower, 100, some.data(), work.data());
  for (int i = 0; i < 100 * kLanes; ++i)
    CHECK_NEAR(some.data()[i], all.data()[i], 1e-12 * (1 + all.data()[i]));
}

EDGESER_TEST(rfft, structured_inputs) {
  const int n = 512;
  const RealFft fft(n);
  AlignedBuffer samples(static_cast<std::size_t>(n) * kLanes), work(fft.workspace_size());
  AlignedBuffer out(static_cast<std::size_t>(fft.num_bins()) * kComplexStride);
  for (int l = 0; l < kLanes; ++l) samples.data()[3 * kLanes + l] = 1.0;  // impulse at 3
  fft.Forward(samples.data(), n, SpectrumOutput::kComplex, fft.num_bins(), out.data(), work.data());
  const double kPi = 3.14159265358979323846;
  for (int k = 0; k < fft.num_bins(); ++k) {
    CHECK_NEAR(out.data()[k * kComplexStride], std::cos(2 * kPi * 3 * k / n), 1e-14);
    CHECK_NEAR(out.data()[k * kComplexStride + kLanes], -std::sin(2 * kPi * 3 * k / n), 1e-14);
  }
}

EDGESER_TEST(rfft, complex_fft_matches_dft) {
  for (int m : {1, 2, 4, 8, 16, 32, 64, 128, 256, 1024}) {
    const edgeser::ComplexFft fft(m);
    Rng rng(m);
    std::vector<std::complex<double>> x(m);
    for (auto& v : x) v = {rng.Normal(), rng.Normal()};
    AlignedBuffer d(static_cast<std::size_t>(m) * kComplexStride);
    for (int j = 0; j < m; ++j) {
      for (int l = 0; l < kLanes; ++l) {
        d.data()[fft.bit_reverse()[j] * kComplexStride + l] = x[j].real();
        d.data()[fft.bit_reverse()[j] * kComplexStride + kLanes + l] = x[j].imag();
      }
    }
    fft.Forward(d.data());
    for (int k = 0; k < m; ++k) {
      std::complex<double> want = 0;
      for (int j = 0; j < m; ++j)
        want += x[j] * std::polar(1.0, -2 * 3.14159265358979323846 *
                                           ((static_cast<long long>(j) * k) % m) / m);
      for (int l = 0; l < kLanes; ++l) {
        const std::complex<double> got(d.data()[k * kComplexStride + l],
                                       d.data()[k * kComplexStride + kLanes + l]);
        CHECK_MSG(std::abs(got - want) <= 1e-12 * (1 + std::sqrt(m)), "m=", m, " k=", k);
      }
    }
  }
}

EDGESER_TEST(rfft, rejects_bad_sizes_and_arguments) {
  CHECK_THROWS(RealFft(0), std::invalid_argument, "positive");
  CHECK_THROWS(RealFft(-4), std::invalid_argument, "positive");
  CHECK_THROWS(edgeser::ComplexFft(12), std::invalid_argument, "power of two");
  const RealFft fft(16);
  AlignedBuffer x(32 * kLanes), w(fft.workspace_size()), out(9 * kComplexStride);
  CHECK_THROWS(fft.Forward(x.data(), 17, SpectrumOutput::kPower, 9, out.data(), w.data()),
               std::invalid_argument, "longer");
  CHECK_THROWS(fft.Forward(x.data(), 16, SpectrumOutput::kPower, 10, out.data(), w.data()),
               std::invalid_argument, "bins");
  CHECK_THROWS(fft.Forward(x.data(), 16, SpectrumOutput::kPower, 9, out.data(), w.data(), 0),
               std::invalid_argument, "lanes");
}

}  // namespace
