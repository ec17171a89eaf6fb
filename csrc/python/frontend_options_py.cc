#include <string>

#include "bindings.h"

namespace edgeser {
namespace {

// A string-valued property over an enum field, using the dataclass spellings.
template <typename E, E FrontendOptions::* Field>
void EnumProperty(py::class_<FrontendOptions>& cls, const char* name,
                  E (*parse)(const std::string&)) {
  cls.def_property(
      name, [](const FrontendOptions& o) { return ToString(o.*Field); },
      [parse](FrontendOptions& o, const std::string& v) { o.*Field = parse(v); });
}

}  // namespace

void BindFrontendOptions(py::module_& m) {
  py::class_<FrontendOptions> cls(
      m, "FrontendOptions",
      "Mirror of edgeser.frontend.FrontendConfig (same fields and defaults); fill it with "
      "setattr from the dataclass.");
  cls.def(py::init<>())
      .def_readwrite("sample_rate", &FrontendOptions::sample_rate)
      .def_readwrite("frame_length_ms", &FrontendOptions::frame_length_ms)
      .def_readwrite("frame_shift_ms", &FrontendOptions::frame_shift_ms)
      .def_readwrite("n_fft", &FrontendOptions::n_fft)
      .def_readwrite("preemphasis", &FrontendOptions::preemphasis)
      .def_readwrite("remove_dc", &FrontendOptions::remove_dc)
      .def_readwrite("n_mels", &FrontendOptions::n_mels)
      .def_readwrite("fmin", &FrontendOptions::fmin)
      .def_readwrite("fmax", &FrontendOptions::fmax)
      .def_readwrite("power", &FrontendOptions::power)
      .def_readwrite("log_floor", &FrontendOptions::log_floor)
      .def_readwrite("n_mfcc", &FrontendOptions::n_mfcc)
      .def_readwrite("lifter", &FrontendOptions::lifter)
      .def_readwrite("deltas", &FrontendOptions::deltas)
      .def_readwrite("delta_window", &FrontendOptions::delta_window)
      .def_readwrite("vtlp_alpha", &FrontendOptions::vtlp_alpha)
      .def_readwrite("vtlp_high_hz", &FrontendOptions::vtlp_high_hz);
  EnumProperty<WindowType, &FrontendOptions::window>(cls, "window", ParseWindowType);
  EnumProperty<MelScale, &FrontendOptions::mel_scale>(cls, "mel_scale", ParseMelScale);
  EnumProperty<MelNorm, &FrontendOptions::mel_norm>(cls, "mel_norm", ParseMelNorm);
  EnumProperty<TriangleDomain, &FrontendOptions::triangle_domain>(cls, "triangle_domain",
                                                                  ParseTriangleDomain);
  EnumProperty<LogType, &FrontendOptions::log_type>(cls, "log_type", ParseLogType);
  EnumProperty<CmvnMode, &FrontendOptions::cmvn>(cls, "cmvn", ParseCmvnMode);
  cls.def_property_readonly("frame_length", &FrontendOptions::frame_length)
      .def_property_readonly("frame_shift", &FrontendOptions::frame_shift)
      .def_property_readonly("fft_size", &FrontendOptions::fft_size)
      .def_property_readonly("n_bins", &FrontendOptions::n_bins)
      .def_property_readonly("fmax_hz", &FrontendOptions::fmax_hz)
      .def("num_frames", &FrontendOptions::num_frames, py::arg("num_samples"))
      .def(
          "feature_dim",
          [](const FrontendOptions& o, const std::string& kind) {
            return o.feature_dim(KindArg(kind));
          },
          py::arg("kind"))
      .def("validate", &FrontendOptions::Validate,
           "Raise ValueError naming the field if an invariant the C++ code relies on fails.");
}

}  // namespace edgeser
