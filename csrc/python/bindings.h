// Shared declarations of the edgeser._frontend binding files (one per core concept).
#ifndef EDGESER_CSRC_PYTHON_BINDINGS_H_
#define EDGESER_CSRC_PYTHON_BINDINGS_H_

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "frontend_options.h"

namespace edgeser {
namespace py = pybind11;

// Audio as the front end takes it: float32, C-contiguous. Bound with .noconvert() so a call
// never copies the caller's samples (other dtypes raise TypeError instead of converting).
using FloatSignal = py::array_t<float, py::array::c_style>;

struct SignalView {
  const float* data;
  long long size;
};

// The samples of a 1-D FloatSignal; ValueError naming `what` for any other shape.
SignalView ViewSignal(const FloatSignal& x, const char* what = "x");

// Parses a feature kind name ("spectrogram", "log_mel", "mfcc").
FeatureKind KindArg(const std::string& kind);

void BindFrontendOptions(py::module_& m);
void BindWindow(py::module_& m);
void BindMelBanks(py::module_& m);
void BindDct(py::module_& m);
void BindRfft(py::module_& m);
void BindDeltas(py::module_& m);
void BindFeatureComputer(py::module_& m);
void BindFrameStream(py::module_& m);
void BindDescriptorOptions(py::module_& m);
void BindPitch(py::module_& m);
void BindSpectral(py::module_& m);
void BindFormants(py::module_& m);
void BindDescriptorComputer(py::module_& m);

// The rows of a 2-D float32 array [n, width]; ValueError naming `what` for any other shape.
std::vector<const float*> ViewRows(const FloatSignal& rows, int width, const char* what);

}  // namespace edgeser

#endif  // EDGESER_CSRC_PYTHON_BINDINGS_H_
