// Static features (spectrogram, log-mel or MFCC) of frames, and whole signals with deltas/CMVN.
//
// Per frame: remove DC (optional) -> in-frame pre-emphasis (y[0] = x[0] - c x[0]) -> window ->
// zero-padded real FFT -> |X|^power -> sparse mel filters -> floored log -> lifted DCT-II,
// computed for kLanes frames at once in double precision, stored as float32 (or double for the
// temporal post-processing). Immutable after construction: one computer serves many threads,
// each with its own Workspace.
#ifndef EDGESER_CSRC_FEATURE_COMPUTER_H_
#define EDGESER_CSRC_FEATURE_COMPUTER_H_

#include <cstddef>
#include <vector>

#include "frontend_options.h"
#include "mel_banks.h"
#include "rfft.h"
#include "simd.h"

namespace edgeser {

class FeatureComputer {
 public:
  // Scratch memory for one block of kLanes frames; reuse it across calls from one thread.
  class Workspace {
   public:
    Workspace() = default;

   private:
    friend class FeatureComputer;
    AlignedBuffer samples_;  // [max(frame_length, n_bins)][kLanes]: frames, then the spectrum
    AlignedBuffer fft_;      // RealFft workspace
    AlignedBuffer mel_;      // [n_mels][kLanes]
    AlignedBuffer cepstra_;  // [n_mfcc][kLanes]
  };

  FeatureComputer(const FrontendOptions& opts, FeatureKind kind);

  const FrontendOptions& options() const { return opts_; }
  FeatureKind kind() const { return kind_; }
  int frame_length() const { return frame_length_; }
  int frame_shift() const { return frame_shift_; }
  int fft_size() const { return fft_.size(); }
  int static_dim() const { return static_dim_; }
  int feature_dim() const { return static_dim_ * (1 + opts_.deltas); }
  long long NumFrames(long long num_samples) const {
    return edgeser::NumFrames(num_samples, frame_length_, frame_shift_);
  }
  const MelBanks& mel_banks() const { return mel_; }

  Workspace MakeWorkspace() const;

  // Static features of count <= kLanes frames; frame f is the frame_length() samples starting
  // at frames[f], and its static_dim() values go to out + f * out_stride.
  void ComputeFrames(const float* const* frames, int count, float* out, std::ptrdiff_t out_stride,
                     Workspace& ws) const;
  void ComputeFrames(const float* const* frames, int count, double* out, std::ptrdiff_t out_stride,
                     Workspace& ws) const;

  // Features of a whole signal of n samples, deltas and CMVN included:
  // out holds NumFrames(n) * feature_dim() floats, row-major.
  void Compute(const float* x, long long n, float* out, Workspace& ws) const;
  void Compute(const float* x, long long n, float* out) const;

  // Compute() of count signals on up to min(num_threads, count, kMaxBatchThreads) threads
  // (each signal on one thread).
  void ComputeBatch(const float* const* signals, const long long* lengths, float* const* outs,
                    int count, int num_threads) const;

 private:
  template <typename T>
  void ComputeFramesAs(const float* const* frames, int count, T* out, std::ptrdiff_t out_stride,
                       Workspace& ws) const;

  FrontendOptions opts_;
  FeatureKind kind_;
  int frame_length_;
  int frame_shift_;
  int static_dim_;
  int spectrum_bins_;  // bins the FFT must produce (all for spectrograms, the used ones for mel)
  bool fast_log_;      // the log floor is a normal double, so the vectorised log applies
  std::vector<double> window_;
  RealFft fft_;
  MelBanks mel_;
  std::vector<double> lifted_dct_;  // [n_mfcc][n_mels]
};

}  // namespace edgeser

#endif  // EDGESER_CSRC_FEATURE_COMPUTER_H_
