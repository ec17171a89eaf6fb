// Time per call of FeatureComputer::Compute on 1 s of 16 kHz noise (default config: 25/10 ms,
// 512-point FFT, 40 mels, 13 MFCC) on every SIMD path this build and CPU can run:
//   edgeser_bench [spectrogram|log_mel|mfcc] [calls]
// Prints the minimum and median thread CPU time over batches of 20 calls (CPU time, so a
// shared machine's other load counts less than in wall time). Not run by ctest.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <vector>

#include "feature_computer.h"
#include "simd.h"

namespace {

double CpuMicroseconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace edgeser;
  const FeatureKind kind = ParseFeatureKind(argc > 1 ? argv[1] : "mfcc");
  const int calls = argc > 2 ? std::max(40, std::atoi(argv[2])) : 4000;
  const FrontendOptions opts;
  const FeatureComputer computer(opts, kind);
  std::vector<float> x(16000);
  std::mt19937 gen(0);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  for (float& v : x) v = normal(gen);
  std::vector<float> out(static_cast<std::size_t>(computer.NumFrames(16000)) *
                         computer.feature_dim());
  FeatureComputer::Workspace ws = computer.MakeWorkspace();
  for (Isa isa : {Isa::kGeneric, Isa::kNeon, Isa::kAvx2, Isa::kAvx512}) {
    if (!SetActiveIsa(isa)) continue;
    for (int i = 0; i < 200; ++i) computer.Compute(x.data(), 16000, out.data(), ws);
    std::vector<double> times;
    for (int b = 0; b < calls / 20; ++b) {
      const double t0 = CpuMicroseconds();
      for (int i = 0; i < 20; ++i) computer.Compute(x.data(), 16000, out.data(), ws);
      times.push_back((CpuMicroseconds() - t0) / 20);
    }
    std::sort(times.begin(), times.end());
    std::printf("%-8s %-12s 1 s: min %7.1f us  median %7.1f us\n", IsaName(isa),
                ToString(kind).c_str(), times.front(), times[times.size() / 2]);
  }
  return 0;
}
