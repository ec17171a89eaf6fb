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
    AlignedBuffer samples_;
    AlignedBuffer fft_;
    AlignedBuffer power_;
    std::vector<double> previous_;  // normalised magnitude spectrum of the previous frame
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
  DescriptorOptions opts_;
  int length_;
  RealFft fft_;
  std::vector<double> window_;
};

}  // namespace edgeser

#endif  // EDGESER_CSRC_SPECTRAL_H_
