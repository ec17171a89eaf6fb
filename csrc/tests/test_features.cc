// FeatureComputer and FrameStream: whole-signal features against the naive reference, batch ==
// one by one, stream == offline bit for bit for any chunking, and their refusals.
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "feature_computer.h"
#include "frame_stream.h"
#include "test_runner.h"
#include "test_util.h"

namespace {

using edgeser::FeatureComputer;
using edgeser::FeatureKind;
using edgeser::FrameStream;
using edgeser::FrontendOptions;
using edgeser_test::Compute;

const FeatureKind kKinds[] = {FeatureKind::kSpectrogram, FeatureKind::kLogMel, FeatureKind::kMfcc};

std::vector<FrontendOptions> Configs() {
  std::vector<FrontendOptions> out(8);
  out[1].window = edgeser::WindowType::kHann;
  out[1].log_type = edgeser::LogType::kDb;
  out[2].window = edgeser::WindowType::kPovey;
  out[2].remove_dc = true;
  out[2].triangle_domain = edgeser::TriangleDomain::kMel;
  out[2].log_floor = 1.1920928955078125e-07;
  out[2].n_mels = 23;
  out[2].lifter = 22.0;
  out[3].n_fft = 401;  // Bluestein
  out[3].frame_length_ms = 25.0625;
  out[3].power = 1.0;
  out[4].mel_scale = edgeser::MelScale::kSlaney;
  out[4].mel_norm = edgeser::MelNorm::kSlaney;
  out[4].vtlp_alpha = 1.1;
  out[4].vtlp_high_hz = 6000.0;
  out[5].sample_rate = 8000;
  out[5].frame_length_ms = 10.0;
  out[5].frame_shift_ms = 25.0;  // gaps between frames
  out[5].n_mels = 20;
  out[6].sample_rate = 48000;
  out[6].n_fft = 1200;
  out[6].n_mels = 64;
  out[7].preemphasis = 0.0;
  out[7].fmin = 300.0;
  out[7].fmax = -1000.0;
  return out;
}

EDGESER_TEST(features, match_the_naive_reference) {
  int shape = 0;
  for (const FrontendOptions& o : Configs()) {
    for (int s = 0; s < 3; ++s, ++shape) {
      const std::vector<float> x = edgeser_test::Signal(shape, 4000, shape);
      const auto ref = edgeser_test::ReferenceFeatures(o, x.data(), 4000, 12);
      const std::string diff = edgeser_test::CompareWithReference(
          o, ref, Compute(o, FeatureKind::kSpectrogram, x), Compute(o, FeatureKind::kLogMel, x),
          Compute(o, FeatureKind::kMfcc, x));
      CHECK_MSG(diff.empty(), diff, " (", edgeser_test::Describe(o), ", shape ", shape, ")");
    }
  }
}

EDGESER_TEST(features, shapes_and_short_signals) {
  FrontendOptions o;
  o.deltas = 2;
  for (FeatureKind kind : kKinds) {
    const FeatureComputer c(o, kind);
    CHECK(c.feature_dim() == o.feature_dim(kind));
    CHECK(c.NumFrames(399) == 0 && c.NumFrames(400) == 1 && c.NumFrames(16000) == 98);
    std::vector<float> out(8, -1.0f);
    const std::vector<float> x(399, 0.5f);
    c.Compute(x.data(), 399, out.data());  // zero frames: nothing written
    for (float v : out) CHECK(v == -1.0f);
  }
}

EDGESER_TEST(features, frames_in_any_block_equal_the_whole_signal) {
  FrontendOptions o;
  const FeatureComputer c(o, FeatureKind::kMfcc);
  const std::vector<float> x = edgeser_test::Noise(16000, 1);
  std::vector<float> whole(static_cast<std::size_t>(c.NumFrames(16000)) * 13);
  c.Compute(x.data(), 16000, whole.data());
  FeatureComputer::Workspace ws = c.MakeWorkspace();
  for (int count = 1; count <= edgeser::kLanes; ++count) {  // partial blocks, any lane
    for (int start = 0; start + count <= 98; start += 13) {
      const float* frames[edgeser::kLanes];
      for (int f = 0; f < count; ++f) frames[f] = x.data() + (start + f) * 160;
      std::vector<float> got(static_cast<std::size_t>(count) * 13);
      c.ComputeFrames(frames, count, got.data(), 13, ws);
      CHECK_MSG(!std::memcmp(got.data(), whole.data() + start * 13, got.size() * sizeof(float)),
                "count ", count, " start ", start);
    }
  }
  const float* none[1] = {x.data()};
  std::vector<float> out(13);
  CHECK_THROWS(c.ComputeFrames(none, 0, out.data(), 13, ws), std::invalid_argument, "count");
  FeatureComputer::Workspace empty;
  CHECK_THROWS(c.ComputeFrames(none, 1, out.data(), 13, empty), std::invalid_argument, "workspace");
}

EDGESER_TEST(features, batch_equals_one_by_one) {
  FrontendOptions o;
  o.deltas = 1;
  o.cmvn = edgeser::CmvnMode::kMean;
  const FeatureComputer c(o, FeatureKind::kMfcc);
  const int lengths_in[] = {16000, 0, 399, 400, 3210, 48000, 777};
  std::vector<std::vector<float>> signals, want, got;
  for (int i = 0; i < 7; ++i) {
    signals.push_back(edgeser_test::Noise(lengths_in[i], i));
    want.push_back(Compute(o, FeatureKind::kMfcc, signals.back()));
  }
  for (int threads : {1, 2, 3, 16, 1000000}) {
    std::vector<const float*> data;
    std::vector<long long> lengths;
    std::vector<float*> outs;
    got.assign(7, {});
    for (int i = 0; i < 7; ++i) {
      got[i].resize(want[i].size());
      data.push_back(signals[i].data());
      lengths.push_back(static_cast<long long>(signals[i].size()));
      outs.push_back(got[i].data());
    }
    c.ComputeBatch(data.data(), lengths.data(), outs.data(), 7, threads);
    for (int i = 0; i < 7; ++i) CHECK_MSG(got[i] == want[i], "signal ", i, " threads ", threads);
  }
  c.ComputeBatch(nullptr, nullptr, nullptr, 0, 4);  // nothing to do
}

// The concatenated rows of a stream fed `chunks` equal the offline features, bit for bit.
void CheckStream(const FrontendOptions& o, FeatureKind kind, const std::vector<float>& x,
                 edgeser_test::Rng& rng) {
  auto computer = std::make_shared<const FeatureComputer>(o, kind);
  const std::vector<float> want = Compute(o, kind, x);
  FrameStream stream(computer);
  std::vector<float> got;
  const int sizes[] = {0, 1, 7, 159, 160, 161, 400, 1000, 5000};
  std::size_t pos = 0;
  while (pos < x.size()) {
    const std::size_t size = std::min<std::size_t>(sizes[rng.Int(0, 8)], x.size() - pos);
    const long long rows = stream.RowsAfterPush(static_cast<long long>(size));
    std::vector<float> out(static_cast<std::size_t>(rows) * stream.dim());
    CHECK(stream.Push(x.data() + pos, static_cast<long long>(size), out.data()) == rows);
    got.insert(got.end(), out.begin(), out.end());
    pos += size;
  }
  const long long held = stream.RowsAtFlush();
  std::vector<float> tail(static_cast<std::size_t>(held) * stream.dim());
  CHECK(stream.Flush(tail.data()) == held);
  got.insert(got.end(), tail.begin(), tail.end());
  CHECK_MSG(got.size() == want.size(), got.size(), " values streamed, ", want.size(), " offline");
  CHECK_MSG(edgeser_test::SameBits(got, want), "stream differs from offline (",
            edgeser_test::Describe(o), ")");
  CHECK(stream.flushed() && stream.RowsAtFlush() == 0);
  float dummy[1];
  CHECK(stream.Flush(dummy) == 0);
  CHECK_THROWS(stream.Push(x.data(), 1, dummy), std::runtime_error, "flushed");
}

EDGESER_TEST(stream, equals_offline_for_random_chunkings) {
  edgeser_test::Rng rng(21);
  std::vector<FrontendOptions> configs = Configs();
  for (int deltas = 0; deltas <= 2; ++deltas) {
    for (int window : {1, 2, 4}) {
      FrontendOptions o;
      o.deltas = deltas;
      o.delta_window = window;
      configs.push_back(o);
    }
  }
  configs[5].deltas = 1;  // gaps between frames, with deltas
  for (const FrontendOptions& o : configs) {
    for (FeatureKind kind : kKinds) {
      for (int trial = 0; trial < 3; ++trial) {
        const int n = rng.Int(0, 9000);
        CheckStream(o, kind, edgeser_test::Signal(trial, n, trial), rng);
      }
    }
  }
}

EDGESER_TEST(stream, delays_rows_by_the_delta_context_and_refuses_cmvn) {
  FrontendOptions o;
  o.deltas = 2;
  auto c = std::make_shared<const FeatureComputer>(o, FeatureKind::kMfcc);
  FrameStream stream(c);
  const std::vector<float> x = edgeser_test::Noise(400 + 160 * 9, 2);  // 10 frames
  CHECK(stream.RowsAfterPush(static_cast<long long>(x.size())) == 10 - 4);
  std::vector<float> out(10 * 39);
  CHECK(stream.Push(x.data(), static_cast<long long>(x.size()), out.data()) == 6);
  CHECK(stream.RowsAtFlush() == 4);
  CHECK(stream.Flush(out.data()) == 4);
  CHECK_THROWS(stream.Push(x.data(), -1, out.data()), std::runtime_error, "flushed");
  FrameStream fresh(c);
  CHECK_THROWS(fresh.Push(x.data(), -1, out.data()), std::invalid_argument, "negative");
  o.deltas = 0;
  o.cmvn = edgeser::CmvnMode::kMeanVar;
  CHECK_THROWS(FrameStream(std::make_shared<const FeatureComputer>(o, FeatureKind::kMfcc)),
               std::invalid_argument, "CMVN");
  CHECK_THROWS(FrameStream(nullptr), std::invalid_argument, "FeatureComputer");
}

}  // namespace
