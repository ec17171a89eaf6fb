// Orthonormal DCT-II (rows 0..n_mfcc-1 over n_mels inputs) and the cepstral lifter. Each
// function validates its options first (std::invalid_argument naming the field).
#ifndef EDGESER_CSRC_DCT_H_
#define EDGESER_CSRC_DCT_H_

#include <vector>

#include "frontend_options.h"

namespace edgeser {

// [n_mfcc][n_mels], as edgeser/frontend/filters.py:dct_matrix.
std::vector<double> DctMatrix(const FrontendOptions& opts);
// n_mfcc lifter weights 1 + L/2 sin(pi k / L); ones when lifter == 0.
std::vector<double> LifterCoeffs(const FrontendOptions& opts);
// The DCT with each row k scaled by lifter k: MFCC = LiftedDct @ log_mel.
std::vector<double> LiftedDctMatrix(const FrontendOptions& opts);

}  // namespace edgeser

#endif  // EDGESER_CSRC_DCT_H_
