#include <string>

#include "bindings.h"
#include "descriptor_options.h"
#include "functionals.h"

namespace edgeser {

void BindFunctionals(py::module_& m) {
  m.attr("GEMAPS_V1_DIM") = kGemapsV1Dim;
  m.def(
      "gemaps_v1",
      [](const FloatSignal& lld, const FloatSignal& mfcc, double frame_step_s) {
        if (lld.ndim() != 2 || lld.shape(1) != kNumDescriptors)
          throw py::value_error("lld must be a float32 array [frames, " +
                                std::to_string(kNumDescriptors) + "]");
        if (mfcc.ndim() != 2 || mfcc.shape(1) < kGemapsV1MfccUsed + 1)
          throw py::value_error("mfcc must be a float32 array [frames, >= " +
                                std::to_string(kGemapsV1MfccUsed + 1) + "]");
        if (!(frame_step_s > 0) || !(frame_step_s < 1e6))
          throw py::value_error("frame_step_s must be a positive number of seconds, got " +
                                std::to_string(frame_step_s));
        FunctionalsInput in;
        in.lld = lld.data();
        in.frames = static_cast<long long>(lld.shape(0));
        in.mfcc = mfcc.data();
        in.mfcc_frames = static_cast<long long>(mfcc.shape(0));
        in.mfcc_dim = static_cast<int>(mfcc.shape(1));
        in.frame_step_s = frame_step_s;
        py::array_t<float> out(kGemapsV1Dim);
        float* dst = out.mutable_data();
        {
          py::gil_scoped_release nogil;
          GemapsV1(in, dst);
        }
        return out;
      },
      py::arg("lld").noconvert(), py::arg("mfcc").noconvert(), py::arg("frame_step_s"),
      "The edgeser-gemaps-v1 vector (float32 [76]) of one utterance from its descriptors "
      "[frames, 22] and MFCCs [frames2, >= 5], without the GIL; the numbers of "
      "edgeser.frontend.functionals.functionals_v1.");
}

}  // namespace edgeser
