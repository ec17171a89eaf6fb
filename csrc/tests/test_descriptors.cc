// DescriptorComputer / DescriptorStream: whole signals, exact streaming, batches, options.
#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "descriptor_computer.h"
#include "test_runner.h"
#include "test_util.h"

namespace {

using edgeser::DescriptorComputer;
using edgeser::DescriptorOptions;
using edgeser::DescriptorStream;
using edgeser::kNumDescriptors;

// A vowel-like signal with a gliding F0 and pauses (so frames go voiced and unvoiced).
std::vector<float> Voiced(int n, double f0, std::uint64_t seed) {
  edgeser_test::Rng rng(seed);
  std::vector<float> x(n);
  double phase = 0.0;
  for (int i = 0; i < n; ++i) {
    const double t = i / 16000.0;
    phase += 2 * M_PI * f0 * (1 + 0.1 * std::sin(2 * M_PI * 0.8 * t)) / 16000.0;
    double v = 0.0;
    for (int k = 1; k <= 12; ++k) v += std::pow(0.7, k) * std::sin(k * phase);
    const double env = std::max(0.0, std::sin(2 * M_PI * 2.0 * t));
    x[i] = static_cast<float>(0.3 * v * env + 0.002 * rng.Normal());
  }
  return x;
}

std::vector<float> Offline(const DescriptorComputer& c, const std::vector<float>& x) {
  std::vector<float> out(static_cast<std::size_t>(c.NumFrames(x.size())) * kNumDescriptors);
  c.Compute(x.data(), static_cast<long long>(x.size()), out.data());
  return out;
}

EDGESER_TEST(descriptors, whole_signal_is_finite_and_voiced_where_it_should_be) {
  const DescriptorComputer c{DescriptorOptions{}};
  const std::vector<float> x = Voiced(24000, 150.0, 1);
  const std::vector<float> out = Offline(c, x);
  CHECK(c.NumFrames(x.size()) == 1 + (24000 - 800) / 160);
  int voiced = 0;
  for (std::size_t i = 0; i < out.size(); ++i) CHECK(std::isfinite(out[i]));
  for (long long f = 0; f < c.NumFrames(x.size()); ++f) {
    const float f0 = out[f * kNumDescriptors + edgeser::kF0Hz];
    if (f0 > 0) {
      ++voiced;
      CHECK_MSG(f0 > 100 && f0 < 220, "frame ", f, " f0 ", f0);
    }
  }
  CHECK(voiced > 30);  // the envelope is up half of the time
}

EDGESER_TEST(descriptors, stream_equals_offline_for_any_chunking) {
  for (double shift_ms : {10.0, 80.0}) {
    DescriptorOptions opts;
    opts.frame_shift_ms = shift_ms;
    auto c = std::make_shared<const DescriptorComputer>(opts);
    const std::vector<float> x = Voiced(20000, 130.0, 2);
    const std::vector<float> want = Offline(*c, x);
    edgeser_test::Rng rng(3);
    for (int trial = 0; trial < 4; ++trial) {
      DescriptorStream s(c);
      std::vector<float> got;
      std::size_t pos = 0;
      while (pos < x.size()) {
        const long long n = std::min<long long>(rng.Int(0, 3000), x.size() - pos);
        std::vector<float> part(static_cast<std::size_t>(s.RowsAfterPush(n)) * kNumDescriptors);
        s.Push(x.data() + pos, n, part.data());
        got.insert(got.end(), part.begin(), part.end());
        pos += n;
      }
      std::vector<float> tail(static_cast<std::size_t>(s.RowsAtFlush()) * kNumDescriptors);
      s.Flush(tail.data());
      got.insert(got.end(), tail.begin(), tail.end());
      CHECK(edgeser_test::SameBits(got, want));
      CHECK(s.flushed() && s.RowsAtFlush() == 0);
    }
  }
}

EDGESER_TEST(descriptors, batch_equals_single_calls) {
  const DescriptorComputer c{DescriptorOptions{}};
  std::vector<std::vector<float>> xs;
  for (int i = 0; i < 5; ++i) xs.push_back(Voiced(3000 + 2500 * i, 110.0 + 30 * i, 10 + i));
  xs.push_back(std::vector<float>(100, 0.0f));  // no frames
  std::vector<const float*> data;
  std::vector<long long> lengths;
  std::vector<std::vector<float>> outs;
  std::vector<float*> out_ptrs;
  for (const auto& x : xs) {
    data.push_back(x.data());
    lengths.push_back(static_cast<long long>(x.size()));
    outs.emplace_back(static_cast<std::size_t>(c.NumFrames(x.size())) * kNumDescriptors);
  }
  for (auto& o : outs) out_ptrs.push_back(o.data());
  c.ComputeBatch(data.data(), lengths.data(), out_ptrs.data(), static_cast<int>(xs.size()), 3);
  for (std::size_t i = 0; i < xs.size(); ++i)
    CHECK(edgeser_test::SameBits(outs[i], Offline(c, xs[i])));
}

EDGESER_TEST(descriptors, options_refuse_what_the_code_cannot_compute) {
  DescriptorOptions o;
  o.f0_min_hz = 30.0;  // two periods of 30 Hz do not fit the 50 ms pitch window
  CHECK_THROWS(o.Validate(), std::invalid_argument, "pitch_window_ms");
  o = DescriptorOptions{};
  o.frame_shift_ms = 0.01;
  CHECK_THROWS(DescriptorComputer{o}, std::invalid_argument, "frame_shift_ms");
  o = DescriptorOptions{};
  o.lpc_order = 1000;
  CHECK_THROWS(o.Validate(), std::invalid_argument, "lpc_order");
  o = DescriptorOptions{};
  o.f0_max_hz = NAN;
  CHECK_THROWS(o.Validate(), std::invalid_argument, "f0_max_hz");
  o = DescriptorOptions{};
  o.sample_rate = 0;
  CHECK_THROWS(o.num_frames(100), std::invalid_argument, "sample_rate");
}

}  // namespace
