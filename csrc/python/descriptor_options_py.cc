#include "bindings.h"
#include "descriptor_options.h"

namespace edgeser {

std::vector<const float*> ViewRows(const FloatSignal& rows, int width, const char* what) {
  if (rows.ndim() != 2 || rows.shape(1) != width)
    throw py::value_error(std::string(what) + " must be a float32 array [n, " +
                          std::to_string(width) + "]");
  std::vector<const float*> out(static_cast<std::size_t>(rows.shape(0)));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = rows.data() + i * width;
  return out;
}

void BindDescriptorOptions(py::module_& m) {
  py::class_<DescriptorOptions> cls(
      m, "DescriptorOptions",
      "Mirror of edgeser.frontend.DescriptorConfig (same fields and defaults); fill it with "
      "setattr from the dataclass.");
  cls.def(py::init<>())
      .def_readwrite("sample_rate", &DescriptorOptions::sample_rate)
      .def_readwrite("frame_shift_ms", &DescriptorOptions::frame_shift_ms)
      .def_readwrite("pitch_window_ms", &DescriptorOptions::pitch_window_ms)
      .def_readwrite("spectral_window_ms", &DescriptorOptions::spectral_window_ms)
      .def_readwrite("f0_min_hz", &DescriptorOptions::f0_min_hz)
      .def_readwrite("f0_max_hz", &DescriptorOptions::f0_max_hz)
      .def_readwrite("voicing_threshold", &DescriptorOptions::voicing_threshold)
      .def_readwrite("silence_dbfs", &DescriptorOptions::silence_dbfs)
      .def_readwrite("lpc_order", &DescriptorOptions::lpc_order)
      .def_readwrite("formant_max_hz", &DescriptorOptions::formant_max_hz)
      .def_readwrite("formant_max_bw_hz", &DescriptorOptions::formant_max_bw_hz)
      .def_readwrite("power_floor", &DescriptorOptions::power_floor)
      .def_readwrite("spectrum_floor", &DescriptorOptions::spectrum_floor)
      .def_property_readonly("frame_shift", &DescriptorOptions::frame_shift)
      .def_property_readonly("pitch_length", &DescriptorOptions::pitch_length)
      .def_property_readonly("spectral_length", &DescriptorOptions::spectral_length)
      .def_property_readonly("analysis_length", &DescriptorOptions::analysis_length)
      .def_property_readonly("pitch_offset", &DescriptorOptions::pitch_offset)
      .def_property_readonly("spectral_offset", &DescriptorOptions::spectral_offset)
      .def_property_readonly("fft_size", &DescriptorOptions::fft_size)
      .def_property_readonly("tau_min", &DescriptorOptions::tau_min)
      .def_property_readonly("tau_max", &DescriptorOptions::tau_max)
      .def("num_frames", &DescriptorOptions::num_frames, py::arg("num_samples"))
      .def("validate", &DescriptorOptions::Validate,
           "Raise ValueError naming the field if an invariant the C++ code relies on fails.");
  m.attr("NUM_DESCRIPTORS") = static_cast<int>(kNumDescriptors);
}

}  // namespace edgeser
