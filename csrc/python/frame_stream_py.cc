#include <memory>
#include <mutex>
#include <string>

#include "bindings.h"
#include "frame_stream.h"
#include "py_stream.h"

namespace edgeser {
using PyFrameStream = PyStream<FrameStream, FeatureComputer>;

void BindFrameStream(py::module_& m) {
  py::class_<PyFrameStream>(
      m, "FrameStream",
      "Streaming features: push(chunk) returns the rows completed so far, flush() the rest; "
      "their concatenation equals FeatureComputer.compute of the whole signal.")
      .def(py::init([](std::shared_ptr<FeatureComputer> computer) {
             return std::make_unique<PyFrameStream>(std::move(computer), "FrameStream");
           }),
           py::arg("computer"))
      .def_property_readonly("dim", &PyFrameStream::dim)
      .def_property_readonly("flushed", &PyFrameStream::flushed)
      .def("push", &PyFrameStream::Push, py::arg("chunk").noconvert(),
           "Append float32 samples; returns float32 [rows, dim] (rows may be 0).")
      .def("flush", &PyFrameStream::Flush,
           "End the utterance: returns the held-back rows; later calls return none.");
}

}  // namespace edgeser
