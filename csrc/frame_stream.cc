#include "frame_stream.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "deltas.h"

namespace edgeser {

FrameStream::FrameStream(std::shared_ptr<const FeatureComputer> computer)
    : computer_(std::move(computer)) {
  if (!computer_) throw std::invalid_argument("FrameStream needs a FeatureComputer");
  const FrontendOptions& opts = computer_->options();
  if (opts.cmvn != CmvnMode::kNone)
    throw std::invalid_argument(
        "streaming cannot apply per-utterance CMVN (cmvn must be 'none'); normalise with fixed "
        "statistics after streaming instead");
  ws_ = computer_->MakeWorkspace();
  static_dim_ = computer_->static_dim();
  deltas_ = opts.deltas;
  window_ = opts.delta_window;
  lookahead_ = deltas_ * window_;
  frame_length_ = computer_->frame_length();
  frame_shift_ = computer_->frame_shift();
  // Room for a whole block of frames; with gaps between frames (shift > length) one frame.
  block_frames_ = frame_shift_ <= frame_length_ ? kLanes : 1;
  samples_.resize(static_cast<std::size_t>(frame_length_) +
                  static_cast<std::size_t>(block_frames_ - 1) * frame_shift_);
  block_.resize(static_cast<std::size_t>(kLanes) * static_dim_);
  // Statics back to t - 2W are read while computing delta t - W; first-order deltas back to
  // t - 3W while emitting at flush. One extra slot keeps the newest from overwriting those.
  static_ring_size_ = 2 * window_ + 2;
  delta1_ring_size_ = 3 * window_ + 2;
  static_ring_.resize(static_cast<std::size_t>(static_ring_size_) * static_dim_);
  if (deltas_ == 2) delta1_ring_.resize(static_cast<std::size_t>(delta1_ring_size_) * static_dim_);
  neighbours_.resize(2 * window_ + 1);
  delta_row_.resize(static_dim_);
}

long long FrameStream::RowsAfterPush(long long num_samples) const {
  if (flushed_ || num_samples < 0) return 0;
  const long long frames = computer_->NumFrames(samples_pushed_ + num_samples);
  return std::max(0LL, frames - lookahead_) - emitted_;
}

long long FrameStream::RowsAtFlush() const { return flushed_ ? 0 : frames_ - emitted_; }

const double* FrameStream::StaticAt(long long t) const {
  return static_ring_.data() + (t % static_ring_size_) * static_dim_;
}

const double* FrameStream::Delta1At(long long t) const {
  return delta1_ring_.data() + (t % delta1_ring_size_) * static_dim_;
}

// First-order delta of frame t from statics clamped to [0, last].
void FrameStream::ComputeDelta1(long long t, long long last) {
  for (int n = -window_; n <= window_; ++n)
    neighbours_[window_ + n] = StaticAt(std::min(std::max(t + n, 0LL), last));
  double* dst = delta1_ring_.data() + (t % delta1_ring_size_) * static_dim_;
  DeltaFrame(neighbours_.data(), static_dim_, window_, dst);
}

// Row t = [static, delta, delta-delta] with neighbours clamped to [0, last].
void FrameStream::EmitRow(long long t, long long last, float* out, long long* rows) {
  float* row = out + *rows * dim();
  const double* s = StaticAt(t);
  for (int d = 0; d < static_dim_; ++d) row[d] = static_cast<float>(s[d]);
  if (deltas_ >= 1) {
    const double* d1;
    if (deltas_ == 1) {
      for (int n = -window_; n <= window_; ++n)
        neighbours_[window_ + n] = StaticAt(std::min(std::max(t + n, 0LL), last));
      DeltaFrame(neighbours_.data(), static_dim_, window_, delta_row_.data());
      d1 = delta_row_.data();
    } else {
      d1 = Delta1At(t);
    }
    for (int d = 0; d < static_dim_; ++d) row[static_dim_ + d] = static_cast<float>(d1[d]);
  }
  if (deltas_ == 2) {
    for (int n = -window_; n <= window_; ++n)
      neighbours_[window_ + n] = Delta1At(std::min(std::max(t + n, 0LL), last));
    DeltaFrame(neighbours_.data(), static_dim_, window_, delta_row_.data());
    for (int d = 0; d < static_dim_; ++d)
      row[2 * static_dim_ + d] = static_cast<float>(delta_row_[d]);
  }
  ++*rows;
  ++emitted_;
}

// Stores static frame u = frames_ and emits whatever it completes (no right edge yet).
void FrameStream::AcceptStatic(const double* row, float* out, long long* rows) {
  const long long u = frames_++;
  std::memcpy(static_ring_.data() + (u % static_ring_size_) * static_dim_, row,
              sizeof(double) * static_dim_);
  if (deltas_ == 2) {
    const long long t1 = u - window_;  // its statics up to t1 + W = u exist now
    if (t1 >= 0) {
      ComputeDelta1(t1, u);
      delta1_done_ = t1 + 1;
    }
  }
  const long long t = u - lookahead_;
  if (t >= 0) EmitRow(t, u, out, rows);
}

long long FrameStream::Push(const float* x, long long n, float* out) {
  if (flushed_) throw std::runtime_error("stream already flushed; create a new FrameStream");
  if (n < 0) throw std::invalid_argument("FrameStream::Push: negative sample count");
  samples_pushed_ += n;
  long long rows = 0;
  const long long capacity = static_cast<long long>(samples_.size());
  while (n > 0) {
    if (skip_ > 0) {
      const long long s = std::min(skip_, n);
      x += s;
      n -= s;
      skip_ -= s;
      continue;
    }
    const long long take = std::min(n, capacity - fill_);
    std::memcpy(samples_.data() + fill_, x, sizeof(float) * static_cast<std::size_t>(take));
    fill_ += take;
    x += take;
    n -= take;
    if (fill_ < frame_length_) continue;
    const long long ready = 1 + (fill_ - frame_length_) / frame_shift_;
    const int count = static_cast<int>(std::min<long long>(block_frames_, ready));
    const float* starts[kLanes];
    for (int f = 0; f < count; ++f) starts[f] = samples_.data() + f * frame_shift_;
    computer_->ComputeFrames(starts, count, block_.data(), static_dim_, ws_);
    for (int f = 0; f < count; ++f) AcceptStatic(block_.data() + f * static_dim_, out, &rows);
    const long long advance = static_cast<long long>(count) * frame_shift_;
    if (advance <= fill_) {
      std::memmove(samples_.data(), samples_.data() + advance,
                   sizeof(float) * static_cast<std::size_t>(fill_ - advance));
      fill_ -= advance;
    } else {
      skip_ = advance - fill_;
      fill_ = 0;
    }
  }
  return rows;
}

long long FrameStream::Flush(float* out) {
  if (flushed_) return 0;
  flushed_ = true;
  long long rows = 0;
  const long long last = frames_ - 1;
  if (deltas_ == 2) {
    for (long long t = delta1_done_; t < frames_; ++t) ComputeDelta1(t, last);
    delta1_done_ = frames_;
  }
  while (emitted_ < frames_) EmitRow(emitted_, last, out, &rows);
  return rows;
}

}  // namespace edgeser
