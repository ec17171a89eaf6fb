// GemapsV1: the functionals of hand-made descriptor tables, edge cases and argument checks.
// (Parity with the NumPy reference on real and random tables: tests/frontend/test_functionals.py.)
#include <cmath>
#include <stdexcept>
#include <vector>

#include "descriptor_options.h"
#include "functionals.h"
#include "test_runner.h"

namespace {

using edgeser::FunctionalsInput;
using edgeser::kGemapsV1Dim;
using edgeser::kNumDescriptors;

// Output positions (the order of FEATURE_SETS["edgeser-gemaps-v1"] in Python).
constexpr int kF0Mean = 0, kF0Std = 1, kF0P50 = 3;
constexpr int kLoudP50 = 12, kLoudRange = 14;
constexpr int kHnrMean = 25;
constexpr int kMfcc1Mean = 61, kMfcc1Std = 62;
constexpr int kVoicedFraction = 69, kSegmentsPerS = 70, kVoicedSegMean = 71;
constexpr int kUnvoicedSegMean = 73, kPeaksPerS = 75;

struct Table {
  std::vector<float> lld, mfcc;
  long long frames;
  FunctionalsInput Input() const {
    FunctionalsInput in;
    in.lld = lld.data();
    in.frames = frames;
    in.mfcc = mfcc.data();
    in.mfcc_frames = static_cast<long long>(mfcc.size() / 13);
    in.mfcc_dim = 13;
    in.frame_step_s = 0.01;
    return in;
  }
  float& At(long long t, int col) { return lld[t * kNumDescriptors + col]; }
};

// 10 voiced frames at 110 Hz, then 10 unvoiced; loudness 1 then 3; HNR 10 dB where voiced;
// MFCC 1 alternating 1 and 3.
Table KnownTable() {
  Table t{std::vector<float>(20 * kNumDescriptors, 0.0f), std::vector<float>(20 * 13, 0.0f), 20};
  for (int i = 0; i < 20; ++i) {
    t.At(i, edgeser::kEnergyDb) = -20.0f;
    t.At(i, edgeser::kLoudness) = i < 10 ? 1.0f : 3.0f;
    if (i < 10) {
      t.At(i, edgeser::kF0Hz) = 110.0f;
      t.At(i, edgeser::kHnrDb) = 10.0f;
    }
    t.mfcc[i * 13 + 1] = i % 2 ? 3.0f : 1.0f;
  }
  return t;
}

std::vector<float> Run(const FunctionalsInput& in) {
  std::vector<float> out(kGemapsV1Dim, -1.0f);
  edgeser::GemapsV1(in, out.data());
  return out;
}

EDGESER_TEST(functionals, known_table) {
  const Table t = KnownTable();
  const std::vector<float> v = Run(t.Input());
  CHECK_NEAR(v[kF0Mean], 24.0, 1e-4);  // 110 Hz is two octaves above 27.5 Hz
  CHECK_NEAR(v[kF0Std], 0.0, 1e-6);
  CHECK_NEAR(v[kF0P50], 24.0, 1e-4);
  CHECK_NEAR(v[kVoicedFraction], 0.5, 1e-7);
  CHECK_NEAR(v[kSegmentsPerS], 5.0, 1e-5);  // one run in 0.2 s
  CHECK_NEAR(v[kVoicedSegMean], 0.1, 1e-7);
  CHECK_NEAR(v[kUnvoicedSegMean], 0.1, 1e-7);
  CHECK_NEAR(v[kHnrMean], 10.0, 1e-6);
  CHECK_NEAR(v[kLoudP50], 1.0, 1e-6);  // mean loudness 2: 0.5 and 1.5
  CHECK_NEAR(v[kLoudRange], 1.0, 1e-6);
  CHECK_NEAR(v[kMfcc1Mean], 2.0, 1e-6);
  CHECK_NEAR(v[kMfcc1Std], 1.0, 1e-6);
  // The smoothed relative loudness (0.5 ... 0.83, 1.17, 1.5 ... 1.5, 1.0 at the zero-padded
  // end) peaks once, at the first frame of its 1.5 plateau (>= on the right): 1 in 0.2 s.
  CHECK_NEAR(v[kPeaksPerS], 5.0, 1e-5);
}

EDGESER_TEST(functionals, empty_and_silent_tables_are_zero) {
  FunctionalsInput in;
  in.mfcc_dim = 13;
  in.frame_step_s = 0.01;
  for (float x : Run(in)) CHECK(x == 0.0f);  // no frames at all
  Table t = KnownTable();
  for (int i = 0; i < 20; ++i) t.At(i, edgeser::kLoudness) = 0.0f;
  const std::vector<float> v = Run(t.Input());
  CHECK(v[kLoudP50] == 0.0f && v[kLoudRange] == 0.0f && v[kPeaksPerS] == 0.0f);
}

EDGESER_TEST(functionals, non_finite_input_gives_finite_output) {
  Table t = KnownTable();
  t.At(3, edgeser::kHnrDb) = std::nanf("");
  t.At(5, edgeser::kLoudness) = INFINITY;
  for (float x : Run(t.Input())) CHECK(std::isfinite(x));
  t.At(0, edgeser::kEnergyDb) = std::nanf("");  // NumPy's max is NaN: no frame is active
  const std::vector<float> v = Run(t.Input());
  CHECK(v[kVoicedFraction] == 10.0f);  // voiced frames over max(active, 1)
}

EDGESER_TEST(functionals, bad_arguments_throw) {
  Table t = KnownTable();
  FunctionalsInput in = t.Input();
  std::vector<float> out(kGemapsV1Dim);
  in.mfcc_dim = 4;
  CHECK_THROWS(edgeser::GemapsV1(in, out.data()), std::invalid_argument, "mfcc_dim");
  in = t.Input();
  in.frame_step_s = 0.0;
  CHECK_THROWS(edgeser::GemapsV1(in, out.data()), std::invalid_argument, "frame_step_s");
  in = t.Input();
  in.lld = nullptr;
  CHECK_THROWS(edgeser::GemapsV1(in, out.data()), std::invalid_argument, "descriptor rows");
  in = t.Input();
  in.frames = -1;
  CHECK_THROWS(edgeser::GemapsV1(in, out.data()), std::invalid_argument, "negative");
}

}  // namespace
