// Streaming features: push chunks of samples, get every frame that is complete.
//
// The concatenated output equals FeatureComputer::Compute on the concatenated input, bit for bit,
// whatever the chunking. Frames with deltas are emitted deltas * delta_window frames late (they
// need that much future context); Flush() ends the utterance and emits them with the last frame
// replicated, as offline. Memory is allocated once, at construction: pushing only copies into
// a sample buffer of up to frame_length + (kLanes - 1) * frame_shift samples and two small rings
// of static and delta frames. Per-utterance CMVN cannot stream and is rejected.
#ifndef EDGESER_CSRC_FRAME_STREAM_H_
#define EDGESER_CSRC_FRAME_STREAM_H_

#include <memory>
#include <vector>

#include "feature_computer.h"

namespace edgeser {

class FrameStream {
 public:
  explicit FrameStream(std::shared_ptr<const FeatureComputer> computer);

  int dim() const { return computer_->feature_dim(); }
  bool flushed() const { return flushed_; }
  long long samples_pushed() const { return samples_pushed_; }

  // Rows the next Push of num_samples samples returns (so callers can allocate the output).
  long long RowsAfterPush(long long num_samples) const;
  // Appends samples; writes the newly completed rows (RowsAfterPush(n) of them) to out as
  // [rows][dim()] floats and returns their number. Throws std::runtime_error after Flush().
  long long Push(const float* x, long long n, float* out);

  // Rows Flush() returns.
  long long RowsAtFlush() const;
  // Ends the utterance: writes the held-back rows; later Flush() calls write nothing.
  long long Flush(float* out);

 private:
  void AcceptStatic(const double* row, float* out, long long* rows);
  void ComputeDelta1(long long t, long long last);
  void EmitRow(long long t, long long last, float* out, long long* rows);
  const double* StaticAt(long long t) const;
  const double* Delta1At(long long t) const;

  std::shared_ptr<const FeatureComputer> computer_;
  FeatureComputer::Workspace ws_;
  int static_dim_, deltas_, window_, lookahead_;
  int frame_length_, frame_shift_;
  int block_frames_;            // frames computed together (kLanes, or 1 with gaps)
  std::vector<float> samples_;  // samples_[0] is the first sample of the next frame
  long long fill_ = 0;          // valid samples in samples_
  long long skip_ = 0;          // incoming samples to drop (gaps when frame_shift > frame_length)
  long long samples_pushed_ = 0;
  long long frames_ = 0;       // static frames computed
  long long delta1_done_ = 0;  // first-order deltas computed (deltas == 2 only)
  long long emitted_ = 0;      // rows emitted
  bool flushed_ = false;
  std::vector<double> block_;        // [kLanes][static_dim] statics of one block
  std::vector<double> static_ring_;  // [ring][static_dim]
  std::vector<double> delta1_ring_;  // [ring][static_dim]
  int static_ring_size_, delta1_ring_size_;
  std::vector<const double*> neighbours_;  // 2 * window + 1
  std::vector<double> delta_row_;          // scratch for one delta row
};

}  // namespace edgeser

#endif  // EDGESER_CSRC_FRAME_STREAM_H_
