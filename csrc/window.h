// Analysis windows (symmetric, Kaldi convention: denominator frame_length - 1).
#ifndef EDGESER_CSRC_WINDOW_H_
#define EDGESER_CSRC_WINDOW_H_

#include <vector>

#include "frontend_options.h"

namespace edgeser {

// The window of opts.frame_length() samples, in double, as edgeser/frontend/filters.py:window.
std::vector<double> MakeWindow(const FrontendOptions& opts);

}  // namespace edgeser

#endif  // EDGESER_CSRC_WINDOW_H_
