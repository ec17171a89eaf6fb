#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bindings.h"
#include "descriptor_computer.h"

namespace edgeser {
namespace {

// A DescriptorStream used from Python: pushes run without the GIL, one at a time.
class PyDescriptorStream {
 public:
  explicit PyDescriptorStream(std::shared_ptr<const DescriptorComputer> computer)
      : stream_(std::move(computer)) {}

  bool flushed() const { return stream_.flushed(); }

  py::array_t<float> Push(const FloatSignal& x) {
    const SignalView sig = ViewSignal(x, "chunk");
    std::unique_lock<std::mutex> lock = Lock();
    if (stream_.flushed())
      throw std::runtime_error("stream already flushed; create a new DescriptorStream");
    py::array_t<float> out(
        {stream_.RowsAfterPush(sig.size), static_cast<long long>(kNumDescriptors)});
    float* dst = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      stream_.Push(sig.data, sig.size, dst);
    }
    return out;
  }

  py::array_t<float> Flush() {
    std::unique_lock<std::mutex> lock = Lock();
    py::array_t<float> out({stream_.RowsAtFlush(), static_cast<long long>(kNumDescriptors)});
    stream_.Flush(out.mutable_data());
    return out;
  }

 private:
  std::unique_lock<std::mutex> Lock() {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) {
      py::gil_scoped_release nogil;
      lock.lock();
    }
    return lock;
  }

  DescriptorStream stream_;
  std::mutex mutex_;
};

}  // namespace

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
              py::array_t<float> out({c.NumFrames(sig.size), static_cast<long long>(c.dim())});
              data.push_back(sig.data);
              lengths.push_back(sig.size);
              outs.push_back(out.mutable_data());
              results.append(out);
            }
            {
              py::gil_scoped_release nogil;
              c.ComputeBatch(data.data(), lengths.data(), outs.data(), static_cast<int>(count),
                             num_threads);
            }
            return results;
          },
          py::arg("signals"), py::arg("num_threads") = 1,
          "compute() of every signal, spread over up to num_threads threads without the GIL.");

  py::class_<PyDescriptorStream>(
      m, "DescriptorStream",
      "Streaming descriptors: push(chunk) returns the rows completed so far (two frames late), "
      "flush() the rest; their concatenation equals DescriptorComputer.compute of the whole "
      "signal.")
      .def(py::init([](std::shared_ptr<DescriptorComputer> computer) {
             return std::make_unique<PyDescriptorStream>(std::move(computer));
           }),
           py::arg("computer"))
      .def_property_readonly("flushed", &PyDescriptorStream::flushed)
      .def("push", &PyDescriptorStream::Push, py::arg("chunk").noconvert())
      .def("flush", &PyDescriptorStream::Flush);
}

}  // namespace edgeser
