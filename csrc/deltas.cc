#include "deltas.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace edgeser {

void DeltaFrame(const double* const* neighbours, int dim, int window, double* out) {
  double denom = 0.0;
  for (int n = 1; n <= window; ++n) denom += static_cast<double>(n) * n;
  denom *= 2.0;
  for (int d = 0; d < dim; ++d) {
    double acc = 0.0;
    for (int n = 1; n <= window; ++n)
      acc += n * (neighbours[window + n][d] - neighbours[window - n][d]);
    out[d] = acc / denom;
  }
}

void AddDeltas(double* feats, long long frames, int static_dim, int deltas, int window) {
  if (frames <= 0 || deltas <= 0) return;
  const std::ptrdiff_t stride = static_cast<std::ptrdiff_t>(static_dim) * (1 + deltas);
  std::vector<const double*> neighbours(2 * window + 1);
  for (int order = 1; order <= deltas; ++order) {
    const std::ptrdiff_t src = static_cast<std::ptrdiff_t>(order - 1) * static_dim;
    for (long long t = 0; t < frames; ++t) {
      for (int n = -window; n <= window; ++n) {
        const long long u = std::min(std::max(t + n, 0LL), frames - 1);
        neighbours[window + n] = feats + u * stride + src;
      }
      DeltaFrame(neighbours.data(), static_dim, window, feats + t * stride + src + static_dim);
    }
  }
}

void ApplyCmvn(double* feats, long long frames, int dim, CmvnMode mode) {
  if (mode == CmvnMode::kNone || frames <= 0) return;
  std::vector<double> mean(dim, 0.0), var(dim, 0.0);
  for (long long t = 0; t < frames; ++t) {
    const double* row = feats + t * dim;
    for (int d = 0; d < dim; ++d) mean[d] += row[d];
  }
  for (int d = 0; d < dim; ++d) mean[d] /= static_cast<double>(frames);
  if (mode == CmvnMode::kMeanVar) {
    for (long long t = 0; t < frames; ++t) {
      const double* row = feats + t * dim;
      for (int d = 0; d < dim; ++d) {
        const double c = row[d] - mean[d];
        var[d] += c * c;
      }
    }
  }
  std::vector<double> scale(dim, 1.0);
  if (mode == CmvnMode::kMeanVar) {
    for (int d = 0; d < dim; ++d)
      scale[d] = std::max(std::sqrt(var[d] / static_cast<double>(frames)), 1e-8);
  }
  for (long long t = 0; t < frames; ++t) {
    double* row = feats + t * dim;
    for (int d = 0; d < dim; ++d) {
      row[d] -= mean[d];
      if (mode == CmvnMode::kMeanVar) row[d] /= scale[d];
    }
  }
}

}  // namespace edgeser
