// Regression deltas and CMVN against their formulas.
#include <cmath>
#include <vector>

#include "deltas.h"
#include "test_runner.h"
#include "test_util.h"

namespace {

// Reference delta of one column over time with edge frames replicated.
std::vector<double> NaiveDelta(const std::vector<double>& x, int window) {
  const int t = static_cast<int>(x.size());
  double denom = 0.0;
  for (int n = 1; n <= window; ++n) denom += 2.0 * n * n;
  std::vector<double> out(t);
  for (int i = 0; i < t; ++i) {
    double acc = 0.0;
    for (int n = 1; n <= window; ++n)
      acc += n * (x[std::min(i + n, t - 1)] - x[std::max(i - n, 0)]);
    out[i] = acc / denom;
  }
  return out;
}

EDGESER_TEST(deltas, match_the_formula_for_both_orders) {
  edgeser_test::Rng rng(5);
  for (int frames : {0, 1, 2, 5, 40}) {
    for (int window : {1, 2, 3}) {
      const int dim = 3;
      std::vector<double> feats(static_cast<std::size_t>(frames) * dim * 3);
      std::vector<std::vector<double>> cols(dim, std::vector<double>(frames));
      for (int t = 0; t < frames; ++t) {
        for (int d = 0; d < dim; ++d) cols[d][t] = feats[t * dim * 3 + d] = rng.Normal();
      }
      edgeser::AddDeltas(feats.data(), frames, dim, 2, window);
      for (int d = 0; d < dim; ++d) {
        const std::vector<double> d1 = NaiveDelta(cols[d], window), d2 = NaiveDelta(d1, window);
        for (int t = 0; t < frames; ++t) {
          CHECK_NEAR(feats[t * dim * 3 + dim + d], d1[t], 1e-12);
          CHECK_NEAR(feats[t * dim * 3 + 2 * dim + d], d2[t], 1e-12);
        }
      }
    }
  }
}

EDGESER_TEST(deltas, a_ramp_has_a_constant_interior_slope) {
  const int frames = 20, window = 2;
  std::vector<double> feats(frames * 2);
  for (int t = 0; t < frames; ++t) feats[t * 2] = 3.0 * t;
  edgeser::AddDeltas(feats.data(), frames, 1, 1, window);
  for (int t = window; t < frames - window; ++t) CHECK_NEAR(feats[t * 2 + 1], 3.0, 1e-12);
  CHECK(feats[1] < 3.0);  // edges see replicated frames
}

EDGESER_TEST(cmvn, mean_and_variance) {
  edgeser_test::Rng rng(9);
  const int frames = 50, dim = 4;
  std::vector<double> base(frames * dim);
  for (double& v : base) v = 5.0 + 2.0 * rng.Normal();
  std::vector<double> mean_only = base, meanvar = base, none = base;
  edgeser::ApplyCmvn(mean_only.data(), frames, dim, edgeser::CmvnMode::kMean);
  edgeser::ApplyCmvn(meanvar.data(), frames, dim, edgeser::CmvnMode::kMeanVar);
  edgeser::ApplyCmvn(none.data(), frames, dim, edgeser::CmvnMode::kNone);
  CHECK(none == base);
  for (int d = 0; d < dim; ++d) {
    double m1 = 0, m2 = 0, v2 = 0;
    for (int t = 0; t < frames; ++t) {
      m1 += mean_only[t * dim + d];
      m2 += meanvar[t * dim + d];
      v2 += meanvar[t * dim + d] * meanvar[t * dim + d];
    }
    CHECK_NEAR(m1 / frames, 0.0, 1e-12);
    CHECK_NEAR(m2 / frames, 0.0, 1e-12);
    CHECK_NEAR(v2 / frames, 1.0, 1e-12);
  }
  // A constant column divides by the 1e-8 floor instead of zero.
  std::vector<double> constant(10, 7.0);
  edgeser::ApplyCmvn(constant.data(), 10, 1, edgeser::CmvnMode::kMeanVar);
  for (double v : constant) CHECK(v == 0.0);
  edgeser::ApplyCmvn(nullptr, 0, 3, edgeser::CmvnMode::kMeanVar);  // no frames: nothing to do
}

}  // namespace
