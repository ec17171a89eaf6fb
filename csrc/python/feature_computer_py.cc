#include <memory>
#include <string>
#include <vector>

#include "bindings.h"
#include "feature_computer.h"

namespace edgeser {

void BindFeatureComputer(py::module_& m) {
  py::class_<FeatureComputer, std::shared_ptr<FeatureComputer>>(
      m, "FeatureComputer",
      "Features of one kind for one FrontendOptions. Immutable and thread-safe; build it once "
      "per config and reuse it.")
      .def(py::init([](const FrontendOptions& opts, const std::string& kind) {
             return std::make_shared<FeatureComputer>(opts, KindArg(kind));
           }),
           py::arg("options"), py::arg("kind"))
      .def_property_readonly("kind", [](const FeatureComputer& c) { return ToString(c.kind()); })
      .def_property_readonly("frame_length", &FeatureComputer::frame_length)
      .def_property_readonly("frame_shift", &FeatureComputer::frame_shift)
      .def_property_readonly("fft_size", &FeatureComputer::fft_size)
      .def_property_readonly("static_dim", &FeatureComputer::static_dim)
      .def_property_readonly("dim", &FeatureComputer::feature_dim)
      .def("num_frames", &FeatureComputer::NumFrames, py::arg("num_samples"))
      .def(
          "compute",
          [](const FeatureComputer& c, const FloatSignal& x) {
            const SignalView sig = ViewSignal(x);
            py::array_t<float> out(
                {c.NumFrames(sig.size), static_cast<long long>(c.feature_dim())});
            float* dst = out.mutable_data();
            {
              py::gil_scoped_release nogil;
              c.Compute(sig.data, sig.size, dst);
            }
            return out;
          },
          py::arg("x").noconvert(),
          "Features of one float32 1-D signal: float32 [frames, dim]. Reads x in place (no "
          "copy) and releases the GIL while computing.")
      .def(
          "compute_batch",
          [](const FeatureComputer& c, const py::sequence& signals, int num_threads) {
            return ComputeBatchPy(c, static_cast<long long>(c.feature_dim()), signals, num_threads);
          },
          py::arg("signals"), py::arg("num_threads") = 1,
          "compute() of every signal, spread over up to num_threads threads without the GIL.")
      .def(
          "_input_address",
          [](const FeatureComputer&, const FloatSignal& x) {
            return reinterpret_cast<std::uintptr_t>(ViewSignal(x).data);
          },
          py::arg("x").noconvert(),
          "Address of the samples compute() would read for x (equal to x.ctypes.data when no "
          "copy is made). For tests.");
}

}  // namespace edgeser
