// edgeser._frontend: the compiled audio front end. Use it through edgeser.frontend.
#include <string>

#include "bindings.h"
#include "simd.h"

namespace edgeser {

SignalView ViewSignal(const FloatSignal& x, const char* what) {
  if (x.ndim() != 1)
    throw py::value_error(std::string(what) + " must be a 1-D float32 array, got " +
                          std::to_string(x.ndim()) + " dimensions");
  return {x.data(), static_cast<long long>(x.shape(0))};
}

FeatureKind KindArg(const std::string& kind) { return ParseFeatureKind(kind); }

}  // namespace edgeser

PYBIND11_MODULE(_frontend, m) {
  m.doc() =
      "edgeser's C++ audio front end (spectrogram, log-mel, MFCC and voice descriptors; batch and "
      "streaming). "
      "Call it through edgeser.frontend; this module is its backend 'cpp'.";
  m.attr("LANES") = edgeser::kLanes;
  m.def(
      "simd_isa", [] { return std::string(edgeser::IsaName(edgeser::ActiveIsa())); },
      "Instruction set the hot loops run with: 'avx512', 'avx2', 'neon' or 'generic' "
      "(choose another with the environment variable EDGESER_SIMD before the first call).");
  edgeser::BindFrontendOptions(m);
  edgeser::BindWindow(m);
  edgeser::BindMelBanks(m);
  edgeser::BindDct(m);
  edgeser::BindRfft(m);
  edgeser::BindDeltas(m);
  edgeser::BindFeatureComputer(m);
  edgeser::BindFrameStream(m);
  edgeser::BindDescriptorOptions(m);
  edgeser::BindPitch(m);
  edgeser::BindSpectral(m);
  edgeser::BindFormants(m);
  edgeser::BindDescriptorComputer(m);
  edgeser::BindFunctionals(m);
  edgeser::BindLargeFunctionals(m);
}
