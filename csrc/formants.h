// Formants F1-F3 and their bandwidths per spectral window, from LPC (autocorrelation method,
// Levinson-Durbin) and the roots of the prediction polynomial. Definitions:
// docs/voice-descriptors.md. Immutable after construction: one analyzer serves many threads,
// each with its own Workspace; frames are independent of each other.
#ifndef EDGESER_CSRC_FORMANTS_H_
#define EDGESER_CSRC_FORMANTS_H_

#include <vector>

#include "descriptor_options.h"

namespace edgeser {

struct FormantFrame {
  double freq_hz[3] = {0.0, 0.0, 0.0};
  double bw_hz[3] = {0.0, 0.0, 0.0};
};

class FormantAnalyzer {
 public:
  class Workspace {
   public:
    Workspace() = default;

   private:
    friend class FormantAnalyzer;
    std::vector<double> scratch_;
  };

  explicit FormantAnalyzer(const DescriptorOptions& opts);
  const DescriptorOptions& options() const { return opts_; }
  Workspace MakeWorkspace() const;

  // count windows of opts.spectral_length() samples at windows[f] (any count). No allocation
  // with a Workspace from MakeWorkspace().
  void Analyze(const float* const* windows, int count, FormantFrame* out, Workspace& ws) const;

 private:
  DescriptorOptions opts_;
  int length_;
  std::vector<double> window_;  // symmetric Hamming
  // A conservative prefilter of the candidate roots (see the constructor).
  double min_modulus_ = 0.0, max_cosine_ = 1.0, min_cosine_ = -1.0;
};

}  // namespace edgeser

#endif  // EDGESER_CSRC_FORMANTS_H_
