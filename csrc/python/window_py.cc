#include "bindings.h"
#include "window.h"

namespace edgeser {

void BindWindow(py::module_& m) {
  m.def(
      "window",
      [](const FrontendOptions& opts) {
        opts.Validate();
        const std::vector<double> w = MakeWindow(opts);
        return py::array_t<double>(static_cast<py::ssize_t>(w.size()), w.data());
      },
      py::arg("options"), "The analysis window (float64), as edgeser.frontend.filters.window.");
}

}  // namespace edgeser
