// Shared helpers of the C++ tests: deterministic signals, a naive DFT and a naive reference of
// the whole front end (straight from the formulas, in double), and the tolerances the Python
// fuzz test uses (tests/frontend/test_cpp_backend.py) to compare features with it.
#ifndef EDGESER_CSRC_TESTS_TEST_UTIL_H_
#define EDGESER_CSRC_TESTS_TEST_UTIL_H_

#include <complex>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "feature_computer.h"
#include "frontend_options.h"

namespace edgeser_test {

// A seeded generator; std::uniform_real_distribution keeps the draws the same on every run of
// one build (and close enough across standard libraries for what the tests need).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : gen_(seed) {}
  double Uniform(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(gen_);
  }
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen_); }  // [lo, hi]
  bool Bool() { return Int(0, 1) == 1; }
  double Normal() { return std::normal_distribution<double>(0.0, 1.0)(gen_); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Int(0, static_cast<int>(v.size()) - 1)];
  }

 private:
  std::mt19937_64 gen_;
};

std::vector<float> Noise(int n, std::uint64_t seed, double scale = 0.3);
// One of several signal shapes (noise, sines, chirp, impulses, DC, silence, int16-scale,
// extreme float values, subnormals), chosen by `shape` (any int; taken modulo the count).
std::vector<float> Signal(int shape, int n, std::uint64_t seed);
int NumSignalShapes();

// numpy.fft.rfft(x[:length] zero-padded to n): n / 2 + 1 bins, by the O(n^2) definition.
std::vector<std::complex<double>> NaiveRfft(const double* x, int length, int n);

// The static features of the first `max_frames` frames of x by the formulas: framing, DC
// removal, pre-emphasis, window, naive DFT, |X|^power, dense mel matrix, floored log, lifted
// DCT. [frames][dim] in double.
struct Reference {
  int frames = 0;
  std::vector<double> spectrogram, log_mel, mfcc;
};
Reference ReferenceFeatures(const edgeser::FrontendOptions& opts, const float* x, long long n,
                            int max_frames);

// Features of every kind from the library, computed one frame at a time would hide batching
// bugs, so this runs FeatureComputer::Compute on the whole signal.
std::vector<float> Compute(const edgeser::FrontendOptions& opts, edgeser::FeatureKind kind,
                           const std::vector<float>& x);

// Empty when the library's static features (first ref.frames rows of each kind, computed with
// deltas and CMVN off) agree with the reference within the fuzz tolerances; else what differs.
std::string CompareWithReference(const edgeser::FrontendOptions& opts, const Reference& ref,
                                 const std::vector<float>& spectrogram,
                                 const std::vector<float>& log_mel, const std::vector<float>& mfcc);

// Equal sizes and equal bits (NaN == NaN of the same payload, -0 != +0).
bool SameBits(const std::vector<float>& a, const std::vector<float>& b);

// Largest |a - b| / (rtol |b| + atol) over two equal-length arrays (<= 1 means within).
double WorstRatio(const std::vector<float>& a, const std::vector<float>& b, double rtol,
                  double atol);

std::string Describe(const edgeser::FrontendOptions& o);

}  // namespace edgeser_test

#endif  // EDGESER_CSRC_TESTS_TEST_UTIL_H_
