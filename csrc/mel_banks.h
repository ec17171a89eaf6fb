// Triangular mel filter bank, stored sparsely: each filter keeps only the bins it covers.
//
// Built in double from the formulas of edgeser/frontend/filters.py (htk or slaney mel scale,
// triangles linear in Hz or in mel, slaney area normalisation, VTLP frequency warp).
#ifndef EDGESER_CSRC_MEL_BANKS_H_
#define EDGESER_CSRC_MEL_BANKS_H_

#include <vector>

#include "frontend_options.h"

namespace edgeser {

double HzToMel(double hz, MelScale scale);
double MelToHz(double mel, MelScale scale);
// Piecewise-linear VTLP warp of a frequency; the identity when alpha == 1.
double VtlpWarp(double hz, const FrontendOptions& opts);
// numpy.linspace(start, stop, num) element i, bit for bit.
double Linspace(double start, double stop, int num, int i);

class MelBanks {
 public:
  explicit MelBanks(const FrontendOptions& opts);

  int num_banks() const { return static_cast<int>(first_bin_.size()); }
  int num_bins() const { return num_bins_; }
  // Filter m covers bins [first_bin(m), first_bin(m) + num_weights(m)).
  int first_bin(int m) const { return first_bin_[m]; }
  int num_weights(int m) const { return offset_[m + 1] - offset_[m]; }
  const double* weights(int m) const { return weights_.data() + offset_[m]; }
  // One past the highest bin any filter reads (0 when every filter is empty).
  int bins_used() const { return bins_used_; }

  // The dense [num_banks][num_bins] matrix, for tests against filters.mel_filterbank.
  std::vector<double> Dense() const;

 private:
  int num_bins_ = 0;
  int bins_used_ = 0;
  std::vector<int> first_bin_;
  std::vector<int> offset_;  // num_banks + 1 entries into weights_
  std::vector<double> weights_;
};

}  // namespace edgeser

#endif  // EDGESER_CSRC_MEL_BANKS_H_
