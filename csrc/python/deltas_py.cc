#include <algorithm>
#include <string>

#include "bindings.h"
#include "deltas.h"

namespace edgeser {

void BindDeltas(py::module_& m) {
  m.def(
      "add_deltas",
      [](py::array_t<double, py::array::c_style | py::array::forcecast> statics, int deltas,
         int window) {
        if (statics.ndim() != 2) throw py::value_error("add_deltas: statics must be 2-D");
        if (deltas < 0 || deltas > 2) throw py::value_error("add_deltas: deltas must be 0..2");
        if (window < 1 || window > 10) throw py::value_error("add_deltas: window must be 1..10");
        if (statics.shape(1) > (1 << 24))
          throw py::value_error("add_deltas: statics has more than 2**24 columns");
        const long long frames = statics.shape(0);
        const int dim = static_cast<int>(statics.shape(1));
        py::array_t<double> out({frames, static_cast<long long>(dim) * (1 + deltas)});
        double* o = out.mutable_data();
        for (long long t = 0; t < frames; ++t)
          std::copy(statics.data() + t * dim, statics.data() + (t + 1) * dim,
                    o + t * dim * (1 + deltas));
        AddDeltas(o, frames, dim, deltas, window);
        return out;
      },
      py::arg("statics"), py::arg("deltas"), py::arg("window"),
      "[frames, dim] -> [frames, dim * (1 + deltas)] with regression deltas appended.");
  m.def(
      "apply_cmvn",
      [](py::array_t<double, py::array::c_style | py::array::forcecast> feats,
         const std::string& mode) {
        if (feats.ndim() != 2) throw py::value_error("apply_cmvn: feats must be 2-D");
        if (feats.shape(1) > (1 << 24))
          throw py::value_error("apply_cmvn: feats has more than 2**24 columns");
        py::array_t<double> out({feats.shape(0), feats.shape(1)});
        std::copy(feats.data(), feats.data() + feats.size(), out.mutable_data());
        ApplyCmvn(out.mutable_data(), feats.shape(0), static_cast<int>(feats.shape(1)),
                  ParseCmvnMode(mode));
        return out;
      },
      py::arg("feats"), py::arg("mode"), "Per-utterance mean (and variance) normalisation.");
}

}  // namespace edgeser
