#include <complex>

#include "bindings.h"
#include "rfft.h"

namespace edgeser {

void BindRfft(py::module_& m) {
  m.def(
      "rfft",
      [](py::array_t<double, py::array::c_style | py::array::forcecast> x, int n) {
        if (x.ndim() != 1) throw py::value_error("rfft: x must be 1-D");
        if (n < 1 || n > (1 << 20)) throw py::value_error("rfft: n must be in [1, 2**20]");
        const RealFft fft(n);
        const int length = static_cast<int>(std::min<py::ssize_t>(x.shape(0), n));
        // Lane l holds x scaled by (l + 1): every lane is checked, not just the first.
        AlignedBuffer samples(static_cast<std::size_t>(std::max(length, 1)) * kLanes);
        for (int i = 0; i < length; ++i)
          for (int l = 0; l < kLanes; ++l) samples.data()[i * kLanes + l] = x.data()[i] * (l + 1);
        AlignedBuffer work(fft.workspace_size());
        AlignedBuffer spectrum(static_cast<std::size_t>(fft.num_bins()) * kComplexStride);
        {
          py::gil_scoped_release nogil;
          fft.Forward(samples.data(), length, SpectrumOutput::kComplex, fft.num_bins(),
                      spectrum.data(), work.data());
        }
        py::array_t<std::complex<double>> out({kLanes, fft.num_bins()});
        auto o = out.mutable_unchecked<2>();
        for (int l = 0; l < kLanes; ++l) {
          for (int k = 0; k < fft.num_bins(); ++k) {
            const double* bin = spectrum.data() + k * kComplexStride;
            o(l, k) = std::complex<double>(bin[l], bin[kLanes + l]) / static_cast<double>(l + 1);
          }
        }
        return out;
      },
      py::arg("x"), py::arg("n"),
      "Our real FFT as numpy.fft.rfft(x, n) (cropped or zero-padded to n), computed in every "
      "SIMD lane at once with lane l fed (l+1)*x; returns the [LANES, n//2+1] complex128 "
      "results rescaled by 1/(l+1), so each row should equal numpy's. For tests.");
}

}  // namespace edgeser
