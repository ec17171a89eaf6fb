// Spectral shape and energy per spectral window: loudness, energy, alpha ratio, Hammarberg index,
// spectral slopes, flux, centroid, roll-off, entropy, zero-crossing rate.
// Definitions: docs/voice-descriptors.md. Immutable after construction; the Workspace carries the
// previous frame's spectrum (for the flux), so one Workspace follows one signal in time order.
#ifndef EDGESER_CSRC_SPECTRAL_H_
#define EDGESER_CSRC_SPECTRAL_H_

#include <vector>

#include "descriptor_options.h"
#include "rfft.h"
#include "simd.h"

namespace edgeser {

struct SpectralFrame {
  double loudness = 0.0;
  double energy_db = 0.0;
  double alpha_ratio_db = 0.0;
  double hammarberg_db = 0.0;
  double slope_0_500 = 0.0;
  double slope_500_1500 = 0.0;
  double spectral_flux = 0.0;
  double spectral_centroid_hz = 0.0;
  double spectral_rolloff_hz = 0.0;
  double spectral_entropy = 0.0;
  double zcr = 0.0;
};

class SpectralAnalyzer {
 public:
  class Workspace {
   public:
    Workspace() = default;

   private:
    friend class SpectralAnalyzer;
    AlignedBuffer samples_;  // [spectral_length][kLanes]: the windowed frames
    AlignedBuffer fft_;      // RealFft scratch
    AlignedBuffer power_;    // [bins][kLanes]: P_k
    // [bins][1 + kLanes]: the previous window's m_k, then each lane's sqrt(P_k), normalised in
    // place into its m_k.
    AlignedBuffer magnitude_;
    bool has_previous_ = false;
  };

  explicit SpectralAnalyzer(const DescriptorOptions& opts);
  const DescriptorOptions& options() const { return opts_; }
  Workspace MakeWorkspace() const;

  // count <= kLanes consecutive spectral windows (opts.spectral_length() samples at windows[f]),
  // in time order, continuing the frames `ws` has seen since MakeWorkspace() or Reset().
  void Analyze(const float* const* windows, int count, SpectralFrame* out, Workspace& ws) const;
  static void Reset(Workspace& ws);  // the next window starts a new signal

 private:
  struct Range {  // bins [begin, end)
    int begin = 0, end = 0;
  };
  DescriptorOptions opts_;
  int length_;
  RealFft fft_;
  int bins_;
  std::vector<double> window_;
  double inv_window_power_;  // 1 / sum_j w_j^2
  std::vector<double> freqs_;
  // Loudness band b weights bins band_first_[b], band_first_[b] + 1, ... by T_b(f_k) Q_b,
  // band_weights_[band_offset_[b] .. band_offset_[b + 1]).
  std::vector<int> band_first_, band_offset_;
  std::vector<double> band_weights_;
  Range alpha_low_, alpha_high_, hammarberg_low_, hammarberg_high_, slope_low_, slope_high_;
  // Slope = sum_k coef_k ln(P_k + eps) over the slope's range (the regression folded in).
  std::vector<double> slope_low_coef_, slope_high_coef_;
};

}  // namespace edgeser

#endif  // EDGESER_CSRC_SPECTRAL_H_
