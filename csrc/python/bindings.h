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
void BindFunctionals(py::module_& m);
void BindLargeFunctionals(py::module_& m);

// compute_batch of a computer with NumFrames(n) and ComputeBatch(...): one float32 [frames, dim]
// array per signal, computed on up to num_threads threads without the GIL.
template <typename Computer>
py::list ComputeBatchPy(const Computer& c, long long dim, const py::sequence& signals,
                        int num_threads) {
  if (num_threads < 1) throw py::value_error("num_threads must be >= 1");
  const std::size_t count = signals.size();
  std::vector<FloatSignal> inputs;
  std::vector<const float*> data;
  std::vector<long long> lengths;
  std::vector<float*> outs;
  py::list results;
  inputs.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    py::object item = signals[i];
    if (!py::isinstance<FloatSignal>(item))
      throw py::type_error("signal " + std::to_string(i) +
                           " must be a float32 C-contiguous numpy array");
    inputs.push_back(item.cast<FloatSignal>());
    const SignalView sig = ViewSignal(inputs.back(), "signal");
    py::array_t<float> out({c.NumFrames(sig.size), dim});
    data.push_back(sig.data);
    lengths.push_back(sig.size);
    outs.push_back(out.mutable_data());
    results.append(out);
  }
  {
    py::gil_scoped_release nogil;
    c.ComputeBatch(data.data(), lengths.data(), outs.data(), static_cast<int>(count), num_threads);
  }
  return results;
}

// The rows of a 2-D float32 array [n, width]; ValueError naming `what` for any other shape.
std::vector<const float*> ViewRows(const FloatSignal& rows, int width, const char* what);

}  // namespace edgeser

#endif  // EDGESER_CSRC_PYTHON_BINDINGS_H_
