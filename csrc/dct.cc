#include "dct.h"

#include <cmath>

namespace edgeser {
namespace {
constexpr double kPi = 3.14159265358979323846;
}

std::vector<double> DctMatrix(const FrontendOptions& opts) {
  opts.Validate();
  const int m = opts.n_mels;
  std::vector<double> d(static_cast<std::size_t>(opts.n_mfcc) * m);
  const double scale = std::sqrt(2.0 / m);
  for (int k = 0; k < opts.n_mfcc; ++k) {
    for (int j = 0; j < m; ++j) {
      double v = std::cos(kPi * k * (j + 0.5) / m) * scale;
      if (k == 0) v *= std::sqrt(0.5);
      d[static_cast<std::size_t>(k) * m + j] = v;
    }
  }
  return d;
}

std::vector<double> LifterCoeffs(const FrontendOptions& opts) {
  opts.Validate();
  std::vector<double> c(opts.n_mfcc, 1.0);
  if (opts.lifter == 0) return c;
  for (int k = 0; k < opts.n_mfcc; ++k)
    c[k] = 1.0 + 0.5 * opts.lifter * std::sin(kPi * k / opts.lifter);
  return c;
}

std::vector<double> LiftedDctMatrix(const FrontendOptions& opts) {
  std::vector<double> d = DctMatrix(opts);
  const std::vector<double> lift = LifterCoeffs(opts);
  for (int k = 0; k < opts.n_mfcc; ++k) {
    for (int j = 0; j < opts.n_mels; ++j)
      d[static_cast<std::size_t>(k) * opts.n_mels + j] *= lift[k];
  }
  return d;
}

}  // namespace edgeser
