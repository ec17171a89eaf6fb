#include "descriptor_computer.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "frontend_options.h"
#include "parallel_batch.h"

namespace edgeser {

DescriptorComputer::DescriptorComputer(const DescriptorOptions& opts)
    : opts_(opts),
      frame_shift_(opts.frame_shift()),
      analysis_length_(opts.analysis_length()),
      pitch_offset_(opts.pitch_offset()),
      spectral_offset_(opts.spectral_offset()),
      pitch_(opts),
      spectral_(opts),
      formants_(opts) {}

long long DescriptorComputer::NumFrames(long long num_samples) const {
  return edgeser::NumFrames(num_samples, analysis_length_, frame_shift_);
}

DescriptorComputer::Workspace DescriptorComputer::MakeWorkspace() const {
  Workspace ws;
  ws.pitch_ = pitch_.MakeWorkspace();
  ws.spectral_ = spectral_.MakeWorkspace();
  ws.formants_ = formants_.MakeWorkspace();
  return ws;
}

void DescriptorComputer::StartSignal(Workspace& ws) { SpectralAnalyzer::Reset(ws.spectral_); }

void DescriptorComputer::ComputeRawFrames(const float* const* frames, int count, double* rows,
                                          Workspace& ws) const {
  if (count < 0 || count > kLanes) throw std::invalid_argument("count must be in [0, kLanes]");
  if (count == 0) return;
  const float* pitch_windows[kLanes] = {};
  const float* spectral_windows[kLanes] = {};
  for (int f = 0; f < count; ++f) {
    pitch_windows[f] = frames[f] + pitch_offset_;
    spectral_windows[f] = frames[f] + spectral_offset_;
  }
  PitchFrame pitch[kLanes];
  SpectralFrame spectral[kLanes];
  FormantFrame formants[kLanes];
  pitch_.Analyze(pitch_windows, count, pitch, ws.pitch_);
  spectral_.Analyze(spectral_windows, count, spectral, ws.spectral_);
  // Formants only where the pitch found voicing (they are 0 elsewhere): the LPC roots are a
  // third of the cost of a frame, and unvoiced frames have no formant structure to measure.
  const float* voiced_windows[kLanes] = {};
  int voiced_index[kLanes] = {};
  int voiced = 0;
  for (int f = 0; f < count; ++f) {
    formants[f] = FormantFrame{};
    if (pitch[f].f0_hz > 0.0) {
      voiced_index[voiced] = f;
      voiced_windows[voiced++] = spectral_windows[f];
    }
  }
  if (voiced > 0) {
    FormantFrame found[kLanes];
    formants_.Analyze(voiced_windows, voiced, found, ws.formants_);
    for (int v = 0; v < voiced; ++v) formants[voiced_index[v]] = found[v];
  }
  for (int f = 0; f < count; ++f) {
    double* r = rows + static_cast<std::ptrdiff_t>(f) * kNumDescriptors;
    r[kF0Hz] = pitch[f].f0_hz;
    r[kVoicing] = pitch[f].voicing;
    r[kHnrDb] = pitch[f].hnr_db;
    r[kJitterLocal] = pitch[f].jitter_local;
    r[kShimmerLocalDb] = pitch[f].shimmer_local_db;
    const SpectralFrame& s = spectral[f];
    r[kLoudness] = s.loudness;
    r[kEnergyDb] = s.energy_db;
    r[kAlphaRatioDb] = s.alpha_ratio_db;
    r[kHammarbergDb] = s.hammarberg_db;
    r[kSlope0To500] = s.slope_0_500;
    r[kSlope500To1500] = s.slope_500_1500;
    for (int k = 0; k < 3; ++k) {
      r[kF1Hz + 2 * k] = formants[f].freq_hz[k];
      r[kF1BwHz + 2 * k] = formants[f].bw_hz[k];
    }
    r[kSpectralFlux] = s.spectral_flux;
    r[kSpectralCentroidHz] = s.spectral_centroid_hz;
    r[kSpectralRolloffHz] = s.spectral_rolloff_hz;
    r[kSpectralEntropy] = s.spectral_entropy;
    r[kZcr] = s.zcr;
  }
}

void DescriptorComputer::FinishRow(const double* raw_row, const double f0_context[5], float* out) {
  for (int c = 0; c < kNumDescriptors; ++c) out[c] = static_cast<float>(raw_row[c]);
  const double f0 = SmoothF0(f0_context);
  out[kF0Hz] = static_cast<float>(f0);
  if (f0 <= 0.0 && raw_row[kF0Hz] > 0.0) {  // unvoiced by the smoothing
    out[kJitterLocal] = 0.0f;
    out[kShimmerLocalDb] = 0.0f;
    for (int c = kF1Hz; c <= kF3BwHz; ++c) out[c] = 0.0f;
  }
}

namespace {
// The raw F0 of frames i-2..i+2 from raw rows [0, n) (negative where there is no frame).
void F0Context(const double* rows, long long first_row, long long n, long long i, double ctx[5]) {
  for (int d = -2; d <= 2; ++d) {
    const long long j = i + d;
    ctx[d + 2] = (j < first_row || j >= n) ? -1.0 : rows[(j - first_row) * kNumDescriptors + kF0Hz];
  }
}
}  // namespace

void DescriptorComputer::Compute(const float* x, long long n, float* out, Workspace& ws) const {
  const long long frames = NumFrames(n);
  if (frames == 0) return;
  std::vector<double> raw(static_cast<std::size_t>(frames) * kNumDescriptors);
  StartSignal(ws);
  const float* starts[kLanes];
  for (long long first = 0; first < frames; first += kLanes) {
    const int count = static_cast<int>(std::min<long long>(kLanes, frames - first));
    for (int f = 0; f < count; ++f) starts[f] = x + (first + f) * frame_shift_;
    ComputeRawFrames(starts, count, raw.data() + first * kNumDescriptors, ws);
  }
  double ctx[5];
  for (long long i = 0; i < frames; ++i) {
    F0Context(raw.data(), 0, frames, i, ctx);
    FinishRow(raw.data() + i * kNumDescriptors, ctx, out + i * kNumDescriptors);
  }
}

void DescriptorComputer::Compute(const float* x, long long n, float* out) const {
  Workspace ws = MakeWorkspace();
  Compute(x, n, out, ws);
}

void DescriptorComputer::ComputeBatch(const float* const* signals, const long long* lengths,
                                      float* const* outs, int count, int num_threads) const {
  RunParallelBatch(
      count, num_threads, [this] { return MakeWorkspace(); },
      [&](int i, Workspace& ws) { Compute(signals[i], lengths[i], outs[i], ws); });
}

// ---- streaming -------------------------------------------------------------------------------

DescriptorStream::DescriptorStream(std::shared_ptr<const DescriptorComputer> computer)
    : computer_(std::move(computer)) {
  if (!computer_) throw std::invalid_argument("DescriptorStream needs a computer");
  ws_ = computer_->MakeWorkspace();
  DescriptorComputer::StartSignal(ws_);
}

long long DescriptorStream::RowsAfterPush(long long n) const {
  if (flushed_ || n < 0) return 0;
  const long long frames = computer_->NumFrames(total_samples_ + n);
  return std::max<long long>(0, frames - 2 - emitted_);
}

long long DescriptorStream::RowsAtFlush() const {
  if (flushed_) return 0;
  return computer_->NumFrames(total_samples_) - emitted_;
}

void DescriptorStream::EmitReady(long long upto, float*& out) {
  double ctx[5];
  for (; emitted_ < upto; ++emitted_) {
    F0Context(raw_.data(), raw_base_, next_frame_, emitted_, ctx);
    DescriptorComputer::FinishRow(raw_.data() + (emitted_ - raw_base_) * kNumDescriptors, ctx, out);
    out += kNumDescriptors;
  }
  // Keep the two frames before the next row to emit (its F0 context) and everything after.
  const long long keep_from = std::max<long long>(raw_base_, emitted_ - 2);
  if (keep_from > raw_base_) {
    raw_.erase(raw_.begin(), raw_.begin() + (keep_from - raw_base_) * kNumDescriptors);
    raw_base_ = keep_from;
  }
}

void DescriptorStream::Push(const float* x, long long n, float* out) {
  if (flushed_) throw std::runtime_error("stream already flushed; create a new stream");
  if (n < 0) throw std::invalid_argument("negative chunk length");
  const long long rows = RowsAfterPush(n);
  pending_.insert(pending_.end(), x, x + n);
  total_samples_ += n;
  const long long frames = computer_->NumFrames(total_samples_);
  const long long shift = computer_->frame_shift();
  // pending_[0] is sample pending_start_ of the signal (<= the start of frame next_frame_).
  const float* starts[kLanes];
  while (next_frame_ < frames) {
    const int count = static_cast<int>(std::min<long long>(kLanes, frames - next_frame_));
    for (int f = 0; f < count; ++f)
      starts[f] = pending_.data() + ((next_frame_ + f) * shift - pending_start_);
    const std::size_t old = raw_.size();
    raw_.resize(old + static_cast<std::size_t>(count) * kNumDescriptors);
    computer_->ComputeRawFrames(starts, count, raw_.data() + old, ws_);
    next_frame_ += count;
  }
  // Drop the samples before the next frame's start (all of them when it lies beyond them).
  const long long drop = std::min<long long>(next_frame_ * shift - pending_start_,
                                             static_cast<long long>(pending_.size()));
  pending_.erase(pending_.begin(), pending_.begin() + drop);
  pending_start_ += drop;
  EmitReady(emitted_ + rows, out);
}

void DescriptorStream::Flush(float* out) {
  if (flushed_) return;
  EmitReady(next_frame_, out);
  flushed_ = true;
  pending_.clear();
  raw_.clear();
}

}  // namespace edgeser
