// Temporal post-processing: regression deltas (edge frames replicated) and per-utterance CMVN.
//
// All in double, row-major [frames][dim]. DeltaFrame is the single formula used both offline
// (AddDeltas) and by FrameStream, so streaming reproduces offline output bit for bit.
#ifndef EDGESER_CSRC_DELTAS_H_
#define EDGESER_CSRC_DELTAS_H_

#include "frontend_options.h"

namespace edgeser {

// Delta of one frame t: sum_{n=1..window} n * (row(t+n) - row(t-n)) / (2 sum n^2), where
// neighbours[window + n] points at row(t + n) for n in [-window, window], already clamped to the
// utterance edges. Writes dim values to out.
void DeltaFrame(const double* const* neighbours, int dim, int window, double* out);

// feats: [frames][static_dim * (1 + deltas)] with the statics in the first static_dim columns of
// each row; fills the delta (and delta-delta) columns, each order the delta of the previous one.
void AddDeltas(double* feats, long long frames, int static_dim, int deltas, int window);

// Subtracts the per-column mean (kMean) and divides by max(population std, 1e-8) (kMeanVar).
void ApplyCmvn(double* feats, long long frames, int dim, CmvnMode mode);

}  // namespace edgeser

#endif  // EDGESER_CSRC_DELTAS_H_
