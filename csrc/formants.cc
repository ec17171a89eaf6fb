// SKELETON (to be replaced by the implementation): compiles, computes nothing.
#include "formants.h"

#include <stdexcept>

namespace edgeser {
FormantAnalyzer::FormantAnalyzer(const DescriptorOptions& opts)
    : opts_(opts), length_(opts.spectral_length()) {}
FormantAnalyzer::Workspace FormantAnalyzer::MakeWorkspace() const { return Workspace(); }
void FormantAnalyzer::Analyze(const float* const*, int, FormantFrame*, Workspace&) const {
  throw std::logic_error("FormantAnalyzer::Analyze is not implemented yet");
}
}  // namespace edgeser
