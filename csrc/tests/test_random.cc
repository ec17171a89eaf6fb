// Randomized: random valid configurations and random signals (noise, tones, impulses, DC,
// silence, int16 scale, values near float32's limits, subnormals) through every kind, the
// batch, the stream and every SIMD path. No crash (the sanitizer build turns any memory error
// or undefined behaviour into a failure), finite log features, the right shapes, stream ==
// offline bit for bit, and agreement with the naive reference on the first frames.
// EDGESER_RANDOM_CASES sets the number of cases (default 200) and EDGESER_RANDOM_SEED the seed.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "feature_computer.h"
#include "frame_stream.h"
#include "simd.h"
#include "test_runner.h"
#include "test_util.h"

namespace {

using edgeser::FeatureComputer;
using edgeser::FeatureKind;
using edgeser::FrontendOptions;
using edgeser_test::Rng;

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// A random configuration FrontendOptions::Validate() accepts (retrying until it does).
FrontendOptions RandomConfig(Rng& rng) {
  for (;;) {
    FrontendOptions o;
    o.sample_rate = rng.Pick(std::vector<int>{8000, 16000, 22050, 44100});
    o.frame_length_ms = rng.Uniform(0.5, 40.0);
    o.frame_shift_ms = rng.Uniform(0.2, 30.0);
    const double length = o.sample_rate * o.frame_length_ms / 1000.0;
    o.n_fft = rng.Bool() ? 0 : static_cast<int>(std::nearbyint(length)) + rng.Int(0, 700);
    o.window = static_cast<edgeser::WindowType>(rng.Int(0, 3));
    o.preemphasis = rng.Pick(std::vector<double>{0.0, 0.5, 0.97, 0.999});
    o.remove_dc = rng.Bool();
    o.n_mels = rng.Int(1, 64);
    o.n_mfcc = rng.Int(1, o.n_mels);
    o.mel_scale = static_cast<edgeser::MelScale>(rng.Int(0, 1));
    o.mel_norm = static_cast<edgeser::MelNorm>(rng.Int(0, 1));
    o.triangle_domain = static_cast<edgeser::TriangleDomain>(rng.Int(0, 1));
    o.power = rng.Bool() ? 1.0 : 2.0;
    o.log_type = static_cast<edgeser::LogType>(rng.Int(0, 1));
    o.log_floor =
        rng.Pick(std::vector<double>{1e-10, 1.1920928955078125e-07, 1e-3, 1e-300, 5e-324});
    o.lifter = rng.Pick(std::vector<double>{0.0, 1.0, 22.0});
    o.deltas = rng.Int(0, 2);
    o.delta_window = rng.Int(1, 3);
    o.cmvn = static_cast<edgeser::CmvnMode>(rng.Int(0, 2));
    o.vtlp_alpha = rng.Pick(std::vector<double>{1.0, 0.9, 1.1});
    o.vtlp_high_hz = rng.Pick(std::vector<double>{2000.0, 3000.0});
    o.fmin = rng.Pick(std::vector<double>{0.0, 20.0, 300.0});
    o.fmax = rng.Pick(std::vector<double>{0.0, -400.0, 3500.0});
    try {
      o.Validate();
      return o;
    } catch (const std::invalid_argument&) {
    }
  }
}

EDGESER_TEST(random, configs_and_signals) {
  const int cases = EnvInt("EDGESER_RANDOM_CASES", 200);
  const int seed = EnvInt("EDGESER_RANDOM_SEED", 1);
  Rng rng(static_cast<std::uint64_t>(seed));
  const edgeser::Isa paths[] = {edgeser::Isa::kGeneric, edgeser::Isa::kNeon, edgeser::Isa::kAvx2,
                                edgeser::Isa::kAvx512};
  const edgeser::Isa saved = edgeser::ActiveIsa();
  const FeatureKind kinds[] = {FeatureKind::kSpectrogram, FeatureKind::kLogMel, FeatureKind::kMfcc};
  for (int c = 0; c < cases; ++c) {
    const FrontendOptions o = RandomConfig(rng);
    const int n = rng.Int(0, 5000);
    const int shape = rng.Int(0, edgeser_test::NumSignalShapes() - 1);
    const std::vector<float> x = edgeser_test::Signal(shape, n, static_cast<std::uint64_t>(c));
    // A random path for this case (every path is exercised over the cases).
    edgeser::Isa isa = paths[rng.Int(0, 3)];
    if (!edgeser::SetActiveIsa(isa)) isa = edgeser::ActiveIsa();
    edgeser_test::SetContext(edgeser_test::Str("case ", c, " (seed ", seed, "), path ",
                                               edgeser::IsaName(isa), ", ", n, " samples of shape ",
                                               shape, ": ", edgeser_test::Describe(o)));
    FrontendOptions statics = o;
    statics.deltas = 0;
    statics.cmvn = edgeser::CmvnMode::kNone;
    std::vector<float> s[3];
    for (int k = 0; k < 3; ++k) {
      const FeatureComputer computer(o, kinds[k]);
      const std::vector<float> full = edgeser_test::Compute(o, kinds[k], x);
      CHECK(full.size() == static_cast<std::size_t>(o.num_frames(n)) * o.feature_dim(kinds[k]));
      if (kinds[k] != FeatureKind::kSpectrogram) {
        for (float v : full)
          CHECK_MSG(std::isfinite(v), "non-finite ", edgeser::ToString(kinds[k]));
      }
      s[k] = edgeser_test::Compute(statics, kinds[k], x);
      // Stream == offline, bit for bit (CMVN cannot stream).
      if (o.cmvn == edgeser::CmvnMode::kNone) {
        edgeser::FrameStream stream(std::make_shared<const FeatureComputer>(o, kinds[k]));
        std::vector<float> got;
        int pos = 0;
        while (pos < n) {
          const int size = std::min(n - pos, rng.Int(0, 1200));
          std::vector<float> out(static_cast<std::size_t>(stream.RowsAfterPush(size)) *
                                 stream.dim());
          stream.Push(x.data() + pos, size, out.data());
          got.insert(got.end(), out.begin(), out.end());
          pos += size;
        }
        std::vector<float> tail(static_cast<std::size_t>(stream.RowsAtFlush()) * stream.dim());
        stream.Flush(tail.data());
        got.insert(got.end(), tail.begin(), tail.end());
        CHECK(got.size() == full.size());
        CHECK_MSG(edgeser_test::SameBits(got, full), "stream differs from offline for ",
                  edgeser::ToString(kinds[k]));
      }
      // Batch on two threads == one by one.
      if (k == 2) {
        const std::vector<float> y = edgeser_test::Signal(shape + 1, n / 2, c + 1000);
        const float* data[2] = {x.data(), y.data()};
        const long long lengths[2] = {n, static_cast<long long>(y.size())};
        std::vector<float> a(full.size()),
            b(static_cast<std::size_t>(o.num_frames(lengths[1])) * computer.feature_dim());
        float* outs[2] = {a.data(), b.data()};
        computer.ComputeBatch(data, lengths, outs, 2, 2);
        CHECK(a == full);
        CHECK(b == edgeser_test::Compute(o, kinds[k], y));
      }
    }
    const auto ref = edgeser_test::ReferenceFeatures(statics, x.data(), n, 3);
    const std::string diff = edgeser_test::CompareWithReference(statics, ref, s[0], s[1], s[2]);
    CHECK_MSG(diff.empty(), diff);
  }
  edgeser::SetActiveIsa(saved);
}

}  // namespace
