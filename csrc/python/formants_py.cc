#include "bindings.h"
#include "formants.h"

namespace edgeser {

void BindFormants(py::module_& m) {
  m.def(
      "analyze_formants",
      [](const DescriptorOptions& opts, const FloatSignal& windows) {
        const FormantAnalyzer analyzer(opts);
        const std::vector<const float*> rows = ViewRows(windows, opts.spectral_length(), "windows");
        py::array_t<double> out({static_cast<long long>(rows.size()), 6LL});
        double* dst = out.mutable_data();
        {
          py::gil_scoped_release nogil;
          FormantAnalyzer::Workspace ws = analyzer.MakeWorkspace();
          FormantFrame frame;
          for (std::size_t i = 0; i < rows.size(); ++i) {
            analyzer.Analyze(rows.data() + i, 1, &frame, ws);
            for (int k = 0; k < 3; ++k) {
              dst[i * 6 + 2 * k] = frame.freq_hz[k];
              dst[i * 6 + 2 * k + 1] = frame.bw_hz[k];
            }
          }
        }
        return out;
      },
      py::arg("options"), py::arg("windows").noconvert(),
      "Formants of float32 spectral windows [n, spectral_length]: float64 [n, 6] (f1_hz, "
      "f1_bw_hz, f2_hz, f2_bw_hz, f3_hz, f3_bw_hz). For tests.");
}

}  // namespace edgeser
