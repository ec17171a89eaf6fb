// A C++ stream (FrameStream, DescriptorStream) used from Python: pushes run without the GIL,
// one at a time; another thread's push is awaited without holding the GIL.
#ifndef EDGESER_CSRC_PYTHON_PY_STREAM_H_
#define EDGESER_CSRC_PYTHON_PY_STREAM_H_

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "bindings.h"

namespace edgeser {

template <typename Stream, typename Computer>
class PyStream {
 public:
  PyStream(std::shared_ptr<const Computer> computer, std::string name)
      : stream_(std::move(computer)), name_(std::move(name)) {}

  int dim() const { return stream_.dim(); }
  bool flushed() const { return stream_.flushed(); }

  py::array_t<float> Push(const FloatSignal& x) {
    const SignalView sig = ViewSignal(x, "chunk");
    std::unique_lock<std::mutex> lock = Lock();
    if (stream_.flushed())
      throw std::runtime_error("stream already flushed; create a new " + name_);
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
  std::unique_lock<std::mutex> Lock() {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) {
      py::gil_scoped_release nogil;
      lock.lock();
    }
    return lock;
  }

  Stream stream_;
  std::string name_;
  std::mutex mutex_;
};

}  // namespace edgeser

#endif  // EDGESER_CSRC_PYTHON_PY_STREAM_H_
