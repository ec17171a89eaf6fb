// Our own real FFT, kLanes frames at a time (see simd.h for the lane layout).
//
// Powers of two: a radix-2 decimation-in-time complex FFT of half the size (bit-reversed
// loading, stages fused in pairs so each pass reads and writes the data once per two stages)
// followed by the usual split step that turns it into the real transform. Other sizes:
// Bluestein's chirp-z algorithm on top of the same power-of-two complex FFT. Everything is
// double precision: float32 loses the quiet bands of Hann-windowed or strongly sloped spectra.
#ifndef EDGESER_CSRC_RFFT_H_
#define EDGESER_CSRC_RFFT_H_

#include <cstddef>
#include <vector>

#include "simd.h"

namespace edgeser {

// A complex value per lane: kLanes real parts followed by kLanes imaginary parts.
constexpr int kComplexStride = 2 * kLanes;

// In-place complex DFT of m = 2^k points (m >= 1), kLanes transforms at once. Input must be
// in bit-reversed order (see bit_reverse()); output is in natural order.
class ComplexFft {
 public:
  explicit ComplexFft(int m);
  int size() const { return m_; }
  int log2_size() const { return log2m_; }
  // bit_reverse()[n] is the slot where input point n goes.
  const std::vector<int>& bit_reverse() const { return bit_reverse_; }
  // Per fused pass with half-size h >= 2, in run order: (c1, s1, c2, s2) for each j < h.
  const std::vector<double>& twiddles() const { return twiddles_; }
  void Forward(double* data) const;

 private:
  int m_;
  int log2m_;
  std::vector<int> bit_reverse_;
  std::vector<double> twiddles_;
};

// What RealFft writes per bin.
enum class SpectrumOutput {
  kComplex,    // [bin][re lanes, im lanes]
  kPower,      // [bin][lanes] |X|^2
  kMagnitude,  // [bin][lanes] |X|
};

// DFT of real frames of any length n >= 1, as numpy.fft.rfft(frame, n).
class RealFft {
 public:
  explicit RealFft(int n);

  int size() const { return n_; }
  int num_bins() const { return n_ / 2 + 1; }
  bool is_power_of_two() const { return bluestein_size_ == 0; }
  std::size_t workspace_size() const;  // doubles needed by `work`

  // samples: [length][kLanes] doubles (sample i of frame l at samples[i * kLanes + l]),
  // length <= size(); samples past `length` are taken as zeros. Writes bins [0, bins)
  // (bins <= num_bins()) to `out` in the layout of `what`. `work` holds workspace_size()
  // doubles; every buffer is 64-byte aligned. Only lanes [0, lanes) need to be valid: lanes
  // past them (rounded up to a register) are neither read nor written.
  void Forward(const double* samples, int length, SpectrumOutput what, int bins, double* out,
               double* work, int lanes = kLanes) const;

 private:
  int n_;
  int bluestein_size_ = 0;                     // 0 for powers of two
  ComplexFft fft_;                             // n/2 points, or bluestein_size_ points
  std::vector<double> split_cos_, split_sin_;  // e^{-2 pi i k / n} = cos - i sin, k <= n/2
  std::vector<double> chirp_re_, chirp_im_;    // Bluestein: e^{-i pi k^2 / n}
  std::vector<double> filter_re_, filter_im_;  // Bluestein: DFT of the conjugate chirp / size
};

}  // namespace edgeser

#endif  // EDGESER_CSRC_RFFT_H_
