#include <memory>
#include <mutex>
#include <string>

#include "bindings.h"
#include "frame_stream.h"

namespace edgeser {
namespace {

// A FrameStream used from Python: pushes run without the GIL, one at a time.
class PyFrameStream {
 public:
  explicit PyFrameStream(std::shared_ptr<const FeatureComputer> computer)
      : stream_(std::move(computer)) {}

  int dim() const { return stream_.dim(); }
  bool flushed() const { return stream_.flushed(); }

  py::array_t<float> Push(const FloatSignal& x) {
    const SignalView sig = ViewSignal(x, "chunk");
    std::unique_lock<std::mutex> lock = Lock();
    if (stream_.flushed())
      throw std::runtime_error("stream already flushed; create a new FrameStream");
    py::array_t<float> out({stream_.RowsAfterPush(sig.size), static_cast<long long>(dim())});
    float* dst = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      stream_.Push(sig.data, sig.size, dst);
    }
    return out;
  }

  py::array_t<float> Flush() {
    std::unique_lock<std::mutex> lock = Lock();
    py::array_t<float> out({stream_.RowsAtFlush(), static_cast<long long>(dim())});
    stream_.Flush(out.mutable_data());
    return out;
  }

 private:
  // Waits for another thread's push without holding the GIL.
  std::unique_lock<std::mutex> Lock() {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) {
      py::gil_scoped_release nogil;
      lock.lock();
    }
    return lock;
  }

  FrameStream stream_;
  std::mutex mutex_;
};

}  // namespace

void BindFrameStream(py::module_& m) {
  py::class_<PyFrameStream>(
      m, "FrameStream",
      "Streaming features: push(chunk) returns the rows completed so far, flush() the rest; "
      "their concatenation equals FeatureComputer.compute of the whole signal.")
      .def(py::init([](std::shared_ptr<FeatureComputer> computer) {
             return std::make_unique<PyFrameStream>(std::move(computer));
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
