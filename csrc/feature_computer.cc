#include "feature_computer.h"

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <exception>
#include <initializer_list>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "dct.h"
#include "deltas.h"
#include "parallel_batch.h"
#include "simd_math.h"
#include "window.h"

namespace edgeser {
namespace {

constexpr int K = kLanes;

// ---- frame preparation: float samples -> windowed frames in lane layout -------------------------
struct PreparePlan {
  int length;
  const double* window;
  double preemphasis;
  bool remove_dc;
};

// samples[i * K + l] = sample i of frame l after DC removal, pre-emphasis and windowing.
// Lanes are handled W at a time: W x W blocks of samples are loaded row-wise (one frame per
// register), transposed in registers (one sample index per register) and processed in place.
// The C chunks of W lanes advance together, so each row of the output is written at once.
template <int W, int C>
EDGESER_INLINE void PrepareChunks(const PreparePlan& p, const float* const* frames, int count,
                                  double* samples) {
  using V = typename Simd<W>::V;
  const int n = p.length;
  const int full = n - n % W;
  const double c = p.preemphasis;
  const double* const window = p.window;
  const float* src[C][W];
  for (int q = 0; q < C; ++q) {
    for (int r = 0; r < W; ++r) {
      const int f = q * W + r;
      src[q][r] = frames[f < count ? f : 0];  // idle lanes repeat frame 0
    }
  }
  double lane[W];
  V mean[C], prev[C];
  for (int q = 0; q < C; ++q) {
    mean[q] = Simd<W>::Set(0.0);
    if (p.remove_dc) {
      for (int r = 0; r < W; ++r) {
        V acc = Simd<W>::Set(0.0);
        int i = 0;
        for (; i + W <= n; i += W) acc += Simd<W>::LoadFloats(src[q][r] + i);
        double part[W];
        Simd<W>::Store(part, acc);
        double sum = 0.0;
        for (int t = 0; t < W; ++t) sum += part[t];
        for (; i < n; ++i) sum += src[q][r][i];
        lane[r] = sum / n;
      }
      mean[q] = Simd<W>::Load(lane);
    }
    // y[i] = (d[i] - c d[i-1]) w[i] with d = x - mean and d[-1] = d[0], as the reference.
    for (int r = 0; r < W; ++r) lane[r] = src[q][r][0];
    prev[q] = Simd<W>::Load(lane) - mean[q];
  }
  int i = 0;
  for (; i < full; i += W) {
    for (int q = 0; q < C; ++q) {
      V v[W];
      for (int r = 0; r < W; ++r) v[r] = Simd<W>::LoadFloats(src[q][r] + i);
      Simd<W>::Transpose(v);
      for (int j = 0; j < W; ++j) {
        const V cur = v[j] - mean[q];
        Simd<W>::Store(samples + (i + j) * K + q * W, (cur - c * prev[q]) * window[i + j]);
        prev[q] = cur;
      }
    }
  }
  for (; i < n; ++i) {
    for (int q = 0; q < C; ++q) {
      for (int r = 0; r < W; ++r) lane[r] = src[q][r][i];
      const V cur = Simd<W>::Load(lane) - mean[q];
      Simd<W>::Store(samples + i * K + q * W, (cur - c * prev[q]) * window[i]);
      prev[q] = cur;
    }
  }
}

template <int W>
EDGESER_INLINE void PrepareFramesImpl(const PreparePlan& p, const float* const* frames, int count,
                                      double* samples) {
  constexpr int kChunks = K / W;
  switch ((count + W - 1) / W) {  // lanes of registers that hold any frame
    case 1:
      PrepareChunks<W, 1>(p, frames, count, samples);
      return;
    case 2:
      PrepareChunks<W, (kChunks < 2 ? kChunks : 2)>(p, frames, count, samples);
      return;
    case 3:
      PrepareChunks<W, (kChunks < 3 ? kChunks : 3)>(p, frames, count, samples);
      return;
    default:
      PrepareChunks<W, kChunks>(p, frames, count, samples);
      return;
  }
}

EDGESER_MULTIVERSIONED(PrepareFrames,
                       (const PreparePlan& p, const float* const* frames, int count,
                        double* samples),
                       (p, frames, count, samples))

// ---- spectrum -> mel -> log -> DCT -------------------------------------------------------------
struct CepstrumPlan {
  const MelBanks* mel;
  bool fast_log;
  bool decibels;
  double log_floor;
  const double* dct;  // [n_mfcc][n_mels], or null for log-mel output
  int n_mfcc;
};

// Sums over a filter or DCT row run with all of a block's lane chunks side by side (C chunks
// of W lanes, C known at compile time so the accumulators stay in registers), even and odd
// terms in separate accumulators: many independent dependency chains instead of two.
// mel[m] = max(sum_j w_mj spectrum[first_m + j], floor), lanes [0, C * W).
template <int W, int C>
EDGESER_INLINE void MelSums(const MelBanks& banks, const double* spectrum, double floor,
                            double* mel) {
  using V = typename Simd<W>::V;
  for (int m = 0; m < banks.num_banks(); ++m) {
    const double* w = banks.weights(m);
    const double* s = spectrum + banks.first_bin(m) * K;
    const int nw = banks.num_weights(m);
    V even[C], odd[C];
    for (int q = 0; q < C; ++q) even[q] = odd[q] = Simd<W>::Set(0.0);
    int j = 0;
    for (; j + 2 <= nw; j += 2) {
      const double w0 = w[j], w1 = w[j + 1];
      for (int q = 0; q < C; ++q) {
        even[q] += w0 * Simd<W>::Load(s + j * K + q * W);
        odd[q] += w1 * Simd<W>::Load(s + (j + 1) * K + q * W);
      }
    }
    if (j < nw) {
      for (int q = 0; q < C; ++q) even[q] += w[j] * Simd<W>::Load(s + j * K + q * W);
    }
    for (int q = 0; q < C; ++q)
      Simd<W>::Store(mel + m * K + q * W, Simd<W>::Max(even[q] + odd[q], floor));
  }
}

// cepstra[k] = sum_m dct[k][m] mel[m], lanes [0, C * W).
template <int W, int C>
EDGESER_INLINE void DctRows(const double* dct, int n_mfcc, int n_mels, const double* mel,
                            double* cepstra) {
  using V = typename Simd<W>::V;
  for (int k = 0; k < n_mfcc; ++k) {
    const double* row = dct + k * n_mels;
    V even[C], odd[C];
    for (int q = 0; q < C; ++q) even[q] = odd[q] = Simd<W>::Set(0.0);
    int m = 0;
    for (; m + 2 <= n_mels; m += 2) {
      const double r0 = row[m], r1 = row[m + 1];
      for (int q = 0; q < C; ++q) {
        even[q] += r0 * Simd<W>::Load(mel + m * K + q * W);
        odd[q] += r1 * Simd<W>::Load(mel + (m + 1) * K + q * W);
      }
    }
    if (m < n_mels) {
      for (int q = 0; q < C; ++q) even[q] += row[m] * Simd<W>::Load(mel + m * K + q * W);
    }
    for (int q = 0; q < C; ++q) Simd<W>::Store(cepstra + k * K + q * W, even[q] + odd[q]);
  }
}

template <int W, int C>
EDGESER_INLINE void CepstrumChunks(const CepstrumPlan& p, const double* spectrum, double* mel,
                                   double* cepstra) {
  using V = typename Simd<W>::V;
  const MelBanks& banks = *p.mel;
  const int n_mels = banks.num_banks();
  MelSums<W, C>(banks, spectrum, p.log_floor, mel);
  // The logs are independent of each other: one flat loop lets them overlap in the pipeline.
  const double scale = p.decibels ? 4.34294481903251827651 : 1.0;  // 10 / ln(10)
  for (int m = 0; m < n_mels; ++m) {
    for (int q = 0; q < C; ++q) {
      double* at = mel + m * K + q * W;
      const V e = Simd<W>::Load(at);
      V lg;
      if (p.fast_log) {
        lg = LogPositive<W>(e);
      } else {
        double tmp[W];
        Simd<W>::Store(tmp, e);
        for (int r = 0; r < W; ++r) tmp[r] = std::log(tmp[r]);
        lg = Simd<W>::Load(tmp);
      }
      Simd<W>::Store(at, p.decibels ? lg * scale : lg);
    }
  }
  if (p.dct) DctRows<W, C>(p.dct, p.n_mfcc, n_mels, mel, cepstra);
}

// mel[m] = log(max(sum_j w_mj spectrum[first_m + j], floor)); then cepstra = dct @ mel, for
// lanes [0, lanes) rounded up to whole registers.
template <int W>
EDGESER_INLINE void CepstrumImpl(const CepstrumPlan& p, const double* spectrum, double* mel,
                                 double* cepstra, int lanes) {
  constexpr int kChunks = K / W;
  switch ((lanes + W - 1) / W) {
    case 1:
      CepstrumChunks<W, 1>(p, spectrum, mel, cepstra);
      return;
    case 2:
      CepstrumChunks<W, (kChunks < 2 ? kChunks : 2)>(p, spectrum, mel, cepstra);
      return;
    case 3:
      CepstrumChunks<W, (kChunks < 3 ? kChunks : 3)>(p, spectrum, mel, cepstra);
      return;
    default:
      CepstrumChunks<W, kChunks>(p, spectrum, mel, cepstra);
      return;
  }
}

EDGESER_MULTIVERSIONED(Cepstrum,
                       (const CepstrumPlan& p, const double* spectrum, double* mel, double* cepstra,
                        int lanes),
                       (p, spectrum, mel, cepstra, lanes))

template <typename T>
void StoreRows(const double* lanes, int dim, int count, T* out, std::ptrdiff_t out_stride) {
  for (int f = 0; f < count; ++f) {
    T* row = out + f * out_stride;
    for (int d = 0; d < dim; ++d) row[d] = static_cast<T>(lanes[d * K + f]);
  }
}

}  // namespace

FeatureComputer::FeatureComputer(const FrontendOptions& opts, FeatureKind kind)
    : opts_((opts.Validate(), opts)),
      kind_(kind),
      frame_length_(opts.frame_length()),
      frame_shift_(opts.frame_shift()),
      static_dim_(opts.static_dim(kind)),
      window_(MakeWindow(opts)),
      fft_(opts.fft_size()),
      mel_(opts),
      lifted_dct_(LiftedDctMatrix(opts)) {
  spectrum_bins_ = kind == FeatureKind::kSpectrogram ? fft_.num_bins() : mel_.bins_used();
  fast_log_ = opts.log_floor >= DBL_MIN;
}

FeatureComputer::Workspace FeatureComputer::MakeWorkspace() const {
  Workspace ws;
  const std::size_t rows = static_cast<std::size_t>(std::max(frame_length_, fft_.num_bins()));
  // Scratch only: every stage writes what the next one reads, so no zero-filling per call.
  ws.samples_ = AlignedBuffer::Uninitialized(rows * K);
  ws.fft_ = AlignedBuffer::Uninitialized(fft_.workspace_size());
  ws.mel_ = AlignedBuffer::Uninitialized(static_cast<std::size_t>(opts_.n_mels) * K);
  ws.cepstra_ = AlignedBuffer::Uninitialized(static_cast<std::size_t>(opts_.n_mfcc) * K);
  return ws;
}

template <typename T>
void FeatureComputer::ComputeFramesAs(const float* const* frames, int count, T* out,
                                      std::ptrdiff_t out_stride, Workspace& ws) const {
  if (count < 1 || count > K) throw std::invalid_argument("ComputeFrames: count must be 1..8");
  if (ws.fft_.size() != fft_.workspace_size() || !ws.samples_.data())
    throw std::invalid_argument("ComputeFrames: workspace from another computer");
  const PreparePlan prep{frame_length_, window_.data(), opts_.preemphasis, opts_.remove_dc};
  PrepareFrames(prep, frames, count, ws.samples_.data());
  // The spectrum overwrites the prepared frames once the FFT has read them.
  double* spectrum = ws.samples_.data();
  const SpectrumOutput what =
      opts_.power == 1.0 ? SpectrumOutput::kMagnitude : SpectrumOutput::kPower;
  fft_.Forward(ws.samples_.data(), frame_length_, what, spectrum_bins_, spectrum, ws.fft_.data(),
               count);
  if (kind_ == FeatureKind::kSpectrogram) {
    StoreRows(spectrum, static_dim_, count, out, out_stride);
    return;
  }
  const bool mfcc = kind_ == FeatureKind::kMfcc;
  const CepstrumPlan plan{&mel_,
                          fast_log_,
                          opts_.log_type == LogType::kDb,
                          opts_.log_floor,
                          mfcc ? lifted_dct_.data() : nullptr,
                          opts_.n_mfcc};
  Cepstrum(plan, spectrum, ws.mel_.data(), ws.cepstra_.data(), count);
  StoreRows(mfcc ? ws.cepstra_.data() : ws.mel_.data(), static_dim_, count, out, out_stride);
}

void FeatureComputer::ComputeFrames(const float* const* frames, int count, float* out,
                                    std::ptrdiff_t out_stride, Workspace& ws) const {
  ComputeFramesAs(frames, count, out, out_stride, ws);
}

void FeatureComputer::ComputeFrames(const float* const* frames, int count, double* out,
                                    std::ptrdiff_t out_stride, Workspace& ws) const {
  ComputeFramesAs(frames, count, out, out_stride, ws);
}

void FeatureComputer::Compute(const float* x, long long n, float* out, Workspace& ws) const {
  const long long frames = NumFrames(n);
  if (frames <= 0) return;
  const float* starts[K];
  const bool post = opts_.deltas > 0 || opts_.cmvn != CmvnMode::kNone;
  const int dim = feature_dim();
  if (!post) {
    for (long long t0 = 0; t0 < frames; t0 += K) {
      const int count = static_cast<int>(std::min<long long>(K, frames - t0));
      for (int f = 0; f < count; ++f) starts[f] = x + (t0 + f) * frame_shift_;
      ComputeFrames(starts, count, out + t0 * dim, dim, ws);
    }
    return;
  }
  std::vector<double> feats(static_cast<std::size_t>(frames) * dim);
  for (long long t0 = 0; t0 < frames; t0 += K) {
    const int count = static_cast<int>(std::min<long long>(K, frames - t0));
    for (int f = 0; f < count; ++f) starts[f] = x + (t0 + f) * frame_shift_;
    ComputeFrames(starts, count, feats.data() + t0 * dim, dim, ws);
  }
  AddDeltas(feats.data(), frames, static_dim_, opts_.deltas, opts_.delta_window);
  ApplyCmvn(feats.data(), frames, dim, opts_.cmvn);
  for (std::size_t i = 0; i < feats.size(); ++i) out[i] = static_cast<float>(feats[i]);
}

void FeatureComputer::Compute(const float* x, long long n, float* out) const {
  Workspace ws = MakeWorkspace();
  Compute(x, n, out, ws);
}

void FeatureComputer::ComputeBatch(const float* const* signals, const long long* lengths,
                                   float* const* outs, int count, int num_threads) const {
  RunParallelBatch(
      count, num_threads, [this] { return MakeWorkspace(); },
      [&](int i, Workspace& ws) { Compute(signals[i], lengths[i], outs[i], ws); });
}

}  // namespace edgeser
