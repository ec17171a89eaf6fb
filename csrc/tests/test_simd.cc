// Every instruction-set path this build and CPU can run against the generic one (and the
// reference), and how EDGESER_SIMD requests are resolved.
#include <cmath>
#include <complex>
#include <cstdio>
#include <string>
#include <vector>

#include "feature_computer.h"
#include "rfft.h"
#include "simd.h"
#include "test_runner.h"
#include "test_util.h"

namespace {

using edgeser::FeatureKind;
using edgeser::FrontendOptions;
using edgeser::Isa;

const Isa kAll[] = {Isa::kGeneric, Isa::kNeon, Isa::kAvx2, Isa::kAvx512};

// Restores the active path when a test ends, whatever happens.
struct IsaGuard {
  Isa saved = edgeser::ActiveIsa();
  ~IsaGuard() { edgeser::SetActiveIsa(saved); }
};

std::vector<FrontendOptions> Configs() {
  std::vector<FrontendOptions> out(5);
  out[1].window = edgeser::WindowType::kHann;
  out[1].power = 1.0;
  out[1].log_type = edgeser::LogType::kDb;
  out[1].deltas = 2;
  out[2].n_fft = 401;
  out[2].frame_length_ms = 25.0625;
  out[3].remove_dc = true;
  out[3].window = edgeser::WindowType::kPovey;
  out[3].log_floor = 1e-300;  // not the fast log
  out[4].sample_rate = 48000;
  out[4].n_mels = 80;
  out[4].n_mfcc = 30;
  return out;
}

EDGESER_TEST(simd, names_and_requests) {
  for (Isa isa : kAll) {
    Isa parsed;
    CHECK(edgeser::ParseIsa(edgeser::IsaName(isa), &parsed) && parsed == isa);
  }
  Isa parsed;
  CHECK(!edgeser::ParseIsa("sse9", &parsed) && !edgeser::ParseIsa(nullptr, &parsed));
  CHECK(edgeser::IsaSupported(Isa::kGeneric));
  CHECK(edgeser::ChooseIsa("generic") == Isa::kGeneric);
  const Isa best = edgeser::ChooseIsa(nullptr);
  CHECK(edgeser::IsaSupported(best));
  CHECK(edgeser::ChooseIsa("") == best && edgeser::ChooseIsa("no-such-isa") == best);
  for (Isa isa : kAll) {
    const Isa got = edgeser::ChooseIsa(edgeser::IsaName(isa));
    CHECK(edgeser::IsaSupported(got));
    if (edgeser::IsaSupported(isa)) CHECK(got == isa);
  }
  if (!edgeser::IsaSupported(Isa::kAvx512) && edgeser::IsaSupported(Isa::kAvx2))
    CHECK(edgeser::ChooseIsa("avx512") == Isa::kAvx2);
  if (!edgeser::IsaSupported(Isa::kNeon)) CHECK(edgeser::ChooseIsa("neon") == Isa::kGeneric);
#if defined(__aarch64__) && !defined(EDGESER_NO_DISPATCH)
  CHECK(edgeser::IsaSupported(Isa::kNeon) && best == Isa::kNeon);
#endif
  IsaGuard guard;
  for (Isa isa : kAll) {
    CHECK(edgeser::SetActiveIsa(isa) == edgeser::IsaSupported(isa));
    if (edgeser::IsaSupported(isa)) CHECK(edgeser::ActiveIsa() == isa);
  }
}

EDGESER_TEST(simd, every_path_matches_generic_and_the_reference) {
  IsaGuard guard;
  const FeatureKind kinds[] = {FeatureKind::kSpectrogram, FeatureKind::kLogMel, FeatureKind::kMfcc};
  int paths = 0;
  for (Isa isa : kAll) {
    if (!edgeser::IsaSupported(isa)) continue;
    ++paths;
    int shape = 0;
    for (const FrontendOptions& o : Configs()) {
      for (int s = 0; s < 3; ++s, ++shape) {
        const int n = 3000 + 37 * shape;  // partial last blocks too
        const std::vector<float> x = edgeser_test::Signal(shape, n, shape);
        std::vector<float> generic[3], got[3];
        CHECK(edgeser::SetActiveIsa(Isa::kGeneric));
        for (int k = 0; k < 3; ++k) generic[k] = edgeser_test::Compute(o, kinds[k], x);
        CHECK(edgeser::SetActiveIsa(isa));
        for (int k = 0; k < 3; ++k) got[k] = edgeser_test::Compute(o, kinds[k], x);
        const std::string where = edgeser_test::Str(edgeser::IsaName(isa), ", shape ", shape, ", ",
                                                    edgeser_test::Describe(o));
        // Paths differ only in multiply-add rounding: far below float32's resolution except
        // in bands near the round-off floor, which the reference comparison covers.
        FrontendOptions statics = o;
        statics.deltas = 0;
        const auto ref = edgeser_test::ReferenceFeatures(statics, x.data(), n, 6);
        std::vector<float> s3[3];
        for (int k = 0; k < 3; ++k) s3[k] = edgeser_test::Compute(statics, kinds[k], x);
        const std::string diff =
            edgeser_test::CompareWithReference(statics, ref, s3[0], s3[1], s3[2]);
        CHECK_MSG(diff.empty(), diff, " (", where, ")");
        CHECK_MSG(edgeser_test::WorstRatio(got[1], generic[1], 1e-5, 1e-5) <= 1.0, where);
        CHECK_MSG(edgeser_test::WorstRatio(got[2], generic[2], 1e-5, 1e-4) <= 1.0, where);
        CHECK(got[0].size() == generic[0].size());
      }
    }
  }
  CHECK(paths >= 1);
  std::printf("       paths checked: %d (active by default: %s)\n", paths,
              edgeser::IsaName(edgeser::ChooseIsa(nullptr)));
}

EDGESER_TEST(simd, rfft_on_every_path) {
  IsaGuard guard;
  for (Isa isa : kAll) {
    if (!edgeser::SetActiveIsa(isa)) continue;
    for (int n : {2, 4, 8, 64, 400, 512, 1024, 1200}) {
      const edgeser::RealFft fft(n);
      edgeser::AlignedBuffer x(static_cast<std::size_t>(n) * edgeser::kLanes);
      edgeser_test::Rng rng(n);
      std::vector<double> frame(n);
      for (double& v : frame) v = rng.Normal();
      for (int i = 0; i < n; ++i)
        for (int l = 0; l < edgeser::kLanes; ++l)
          x.data()[i * edgeser::kLanes + l] = frame[i] * (l + 1);
      edgeser::AlignedBuffer w(fft.workspace_size());
      edgeser::AlignedBuffer out(static_cast<std::size_t>(fft.num_bins()) *
                                 edgeser::kComplexStride);
      fft.Forward(x.data(), n, edgeser::SpectrumOutput::kComplex, fft.num_bins(), out.data(),
                  w.data());
      const auto want = edgeser_test::NaiveRfft(frame.data(), n, n);
      for (int k = 0; k < fft.num_bins(); ++k) {
        for (int l = 0; l < edgeser::kLanes; ++l) {
          const double re = out.data()[k * edgeser::kComplexStride + l] / (l + 1);
          const double im = out.data()[k * edgeser::kComplexStride + edgeser::kLanes + l] / (l + 1);
          CHECK_MSG(std::abs(std::complex<double>(re, im) - want[k]) <= 1e-12 * std::sqrt(n),
                    edgeser::IsaName(isa), " n=", n, " k=", k, " lane ", l);
        }
      }
    }
  }
}

}  // namespace
