// SKELETON (to be replaced by the implementation): compiles, computes nothing.
#include "pitch.h"

#include <stdexcept>

namespace edgeser {
PitchAnalyzer::PitchAnalyzer(const DescriptorOptions& opts)
    : opts_(opts),
      length_(opts.pitch_length()),
      tau_min_(opts.tau_min()),
      tau_max_(opts.tau_max()) {}
PitchAnalyzer::Workspace PitchAnalyzer::MakeWorkspace() const { return Workspace(); }
void PitchAnalyzer::Analyze(const float* const*, int, PitchFrame*, Workspace&) const {
  throw std::logic_error("PitchAnalyzer::Analyze is not implemented yet");
}
double SmoothF0(const double*) { throw std::logic_error("SmoothF0 is not implemented yet"); }
}  // namespace edgeser
