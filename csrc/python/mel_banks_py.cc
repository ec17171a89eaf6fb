#include <string>

#include "bindings.h"
#include "mel_banks.h"

namespace edgeser {

void BindMelBanks(py::module_& m) {
  m.def(
      "mel_filterbank",
      [](const FrontendOptions& opts) {
        opts.Validate();
        const MelBanks banks(opts);
        py::array_t<double> out({banks.num_banks(), banks.num_bins()});
        const std::vector<double> dense = banks.Dense();
        std::copy(dense.begin(), dense.end(), out.mutable_data());
        return out;
      },
      py::arg("options"),
      "The mel filters as a dense float64 [n_mels, n_bins] matrix (stored sparsely in C++), "
      "as edgeser.frontend.filters.mel_filterbank.");
  m.def(
      "mel_filter_ranges",
      [](const FrontendOptions& opts) {
        opts.Validate();
        const MelBanks banks(opts);
        py::list out;
        for (int b = 0; b < banks.num_banks(); ++b)
          out.append(py::make_tuple(banks.first_bin(b), banks.num_weights(b)));
        return out;
      },
      py::arg("options"), "(first_bin, num_weights) of each stored filter.");
  m.def(
      "hz_to_mel",
      [](double hz, const std::string& scale) { return HzToMel(hz, ParseMelScale(scale)); },
      py::arg("hz"), py::arg("scale"));
  m.def(
      "mel_to_hz",
      [](double mel, const std::string& scale) { return MelToHz(mel, ParseMelScale(scale)); },
      py::arg("mel"), py::arg("scale"));
}

}  // namespace edgeser
