#include "bindings.h"
#include "dct.h"

namespace edgeser {

void BindDct(py::module_& m) {
  m.def(
      "dct_matrix",
      [](const FrontendOptions& opts) {
        opts.Validate();
        const std::vector<double> d = DctMatrix(opts);
        py::array_t<double> out({opts.n_mfcc, opts.n_mels});
        std::copy(d.begin(), d.end(), out.mutable_data());
        return out;
      },
      py::arg("options"), "Orthonormal DCT-II rows, float64 [n_mfcc, n_mels].");
  m.def(
      "lifter_coeffs",
      [](const FrontendOptions& opts) {
        opts.Validate();
        const std::vector<double> c = LifterCoeffs(opts);
        return py::array_t<double>(static_cast<py::ssize_t>(c.size()), c.data());
      },
      py::arg("options"), "Cepstral lifter weights, float64 [n_mfcc].");
}

}  // namespace edgeser
