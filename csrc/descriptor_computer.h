// Voice descriptors of whole signals, batch and streaming: frames a signal into analysis frames,
// runs the pitch, spectral and formant analyzers on blocks of kLanes frames and applies the F0
// octave-jump smoothing (two frames of look-ahead). Output: float32 [frames][kNumDescriptors],
// columns in DescriptorColumn order. Definitions: docs/voice-descriptors.md.
#ifndef EDGESER_CSRC_DESCRIPTOR_COMPUTER_H_
#define EDGESER_CSRC_DESCRIPTOR_COMPUTER_H_

#include <memory>
#include <vector>

#include "descriptor_options.h"
#include "formants.h"
#include "pitch.h"
#include "spectral.h"

namespace edgeser {

class DescriptorComputer {
 public:
  // Scratch memory and the spectral state of one signal; reuse it across calls of one thread.
  class Workspace {
   public:
    Workspace() = default;

   private:
    friend class DescriptorComputer;
    PitchAnalyzer::Workspace pitch_;
    SpectralAnalyzer::Workspace spectral_;
    FormantAnalyzer::Workspace formants_;
  };

  explicit DescriptorComputer(const DescriptorOptions& opts);

  const DescriptorOptions& options() const { return opts_; }
  int dim() const { return kNumDescriptors; }
  int frame_shift() const { return frame_shift_; }
  int analysis_length() const { return analysis_length_; }
  long long NumFrames(long long num_samples) const;
  Workspace MakeWorkspace() const;

  // Unsmoothed rows (kNumDescriptors doubles each) of count <= kLanes consecutive analysis
  // frames (analysis_length() samples at frames[f]), continuing the signal `ws` follows; call
  // StartSignal() before the first frame of each signal.
  void ComputeRawFrames(const float* const* frames, int count, double* rows, Workspace& ws) const;
  static void StartSignal(Workspace& ws);

  // The final row of a frame from its raw row and the raw F0 of frames i-2..i+2 (negative = no
  // such frame): F0 smoothed; jitter and shimmer 0 where the smoothing unvoiced the frame.
  static void FinishRow(const double* raw_row, const double f0_context[5], float* out);

  // Descriptors of a whole signal of n samples: out holds NumFrames(n) * dim() floats.
  void Compute(const float* x, long long n, float* out, Workspace& ws) const;
  void Compute(const float* x, long long n, float* out) const;

  void ComputeBatch(const float* const* signals, const long long* lengths, float* const* outs,
                    int count, int num_threads) const;

 private:
  DescriptorOptions opts_;
  int frame_shift_;
  int analysis_length_;
  int pitch_offset_;
  int spectral_offset_;
  PitchAnalyzer pitch_;
  SpectralAnalyzer spectral_;
  FormantAnalyzer formants_;
};

// Streaming descriptors: Push() returns the rows completed so far, Flush() the rest; their
// concatenation equals DescriptorComputer::Compute of the whole signal. Rows are emitted two
// frames late (the F0 smoothing looks two frames ahead).
class DescriptorStream {
 public:
  explicit DescriptorStream(std::shared_ptr<const DescriptorComputer> computer);

  int dim() const { return kNumDescriptors; }
  bool flushed() const { return flushed_; }
  // Rows the next Push of n samples / the Flush will write.
  long long RowsAfterPush(long long n) const;
  long long RowsAtFlush() const;
  // out holds RowsAfterPush(n) (RowsAtFlush()) * dim() floats.
  void Push(const float* x, long long n, float* out);
  void Flush(float* out);

 private:
  void EmitReady(long long upto, float*& out);  // rows [emitted_, upto)

  std::shared_ptr<const DescriptorComputer> computer_;
  DescriptorComputer::Workspace ws_;
  std::vector<float> pending_;  // samples from pending_start_ on
  long long pending_start_ = 0;
  long long total_samples_ = 0;
  long long next_frame_ = 0;  // frames computed (raw) so far
  long long emitted_ = 0;     // rows returned so far
  std::vector<double> raw_;   // raw rows of frames [raw_base_, next_frame_)
  long long raw_base_ = 0;
  bool flushed_ = false;
};

}  // namespace edgeser

#endif  // EDGESER_CSRC_DESCRIPTOR_COMPUTER_H_
