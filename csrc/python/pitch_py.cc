#include <pybind11/stl.h>

#include "bindings.h"
#include "pitch.h"

namespace edgeser {

void BindPitch(py::module_& m) {
  m.def(
      "analyze_pitch",
      [](const DescriptorOptions& opts, const FloatSignal& windows) {
        const PitchAnalyzer analyzer(opts);
        const std::vector<const float*> rows = ViewRows(windows, opts.pitch_length(), "windows");
        py::array_t<double> out({static_cast<long long>(rows.size()), 5LL});
        double* dst = out.mutable_data();
        {
          py::gil_scoped_release nogil;
          PitchAnalyzer::Workspace ws = analyzer.MakeWorkspace();
          PitchFrame frames[kLanes];
          for (std::size_t first = 0; first < rows.size(); first += kLanes) {
            const int count = static_cast<int>(std::min<std::size_t>(kLanes, rows.size() - first));
            analyzer.Analyze(rows.data() + first, count, frames, ws);
            for (int f = 0; f < count; ++f) {
              double* r = dst + (first + f) * 5;
              r[0] = frames[f].f0_hz;
              r[1] = frames[f].voicing;
              r[2] = frames[f].hnr_db;
              r[3] = frames[f].jitter_local;
              r[4] = frames[f].shimmer_local_db;
            }
          }
        }
        return out;
      },
      py::arg("options"), py::arg("windows").noconvert(),
      "Raw pitch of float32 pitch windows [n, pitch_length]: float64 [n, 5] (f0_hz, voicing, "
      "hnr_db, jitter_local, shimmer_local_db), before the octave-jump smoothing. For tests.");
  m.def(
      "smooth_f0",
      [](const std::vector<double>& raw) {
        if (raw.size() != 5) throw py::value_error("smooth_f0 takes the raw F0 of 5 frames");
        return SmoothF0(raw.data());
      },
      py::arg("raw"), "Octave-jump smoothing of the middle of 5 raw F0 values. For tests.");
}

}  // namespace edgeser
