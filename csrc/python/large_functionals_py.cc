#include <string>

#include "bindings.h"
#include "descriptor_options.h"
#include "large_functionals.h"

namespace edgeser {

void BindLargeFunctionals(py::module_& m) {
  m.attr("LARGE_V1_DIM") = kLargeV1Dim;
  m.def(
      "large_functionals",
      [](const FloatSignal& lld, const FloatSignal& mfcc, const FloatSignal& log_mel,
         long long offset, double frame_step_s, int version) {
        if (lld.ndim() != 2 || lld.shape(1) != kNumDescriptors)
          throw py::value_error("lld must be a float32 array [frames, " +
                                std::to_string(kNumDescriptors) + "]");
        if (mfcc.ndim() != 2 || mfcc.shape(1) < kLargeV1Mfcc + 1)
          throw py::value_error(
              "mfcc must be a float32 array [frames, >= " + std::to_string(kLargeV1Mfcc + 1) + "]");
        if (log_mel.ndim() != 2 || log_mel.shape(1) != kLargeV1Mels)
          throw py::value_error("log_mel must be a float32 array [frames, " +
                                std::to_string(kLargeV1Mels) + "]");
        if (offset < 0)
          throw py::value_error("offset must be >= 0 frames, got " + std::to_string(offset));
        if (!(frame_step_s > 0) || !(frame_step_s < 1e6))
          throw py::value_error("frame_step_s must be a positive number of seconds, got " +
                                std::to_string(frame_step_s));
        if (version != 1 && version != 2)
          throw py::value_error("version must be 1 or 2 (edgeser-large-v1 or -v2), got " +
                                std::to_string(version));
        LargeFunctionalsInput in;
        in.lld = lld.data();
        in.frames = static_cast<long long>(lld.shape(0));
        in.mfcc = mfcc.data();
        in.mfcc_frames = static_cast<long long>(mfcc.shape(0));
        in.mfcc_dim = static_cast<int>(mfcc.shape(1));
        in.log_mel = log_mel.data();
        in.mel_frames = static_cast<long long>(log_mel.shape(0));
        in.offset = offset;
        in.frame_step_s = frame_step_s;
        in.version = version;
        py::array_t<float> out(kLargeV1Dim);
        float* dst = out.mutable_data();
        {
          py::gil_scoped_release nogil;
          LargeFunctionals(in, dst);
        }
        return out;
      },
      py::arg("lld").noconvert(), py::arg("mfcc").noconvert(), py::arg("log_mel").noconvert(),
      py::arg("offset"), py::arg("frame_step_s"), py::arg("version") = 1,
      "The edgeser-large-v<version> vector (float32 [1765]) of one utterance from its "
      "descriptors [frames, 22], MFCCs [frames2, >= 13] and log-mel bands [frames2, 40], the "
      "spectral grid leading by `offset` frames, without the GIL; the numbers of "
      "edgeser.frontend.large_functionals.functionals_large.");
}

}  // namespace edgeser
