#include "bindings.h"
#include "spectral.h"

namespace edgeser {

void BindSpectral(py::module_& m) {
  m.def(
      "analyze_spectral",
      [](const DescriptorOptions& opts, const FloatSignal& windows) {
        const SpectralAnalyzer analyzer(opts);
        const std::vector<const float*> rows = ViewRows(windows, opts.spectral_length(), "windows");
        constexpr long long kDim = 11;
        py::array_t<double> out({static_cast<long long>(rows.size()), kDim});
        double* dst = out.mutable_data();
        {
          py::gil_scoped_release nogil;
          SpectralAnalyzer::Workspace ws = analyzer.MakeWorkspace();
          SpectralFrame frames[kLanes];
          for (std::size_t first = 0; first < rows.size(); first += kLanes) {
            const int count = static_cast<int>(std::min<std::size_t>(kLanes, rows.size() - first));
            analyzer.Analyze(rows.data() + first, count, frames, ws);
            for (int f = 0; f < count; ++f) {
              const SpectralFrame& s = frames[f];
              const double v[kDim] = {s.loudness,
                                      s.energy_db,
                                      s.alpha_ratio_db,
                                      s.hammarberg_db,
                                      s.slope_0_500,
                                      s.slope_500_1500,
                                      s.spectral_flux,
                                      s.spectral_centroid_hz,
                                      s.spectral_rolloff_hz,
                                      s.spectral_entropy,
                                      s.zcr};
              std::copy(v, v + kDim, dst + (first + f) * kDim);
            }
          }
        }
        return out;
      },
      py::arg("options"), py::arg("windows").noconvert(),
      "Spectral descriptors of consecutive float32 spectral windows [n, spectral_length] of one "
      "signal: float64 [n, 11] (loudness, energy_db, alpha_ratio_db, hammarberg_db, slope_0_500, "
      "slope_500_1500, spectral_flux, spectral_centroid_hz, spectral_rolloff_hz, "
      "spectral_entropy, zcr). For tests.");
}

}  // namespace edgeser
