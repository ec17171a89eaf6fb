// F0 with a voicing decision (YIN-style cumulative mean normalised difference), harmonics-to-
// noise ratio, and local jitter and shimmer from pitch pulses, per pitch window; plus the
// octave-jump smoothing over neighbouring frames. Definitions: docs/voice-descriptors.md.
// Immutable after construction: one analyzer serves many threads, each with its own Workspace.
#ifndef EDGESER_CSRC_PITCH_H_
#define EDGESER_CSRC_PITCH_H_

#include <vector>

#include "descriptor_options.h"
#include "simd.h"

namespace edgeser {

struct PitchFrame {
  double f0_hz = 0.0;  // raw (before SmoothF0); 0 = unvoiced
  double voicing = 0.0;
  double hnr_db = 0.0;
  double jitter_local = 0.0;
  double shimmer_local_db = 0.0;
};

class PitchAnalyzer {
 public:
  // Scratch memory for one block of up to kLanes windows; reuse it across calls of one thread.
  class Workspace {
   public:
    Workspace() = default;

   private:
    friend class PitchAnalyzer;
    std::vector<double> scratch_;
    AlignedBuffer lanes_;
  };

  explicit PitchAnalyzer(const DescriptorOptions& opts);
  const DescriptorOptions& options() const { return opts_; }
  Workspace MakeWorkspace() const;

  // Raw pitch of count <= kLanes windows: window f is opts.pitch_length() samples at windows[f].
  void Analyze(const float* const* windows, int count, PitchFrame* out, Workspace& ws) const;

 private:
  DescriptorOptions opts_;
  int length_;
  int tau_min_;
  int tau_max_;
};

// Octave-jump smoothing of one frame: raw[2] is the frame's raw F0, raw[0..1] and raw[3..4] those
// of the two frames before and after it (0 = unvoiced, negative = no such frame). Returns the
// smoothed F0 (0 = unvoiced).
double SmoothF0(const double raw[5]);

}  // namespace edgeser

#endif  // EDGESER_CSRC_PITCH_H_
