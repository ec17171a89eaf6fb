#include "window.h"

#include <cmath>

namespace edgeser {

std::vector<double> MakeWindow(const FrontendOptions& opts) {
  const int n = opts.frame_length();
  const double pi = 3.14159265358979323846;
  std::vector<double> w(n, 1.0);
  if (opts.window == WindowType::kRectangular) return w;
  for (int i = 0; i < n; ++i) {
    const double c = std::cos(2.0 * pi * i / (n - 1));
    switch (opts.window) {
      case WindowType::kHamming:
        w[i] = 0.54 - 0.46 * c;
        break;
      case WindowType::kHann:
        w[i] = 0.5 - 0.5 * c;
        break;
      case WindowType::kPovey:
        w[i] = std::pow(0.5 - 0.5 * c, 0.85);
        break;
      case WindowType::kRectangular:
        break;
    }
  }
  return w;
}

}  // namespace edgeser
