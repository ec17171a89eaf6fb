#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bindings.h"
#include "descriptor_computer.h"
#include "py_stream.h"

namespace edgeser {
using PyDescriptorStream = PyStream<DescriptorStream, DescriptorComputer>;

void BindDescriptorComputer(py::module_& m) {
  py::class_<DescriptorComputer, std::shared_ptr<DescriptorComputer>>(
      m, "DescriptorComputer",
      "Voice descriptors for one DescriptorOptions. Immutable and thread-safe; build it once per "
      "config and reuse it.")
      .def(py::init([](const DescriptorOptions& opts) {
             return std::make_shared<DescriptorComputer>(opts);
           }),
           py::arg("options"))
      .def_property_readonly("dim", &DescriptorComputer::dim)
      .def_property_readonly("frame_shift", &DescriptorComputer::frame_shift)
      .def_property_readonly("analysis_length", &DescriptorComputer::analysis_length)
      .def("num_frames", &DescriptorComputer::NumFrames, py::arg("num_samples"))
      .def(
          "compute",
          [](const DescriptorComputer& c, const FloatSignal& x) {
            const SignalView sig = ViewSignal(x);
            py::array_t<float> out({c.NumFrames(sig.size), static_cast<long long>(c.dim())});
            float* dst = out.mutable_data();
            {
              py::gil_scoped_release nogil;
              c.Compute(sig.data, sig.size, dst);
            }
            return out;
          },
          py::arg("x").noconvert(),
          "Descriptors of one float32 1-D signal: float32 [frames, dim], without the GIL.")
      .def(
          "compute_batch",
          [](const DescriptorComputer& c, const py::sequence& signals, int num_threads) {
            return ComputeBatchPy(c, static_cast<long long>(c.dim()), signals, num_threads);
          },
          py::arg("signals"), py::arg("num_threads") = 1,
          "compute() of every signal, spread over up to num_threads threads without the GIL.");

  py::class_<PyDescriptorStream>(
      m, "DescriptorStream",
      "Streaming descriptors: push(chunk) returns the rows completed so far (two frames late), "
      "flush() the rest; their concatenation equals DescriptorComputer.compute of the whole "
      "signal.")
      .def(py::init([](std::shared_ptr<DescriptorComputer> computer) {
             return std::make_unique<PyDescriptorStream>(std::move(computer), "DescriptorStream");
           }),
           py::arg("computer"))
      .def_property_readonly("flushed", &PyDescriptorStream::flushed)
      .def("push", &PyDescriptorStream::Push, py::arg("chunk").noconvert())
      .def("flush", &PyDescriptorStream::Flush);
}

}  // namespace edgeser
