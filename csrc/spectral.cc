// SKELETON (to be replaced by the implementation): compiles, computes nothing.
#include "spectral.h"

#include <stdexcept>

namespace edgeser {
SpectralAnalyzer::SpectralAnalyzer(const DescriptorOptions& opts)
    : opts_(opts), length_(opts.spectral_length()), fft_(opts.fft_size()) {}
SpectralAnalyzer::Workspace SpectralAnalyzer::MakeWorkspace() const { return Workspace(); }
void SpectralAnalyzer::Reset(Workspace& ws) { ws.has_previous_ = false; }
void SpectralAnalyzer::Analyze(const float* const*, int, SpectralFrame*, Workspace&) const {
  throw std::logic_error("SpectralAnalyzer::Analyze is not implemented yet");
}
}  // namespace edgeser
