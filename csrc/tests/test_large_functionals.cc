// LargeFunctionals: the edgeser-large-v1 and -v2 functionals of hand-made tables, edge cases and
// argument checks.
// (Parity with the NumPy reference on real and random tables:
// tests/frontend/test_large_functionals.py.)
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "descriptor_options.h"
#include "large_functionals.h"
#include "test_runner.h"
#include "test_util.h"

namespace {

using edgeser::kLargeV1Dim;
using edgeser::kLargeV1Mels;
using edgeser::kNumDescriptors;
using edgeser::LargeFunctionalsInput;

constexpr double kStep = 0.01;
constexpr int kMfccDim = 13;

// Output positions (the order of FEATURE_SETS["edgeser-large-v1"] in Python): functional-major
// within each group of contours.
enum Functional {
  kMean,
  kStd,
  kSkew,
  kKurt,
  kP1,
  kP20,
  kP50,
  kP80,
  kP99,
  kR199,
  kR2080,
  kSlope,
  kRise,
  kFall
};
constexpr int kSpectralCols = 104, kLevelCols = 11, kVoiceCols = 11;
constexpr int kLevelAt = 14 * kSpectralCols, kVoiceAt = kLevelAt + 14 * kLevelCols;
constexpr int kVoicedFraction = kVoiceAt + 14 * kVoiceCols;
int Spectral(int col, Functional f) { return f * kSpectralCols + col; }
int Level(int col, Functional f) { return kLevelAt + f * kLevelCols + col; }
int Voice(int col, Functional f) { return kVoiceAt + f * kVoiceCols + col; }
constexpr int kMfcc1 = 0, kMfcc2 = 1, kMfcc1Delta = 12, kMel0 = 24, kMel1 = 25, kMel0Delta = 64;
constexpr int kLoudnessRel = 0, kEnergyRel = 1, kZcrCol = 10, kF0Semitone = 0;

struct Table {
  std::vector<float> lld, mfcc, log_mel;
  long long frames;
  long long offset;
  LargeFunctionalsInput Input() const {
    LargeFunctionalsInput in;
    in.lld = lld.data();
    in.frames = frames;
    in.mfcc = mfcc.data();
    in.mfcc_frames = static_cast<long long>(mfcc.size() / kMfccDim);
    in.mfcc_dim = kMfccDim;
    in.log_mel = log_mel.data();
    in.mel_frames = static_cast<long long>(log_mel.size() / kLargeV1Mels);
    in.offset = offset;
    in.frame_step_s = kStep;
    return in;
  }
  float& At(long long t, int col) { return lld[t * kNumDescriptors + col]; }
  float& Mfcc(long long t, int k) { return mfcc[(t + offset) * kMfccDim + k]; }
  float& Mel(long long t, int b) { return log_mel[(t + offset) * kLargeV1Mels + b]; }
};

// 30 frames, the last 5 silent (energy 80 dB below the others) and the first 20 voiced, F0
// rising a semitone per frame; MFCC 1 a ramp (the frame index), MFCC 2 constant; log-mel band 0
// 2 above the others on active frames; loudness 2 where active; ZCR alternating 0, 1. The
// spectral grid leads by one frame, whose values (1e6) must not count.
Table KnownTable() {
  constexpr long long n = 30, offset = 1;
  Table t{std::vector<float>(n * kNumDescriptors, 0.0f),
          std::vector<float>((n + offset) * kMfccDim, 1e6f),
          std::vector<float>((n + offset) * kLargeV1Mels, 1e6f), n, offset};
  for (int i = 0; i < n; ++i) {
    const bool active = i < 25;
    t.At(i, edgeser::kEnergyDb) = active ? -20.0f : -100.0f;
    t.At(i, edgeser::kLoudness) = active ? 2.0f : 100.0f;
    t.At(i, edgeser::kZcr) = static_cast<float>(i % 2);
    if (i < 20) t.At(i, edgeser::kF0Hz) = static_cast<float>(100.0 * std::exp2(i / 12.0));
    for (int k = 0; k < kMfccDim; ++k) t.Mfcc(i, k) = 0.0f;
    t.Mfcc(i, 1) = static_cast<float>(i);
    t.Mfcc(i, 2) = 0.1f;
    for (int b = 0; b < kLargeV1Mels; ++b) t.Mel(i, b) = active ? -5.0f : -50.0f;
    if (active) t.Mel(i, 0) = -3.0f;
  }
  return t;
}

std::vector<float> Run(const LargeFunctionalsInput& in) {
  std::vector<float> out(kLargeV1Dim, -1.0f);
  edgeser::LargeFunctionals(in, out.data());
  return out;
}

EDGESER_TEST(large_functionals, known_table) {
  const std::vector<float> v = Run(KnownTable().Input());
  // MFCC 1 over the 25 active frames: the ramp 0 ... 24.
  CHECK_NEAR(v[Spectral(kMfcc1, kMean)], 12.0, 1e-5);
  CHECK_NEAR(v[Spectral(kMfcc1, kStd)], std::sqrt(52.0), 1e-5);  // sqrt((25^2 - 1) / 12)
  CHECK_NEAR(v[Spectral(kMfcc1, kSkew)], 0.0, 1e-6);
  CHECK_NEAR(v[Spectral(kMfcc1, kP1)], 0.24, 1e-5);  // linear between the two lowest
  CHECK_NEAR(v[Spectral(kMfcc1, kP20)], 4.8, 1e-5);
  CHECK_NEAR(v[Spectral(kMfcc1, kP50)], 12.0, 1e-5);
  CHECK_NEAR(v[Spectral(kMfcc1, kP99)], 23.76, 1e-5);
  CHECK_NEAR(v[Spectral(kMfcc1, kR199)], 23.52, 1e-5);
  CHECK_NEAR(v[Spectral(kMfcc1, kR2080)], 14.4, 1e-5);
  CHECK_NEAR(v[Spectral(kMfcc1, kSlope)], 1.0 / kStep, 1e-3);  // one unit per frame
  CHECK_NEAR(v[Spectral(kMfcc1, kRise)], 1.0 / kStep, 1e-3);
  CHECK(v[Spectral(kMfcc1, kFall)] == 0.0f);
  // Deltas over all 30 aligned frames before masking: 0.5, 0.8 at the start, 1 elsewhere among
  // the active frames (masking first would shorten the ramp's end as well).
  CHECK_NEAR(v[Spectral(kMfcc1Delta, kMean)], (0.5 + 0.8 + 23.0) / 25.0, 1e-6);
  CHECK(v[Spectral(kMfcc2, kSkew)] == 0.0f && v[Spectral(kMfcc2, kKurt)] == 0.0f);
  CHECK_NEAR(v[Spectral(kMfcc2, kMean)], 0.1, 1e-7);
  // Log-mel relative to the mean level of the active frames: (-3 + 39 * -5) / 40 = -4.95.
  CHECK_NEAR(v[Spectral(kMel0, kMean)], 1.95, 1e-6);
  CHECK_NEAR(v[Spectral(kMel1, kMean)], -0.05, 1e-6);
  CHECK_NEAR(v[Level(kLoudnessRel, kMean)], 1.0, 1e-7);
  CHECK_NEAR(v[Level(kLoudnessRel, kStd)], 0.0, 1e-7);
  CHECK_NEAR(v[Level(kEnergyRel, kMean)], 0.0, 1e-7);
  CHECK_NEAR(v[Level(kZcrCol, kMean)], 12.0 / 25.0, 1e-7);  // 13 zeros, 12 ones
  CHECK_NEAR(v[Level(kZcrCol, kRise)], 1.0 / kStep, 1e-3);
  CHECK_NEAR(v[Level(kZcrCol, kFall)], 1.0 / kStep, 1e-3);
  // F0: one semitone per frame from 12 log2(100 / 27.5) over the 20 voiced frames.
  const double st0 = 12.0 * std::log2(100.0 / 27.5);
  CHECK_NEAR(v[Voice(kF0Semitone, kMean)], st0 + 9.5, 1e-4);
  CHECK_NEAR(v[Voice(kF0Semitone, kP50)], st0 + 9.5, 1e-4);
  CHECK_NEAR(v[Voice(kF0Semitone, kSlope)], 1.0 / kStep, 1e-2);
  CHECK_NEAR(v[Voice(kF0Semitone, kRise)], 1.0 / kStep, 1e-2);
  CHECK_NEAR(v[kVoicedFraction], 20.0 / 25.0, 1e-7);
}

// The percentiles come from a selection of the ranks they need, not a full sort: the same values
// as NumPy's sort (NaN last) on contours with ties, runs, constant values and non-finite values.
EDGESER_TEST(large_functionals, percentiles_are_those_of_a_full_sort) {
  edgeser_test::Rng rng(5);
  const int shapes = 9;
  for (long long n : {2, 3, 17, 40, 300, 1001}) {
    Table t{std::vector<float>(n * kNumDescriptors, 0.0f), std::vector<float>(n * kMfccDim, 0.0f),
            std::vector<float>(n * kLargeV1Mels, -5.0f), n, 0};
    for (long long i = 0; i < n; ++i) {
      t.At(i, edgeser::kEnergyDb) = -20.0f;  // every frame active
      const double u = rng.Normal();
      const float values[shapes] = {
          static_cast<float>(u),
          static_cast<float>(rng.Int(0, 2)),  // ties
          static_cast<float>(i),
          static_cast<float>(n - i),
          static_cast<float>(std::min(i, n - i)),  // up, then down
          1.5f,
          i == n / 2 ? std::nanf("") : static_cast<float>(u),  // NumPy sorts NaN last
          i % 7 == 3 ? INFINITY : (i % 11 == 5 ? -INFINITY : static_cast<float>(u)),
          static_cast<float>(std::round(u * 2.0)),
      };
      for (int k = 0; k < shapes; ++k) t.Mfcc(i, k + 1) = values[k];
    }
    const std::vector<float> v = Run(t.Input());
    const Functional at[5] = {kP1, kP20, kP50, kP80, kP99};
    const double qs[5] = {1, 20, 50, 80, 99};
    for (int k = 0; k < shapes; ++k) {
      std::vector<double> sorted(n);
      for (long long i = 0; i < n; ++i) sorted[i] = t.Mfcc(i, k + 1);
      std::sort(sorted.begin(), sorted.end(),
                [](double a, double b) { return a < b || (!std::isnan(a) && std::isnan(b)); });
      for (int q = 0; q < 5; ++q) {
        const double pos = qs[q] / 100.0 * static_cast<double>(n - 1);
        const long long lo = static_cast<long long>(std::floor(pos)), hi = std::min(lo + 1, n - 1);
        const double want = sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - std::floor(pos));
        const float got = v[Spectral(k, at[q])];
        CHECK_MSG(got == (std::isfinite(want) ? static_cast<float>(want) : 0.0f), n, " frames, ",
                  "contour ", k, ", p", qs[q], ": ", got, " vs ", want);
      }
    }
  }
}

EDGESER_TEST(large_functionals, empty_and_short_tables) {
  LargeFunctionalsInput in;
  in.mfcc_dim = kMfccDim;
  in.frame_step_s = kStep;
  for (float x : Run(in)) CHECK(x == 0.0f);  // no frames at all
  Table t = KnownTable();
  in = t.Input();
  in.offset = 40;  // past the spectral tables: no aligned frame
  for (float x : Run(in)) CHECK(x == 0.0f);
  in = t.Input();
  in.frames = 1;  // one active voiced frame: every group has fewer than 2 rows
  const std::vector<float> v = Run(in);
  for (int i = 0; i < kVoicedFraction; ++i) CHECK_MSG(v[i] == 0.0f, "value ", i);
  CHECK(v[kVoicedFraction] == 1.0f);
  in = t.Input();
  in.mfcc_frames = 5;  // the shortest table sets the aligned frames: 4, all active and voiced
  CHECK_NEAR(Run(in)[Spectral(kMfcc1, kMean)], 1.5, 1e-7);
}

EDGESER_TEST(large_functionals, v2_takes_the_deltas_inside_active_runs) {
  const Table t = KnownTable();
  LargeFunctionalsInput in = t.Input();
  const std::vector<float> v1 = Run(in);
  in.version = 2;
  const std::vector<float> v2 = Run(in);
  // The 25 active frames are one run: its edges repeated at both ends, 0.5 0.8 1 ... 1 0.8 0.5.
  CHECK_NEAR(v2[Spectral(kMfcc1Delta, kMean)], (0.5 + 0.8 + 21.0 + 0.8 + 0.5) / 25.0, 1e-6);
  // Band 0 is constant inside the run: no delta; v1 sees the silent frames' -50 after it.
  CHECK(v2[Spectral(kMel0Delta, kMean)] == 0.0f && v2[Spectral(kMel0Delta, kStd)] == 0.0f);
  CHECK_NEAR(v1[Spectral(kMel0Delta, kMean)], (-9.4 - 14.1) / 25.0, 1e-5);  // frames 23, 24
  // Everything but the 52 delta contours is the same.
  for (int f = 0; f < 14; ++f)
    for (int col = 0; col < kSpectralCols; ++col) {
      const bool delta = (col >= 12 && col < 24) || col >= 64;
      if (!delta)
        CHECK(v1[Spectral(col, static_cast<Functional>(f))] ==
              v2[Spectral(col, static_cast<Functional>(f))]);
    }
  for (int i = kLevelAt; i < kLargeV1Dim; ++i) CHECK(v1[i] == v2[i]);
}

EDGESER_TEST(large_functionals, non_finite_input_gives_finite_output) {
  Table t = KnownTable();
  t.At(3, edgeser::kHnrDb) = std::nanf("");
  t.At(5, edgeser::kLoudness) = INFINITY;
  t.Mel(7, 3) = -INFINITY;
  t.Mfcc(2, 4) = std::nanf("");
  for (float x : Run(t.Input())) CHECK(std::isfinite(x));
  t.At(0, edgeser::kEnergyDb) = std::nanf("");  // NumPy's max is NaN: no frame is active
  const std::vector<float> v = Run(t.Input());
  for (float x : v) CHECK(std::isfinite(x));
  CHECK(v[kVoicedFraction] == 20.0f);  // voiced frames over max(active, 1)
}

EDGESER_TEST(large_functionals, bad_arguments_throw) {
  const Table t = KnownTable();
  std::vector<float> out(kLargeV1Dim);
  auto check = [&](LargeFunctionalsInput in, const char* what) {
    CHECK_THROWS(edgeser::LargeFunctionals(in, out.data()), std::invalid_argument, what);
  };
  LargeFunctionalsInput in = t.Input();
  in.mfcc_dim = 12;
  check(in, "mfcc_dim");
  for (int version : {0, 3}) {
    in = t.Input();
    in.version = version;
    check(in, "version");
  }
  for (double step : {0.0, -0.01, static_cast<double>(NAN), static_cast<double>(INFINITY)}) {
    in = t.Input();
    in.frame_step_s = step;
    check(in, "frame_step_s");
  }
  in = t.Input();
  in.lld = nullptr;
  check(in, "descriptor rows");
  in = t.Input();
  in.mfcc = nullptr;
  check(in, "MFCC rows");
  in = t.Input();
  in.log_mel = nullptr;
  check(in, "log-mel rows");
  in = t.Input();
  in.offset = -1;
  check(in, "offset");
  in = t.Input();
  in.mel_frames = -1;
  check(in, "negative");
}

}  // namespace
