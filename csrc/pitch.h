// F0 with a voicing decision (YIN-style cumulative mean normalised difference), harmonics-to-
// noise ratio, and local jitter and shimmer from pitch pulses, per pitch window; plus the
// octave-jump smoothing over neighbouring frames. Definitions: docs/voice-descriptors.md.
// Immutable after construction: one analyzer serves many threads, each with its own Workspace.
#ifndef EDGESER_CSRC_PITCH_H_
#define EDGESER_CSRC_PITCH_H_

#include <cstddef>
#include <vector>

#include "descriptor_options.h"
#include "rfft.h"
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
  friend struct PitchAnalyzerTestPeer;  // csrc/tests/test_pitch.cc checks d(t) against its sum

  // Autocorrelation sum_{j<length-t} s[j] s[j+t], t in [0, max_lag], of kLanes sequences at
  // once (lane layout): the power spectrum of an FFT of size `size`, turned back with half a
  // transform; the few lags that wrap around the FFT are corrected by direct sums.
  struct Autocorrelator {
    Autocorrelator(int length, int max_lag);
    std::size_t workspace_size() const;  // doubles
    // ac: (max_lag + 1) * kLanes doubles; work: workspace_size() doubles, 64-byte aligned.
    void Run(const double* s, int lanes, double* ac, double* work) const;

    int length, max_lag;
    int size;  // N, a power of two
    int lags;  // lags with a nonzero result: min(max_lag, length - 1) + 1
    RealFft fft, half_fft;
    std::vector<double> sin_table, cos_table;  // sin and cos of pi j / (N / 2), j < N / 2
  };

  // DC-removed windows into ws ([sample][lane]) and their difference function d(t), t in
  // [0, tau_max] ([t][lane]; lanes past count repeat window 0); returns d.
  const double* DifferenceFunction(const float* const* windows, int count, Workspace& ws) const;
  void EnsureWorkspace(Workspace& ws) const;

  DescriptorOptions opts_;
  int length_;
  int tau_min_;
  int tau_max_;
  int width_;  // W = length - tau_max, the integration length
  // r(t) = sum_{j<W} x[j] x[j+t] is the autocorrelation of the window minus that of its tail
  // x[W:L] (the products that start past W).
  Autocorrelator window_ac_, tail_ac_;
  // Offsets (doubles, multiples of one lane group) of the parts of Workspace::lanes_.
  std::size_t x_at_, r_at_, tail_at_, d_at_, c_at_, work_at_, means_at_, power_at_, lanes_size_;
};

// Octave-jump smoothing of one frame: raw[2] is the frame's raw F0, raw[0..1] and raw[3..4] those
// of the two frames before and after it (0 = unvoiced, negative = no such frame). Returns the
// smoothed F0 (0 = unvoiced).
double SmoothF0(const double raw[5]);

}  // namespace edgeser

#endif  // EDGESER_CSRC_PITCH_H_
