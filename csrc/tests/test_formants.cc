// Formants: the LPC building blocks against their definitions, the polynomial root finder
// against known roots and the companion-matrix path, and FormantAnalyzer on synthetic vowels
// (known formants), silence, hostile windows, gains and instruction sets.
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <limits>
#include <map>
#include <vector>

#include "descriptor_options.h"
#include "formants.h"
#include "lpc.h"
#include "polynomial_roots.h"
#include "simd.h"
#include "test_runner.h"
#include "test_util.h"

namespace {

using Complex = std::complex<double>;
constexpr double kPi = 3.14159265358979323846;

// ---- polynomials -----------------------------------------------------------------------------

// c[0..n) of the monic prod (z - root), real because the complex roots come in pairs.
std::vector<double> FromRoots(const std::vector<Complex>& roots) {
  std::vector<Complex> p = {1.0};
  for (const Complex& r : roots) {
    p.push_back(0.0);
    for (std::size_t k = p.size() - 1; k > 0; --k) p[k] -= r * p[k - 1];
  }
  std::vector<double> c;
  for (std::size_t k = 1; k < p.size(); ++k) c.push_back(p[k].real());
  return c;
}

// Random roots inside the unit circle: `pairs` conjugate pairs and `reals` real roots, with
// moduli in [lo, hi] and at least `gap` between any two of them.
std::vector<Complex> RandomRoots(edgeser_test::Rng& rng, int pairs, int reals, double lo, double hi,
                                 double gap) {
  std::vector<Complex> roots;
  auto far_enough = [&](Complex z) {
    for (const Complex& r : roots)
      if (std::abs(z - r) < gap) return false;
    return std::abs(z - std::conj(z)) >= gap || z.imag() == 0.0;
  };
  while (static_cast<int>(roots.size()) < 2 * pairs) {
    const Complex z = std::polar(rng.Uniform(lo, hi), rng.Uniform(0.02, kPi - 0.02));
    if (!far_enough(z)) continue;
    roots.push_back(z);
    roots.push_back(std::conj(z));
  }
  while (static_cast<int>(roots.size()) < 2 * pairs + reals) {
    const Complex z(rng.Uniform(-hi, hi), 0.0);
    if (far_enough(z)) roots.push_back(z);
  }
  return roots;
}

// Largest distance from a wanted root to the found root matched to it (greedy, nearest first).
double RootError(const std::vector<Complex>& want, const std::vector<double>& re,
                 const std::vector<double>& im) {
  std::vector<bool> used(re.size(), false);
  double worst = 0.0;
  for (const Complex& w : want) {
    int best = -1;
    double d = std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < re.size(); ++k) {
      const double dk = std::abs(Complex(re[k], im[k]) - w);
      if (!used[k] && dk < d) {
        d = dk;
        best = static_cast<int>(k);
      }
    }
    if (best < 0) return std::numeric_limits<double>::infinity();
    used[best] = true;
    worst = std::max(worst, d);
  }
  return worst;
}

struct Roots {
  bool ok;
  std::vector<double> re, im;
};

Roots Solve(const std::vector<double>& c, bool companion = false) {
  const int n = static_cast<int>(c.size());
  Roots r{false, std::vector<double>(n), std::vector<double>(n)};
  std::vector<double> work(edgeser::PolynomialRootsWorkSize(n));
  r.ok = companion
             ? edgeser::CompanionMatrixRoots(c.data(), n, r.re.data(), r.im.data(), work.data())
             : edgeser::MonicPolynomialRoots(c.data(), n, r.re.data(), r.im.data(), work.data());
  return r;
}

// Conjugate pairs adjacent with the upper one first; real roots exactly real.
void CheckLayout(const Roots& r) {
  for (std::size_t k = 0; k < r.re.size(); ++k) {
    if (r.im[k] > 0.0) {
      CHECK_MSG(k + 1 < r.re.size() && r.re[k + 1] == r.re[k] && r.im[k + 1] == -r.im[k], "root ",
                k, " = ", r.re[k], " + ", r.im[k], "i has no conjugate after it");
      ++k;
    } else {
      CHECK_MSG(r.im[k] == 0.0, "root ", k, " has a negative imaginary part before its pair");
    }
  }
}

// ---- signals ---------------------------------------------------------------------------------

struct Formant {
  double hz, bw;
};

// A vowel: an impulse train at f0 through a -6 dB/octave source slope (a real pole at 0.97,
// the glottal pulse after lip radiation, which the pre-emphasis flattens) and one resonator per
// formant, scaled to a 0.5 peak.
std::vector<float> Vowel(const std::vector<Formant>& formants, double f0, int rate, int n) {
  std::vector<double> a = {1.0, -0.97};
  for (const Formant& f : formants) {
    const double r = std::exp(-kPi * f.bw / rate), theta = 2.0 * kPi * f.hz / rate;
    const double section[3] = {1.0, -2.0 * r * std::cos(theta), r * r};
    std::vector<double> next(a.size() + 2, 0.0);
    for (std::size_t i = 0; i < a.size(); ++i)
      for (int j = 0; j < 3; ++j) next[i + j] += a[i] * section[j];
    a = next;
  }
  std::vector<double> y(n, 0.0);
  double next_pulse = 0.0, peak = 0.0;
  for (int i = 0; i < n; ++i) {
    double acc = 0.0;
    if (i == static_cast<int>(std::lround(next_pulse))) {
      acc = 1.0;
      next_pulse += rate / f0;
    }
    for (std::size_t k = 1; k < a.size() && k <= static_cast<std::size_t>(i); ++k)
      acc -= a[k] * y[i - k];
    y[i] = acc;
    peak = std::max(peak, std::fabs(acc));
  }
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) x[i] = static_cast<float>(0.5 * y[i] / peak);
  return x;
}

edgeser::FormantFrame AnalyzeOne(const edgeser::FormantAnalyzer& analyzer, const float* window) {
  edgeser::FormantAnalyzer::Workspace ws = analyzer.MakeWorkspace();
  edgeser::FormantFrame frame;
  analyzer.Analyze(&window, 1, &frame, ws);
  return frame;
}

void CheckPlausible(const edgeser::FormantFrame& f, const edgeser::DescriptorOptions& o) {
  double previous = 0.0;
  for (int k = 0; k < 3; ++k) {
    CHECK(std::isfinite(f.freq_hz[k]) && std::isfinite(f.bw_hz[k]));
    if (f.freq_hz[k] == 0.0) {  // missing: this one and every later one are all zeros
      CHECK(f.bw_hz[k] == 0.0);
      for (int j = k; j < 3; ++j) CHECK(f.freq_hz[j] == 0.0 && f.bw_hz[j] == 0.0);
      return;
    }
    CHECK(f.freq_hz[k] > 90.0 && f.freq_hz[k] < o.formant_max_hz);
    CHECK(f.bw_hz[k] < o.formant_max_bw_hz);
    CHECK(f.freq_hz[k] >= previous);
    previous = f.freq_hz[k];
  }
}

bool SameFrame(const edgeser::FormantFrame& a, const edgeser::FormantFrame& b, double rtol) {
  for (int k = 0; k < 3; ++k) {
    if (std::fabs(a.freq_hz[k] - b.freq_hz[k]) > rtol * std::fabs(b.freq_hz[k])) return false;
    if (std::fabs(a.bw_hz[k] - b.bw_hz[k]) > rtol * std::fabs(b.bw_hz[k])) return false;
  }
  return true;
}

// ---- LPC -------------------------------------------------------------------------------------

EDGESER_TEST(formants, autocorrelation_matches_the_definition) {
  edgeser_test::Rng rng(11);
  for (int n : {1, 3, 8, 17, 100, 401}) {
    for (int max_lag : {0, 1, 5, 16, 20, 64}) {
      std::vector<double> x(n + edgeser::AutocorrelationPadding(max_lag), 0.0);
      double energy = 0.0;
      for (int j = 0; j < n; ++j) {
        x[j] = rng.Normal();
        energy += x[j] * x[j];
      }
      std::vector<double> r(max_lag + 1, -1.0);
      edgeser::Autocorrelation(x.data(), n, max_lag, r.data());
      for (int k = 0; k <= max_lag; ++k) {
        double want = 0.0;
        for (int j = 0; j + k < n; ++j) want += x[j] * x[j + k];
        CHECK_NEAR(r[k], want, 1e-13 * energy);
      }
      for (int j = n; j < static_cast<int>(x.size()); ++j) CHECK(x[j] == 0.0);  // not written
    }
  }
}

EDGESER_TEST(formants, levinson_solves_the_normal_equations) {
  edgeser_test::Rng rng(12);
  for (int order : {1, 2, 4, 16, 40}) {
    const int n = 400;
    std::vector<double> x(n + edgeser::AutocorrelationPadding(order), 0.0);
    double y = 0.0;
    for (int j = 0; j < n; ++j) x[j] = y = 0.9 * y + rng.Normal();  // coloured noise
    std::vector<double> r(order + 1), a(order);
    edgeser::Autocorrelation(x.data(), n, order, r.data());
    CHECK(edgeser::LevinsonDurbin(r.data(), order, a.data()));
    // sum_j a_j r_|i-j| = -r_i for i = 1..p (a_0 = 1 moved to the right).
    for (int i = 1; i <= order; ++i) {
      double lhs = r[i];
      for (int j = 1; j <= order; ++j) lhs += a[j - 1] * r[std::abs(i - j)];
      CHECK_NEAR(lhs, 0.0, 1e-10 * r[0]);
    }
  }
}

EDGESER_TEST(formants, levinson_refuses_what_is_not_positive_definite) {
  std::vector<double> a(3);
  const double predictable[4] = {1.0, 1.0, 1.0, 1.0};  // a constant: error 0 at order 1
  CHECK(!edgeser::LevinsonDurbin(predictable, 3, a.data()));
  const double zero[4] = {0.0, 0.0, 0.0, 0.0};
  CHECK(!edgeser::LevinsonDurbin(zero, 3, a.data()));
  const double impossible[4] = {1.0, 2.0, 0.0, 0.0};  // |r_1| > r_0
  CHECK(!edgeser::LevinsonDurbin(impossible, 3, a.data()));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double not_finite[4] = {1.0, nan, 0.0, 0.0};
  CHECK(!edgeser::LevinsonDurbin(not_finite, 3, a.data()));
}

// ---- roots -----------------------------------------------------------------------------------

EDGESER_TEST(formants, roots_of_prediction_like_polynomials) {
  edgeser_test::Rng rng(13);
  int cases = 0;
  std::map<int, double> worst_fast, worst_qr;
  for (int degree : {1, 2, 3, 4, 8, 16, 17, 24, 32, 48, 64}) {
    for (int trial = 0; trial < 40; ++trial) {
      const int reals = degree % 2 + 2 * rng.Int(0, std::min(2, degree / 2));
      const int pairs = (degree - reals) / 2;
      const double gap = degree > 32 ? 0.08 : 0.05;
      const std::vector<Complex> roots = RandomRoots(rng, pairs, reals, 0.3, 0.995, gap);
      const std::vector<double> c = FromRoots(roots);
      const Roots fast = Solve(c), companion = Solve(c, true);
      CHECK(fast.ok && companion.ok);
      CheckLayout(fast);
      CheckLayout(companion);
      // The coefficients of c are rounded, which moves clustered roots near the unit circle by
      // up to (condition number) x 1e-16. Measured worst: 3e-13 (degree <= 16) and 4e-8 (<= 64)
      // for MonicPolynomialRoots, which converges on p(z) = 0 itself; the companion matrix alone
      // (backward stable in the matrix, not the polynomial, like numpy.roots) loses more with
      // the degree: 8e-12 (16), 1e-6 (32), 0.1 (64).
      const double tol = degree <= 16 ? 1e-10 : 1e-6;
      const double qr_tol = degree <= 16 ? 1e-8 : degree <= 32 ? 1e-5 : 1.0;
      worst_fast[degree] = std::max(worst_fast[degree], RootError(roots, fast.re, fast.im));
      worst_qr[degree] = std::max(worst_qr[degree], RootError(roots, companion.re, companion.im));
      CHECK_MSG(RootError(roots, fast.re, fast.im) < tol, "degree ", degree, " trial ", trial,
                ": error ", RootError(roots, fast.re, fast.im));
      CHECK_MSG(RootError(roots, companion.re, companion.im) < qr_tol, "degree ", degree, " trial ",
                trial, ": error ", RootError(roots, companion.re, companion.im));
      ++cases;
    }
  }
  CHECK(cases > 400);
  for (const auto& [degree, e] : worst_fast)
    std::printf("       degree %d: worst root error %.1e (fast path), %.1e (companion)\n", degree,
                e, worst_qr[degree]);
}

EDGESER_TEST(formants, roots_the_fast_path_cannot_take_come_from_the_companion_matrix) {
  const std::vector<std::vector<Complex>> cases = {
      {{2.0, 0.0}, {-3.0, 0.0}, {1.5, 2.0}, {1.5, -2.0}},  // outside the unit circle
      {{0.5, 0.0}, {0.51, 0.0}, {0.2, 0.7}, {0.2, -0.7}},  // two real roots in one grid cell
      {{0.9, 0.0}},                                        // odd degree, inside
      {{1.0, 0.0}, {-1.0, 0.0}, {0.0, 1.0}, {0.0, -1.0}},  // on the circle
      {{0.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}},                // z^3
      {{0.5, 0.5}, {0.5, -0.5}, {0.5, 0.5}, {0.5, -0.5}},  // a double pair
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Roots r = Solve(FromRoots(cases[i]));
    CHECK(r.ok);
    CheckLayout(r);
    const bool multiple = i >= 4;  // multiple roots: sqrt(eps) (double) or cbrt(eps) (triple)
    CHECK_MSG(RootError(cases[i], r.re, r.im) < (multiple ? 1e-4 : 1e-9), "case ", i, ": error ",
              RootError(cases[i], r.re, r.im));
  }
}

EDGESER_TEST(formants, root_finding_always_returns) {
  // Hostile coefficients: whatever the answer, a bounded amount of work and no UB.
  edgeser_test::Rng rng(14);
  for (double scale : {1e-300, 1e-20, 1.0, 1e20, 1e150}) {
    for (int degree : {2, 16, 64}) {
      std::vector<double> c(degree);
      for (double& v : c) v = scale * rng.Normal();
      const Roots r = Solve(c);
      if (r.ok) {
        for (int k = 0; k < degree; ++k) CHECK(std::isfinite(r.re[k]) && std::isfinite(r.im[k]));
      }
    }
  }
}

// ---- the analyzer ----------------------------------------------------------------------------

EDGESER_TEST(formants, synthetic_vowels_give_their_formants) {
  const edgeser::DescriptorOptions o;
  const edgeser::FormantAnalyzer analyzer(o);
  const int n = o.spectral_length();
  // F1-F3 of /a/, /i/, /u/ (plus F4, F5 as real vowels have them) at F0 120 Hz.
  const std::vector<std::vector<Formant>> vowels = {
      {{700, 80}, {1220, 90}, {2600, 120}, {3500, 200}, {4500, 250}},
      {{270, 60}, {2290, 90}, {3010, 100}, {3500, 200}, {4500, 250}},
      {{300, 60}, {870, 80}, {2240, 100}, {3500, 200}, {4500, 250}},
  };
  for (const auto& formants : vowels) {
    const std::vector<float> x = Vowel(formants, 120.0, o.sample_rate, 4800);
    for (int start = 1600; start + n <= 4800; start += 160) {
      const edgeser::FormantFrame f = AnalyzeOne(analyzer, x.data() + start);
      CheckPlausible(f, o);
      for (int k = 0; k < 3; ++k) {
        CHECK_MSG(std::fabs(f.freq_hz[k] - formants[k].hz) < 0.05 * formants[k].hz, "F", k + 1,
                  " = ", f.freq_hz[k], " Hz for ", formants[k].hz);
        CHECK_MSG(f.bw_hz[k] > formants[k].bw / 3 && f.bw_hz[k] < 3 * formants[k].bw, "B", k + 1,
                  " = ", f.bw_hz[k], " Hz for ", formants[k].bw);
      }
    }
  }
}

EDGESER_TEST(formants, silence_dc_and_tiny_windows_have_none) {
  const edgeser::DescriptorOptions o;
  const edgeser::FormantAnalyzer analyzer(o);
  const int n = o.spectral_length();
  for (float level : {0.0f, 0.25f, -1.0f, 1e-30f, 1e30f}) {
    const std::vector<float> dc(n, level);
    const edgeser::FormantFrame f = AnalyzeOne(analyzer, dc.data());
    for (int k = 0; k < 3; ++k) CHECK(f.freq_hz[k] == 0.0 && f.bw_hz[k] == 0.0);
  }
  std::vector<float> tiny = edgeser_test::Noise(n, 3, 1e-30);  // R_0 ~ 1e-58 <= 1e-12
  const edgeser::FormantFrame f = AnalyzeOne(analyzer, tiny.data());
  for (int k = 0; k < 3; ++k) CHECK(f.freq_hz[k] == 0.0 && f.bw_hz[k] == 0.0);
}

EDGESER_TEST(formants, hostile_windows_give_finite_plausible_values) {
  edgeser_test::Rng rng(15);
  for (int order : {4, 16, 40, 64}) {
    edgeser::DescriptorOptions o;
    o.lpc_order = order;
    const edgeser::FormantAnalyzer analyzer(o);
    const int n = o.spectral_length();
    for (int shape = 0; shape < 3 * edgeser_test::NumSignalShapes(); ++shape) {
      const std::vector<float> x = edgeser_test::Signal(shape, n, 100 + shape);
      CheckPlausible(AnalyzeOne(analyzer, x.data()), o);
    }
    std::vector<float> square(n);  // a clipped square wave
    for (int j = 0; j < n; ++j) square[j] = (j / 40) % 2 ? 1.0f : -1.0f;
    CheckPlausible(AnalyzeOne(analyzer, square.data()), o);
    std::vector<float> sine(n);  // a pure sine: R is nearly singular
    for (int j = 0; j < n; ++j) sine[j] = static_cast<float>(std::sin(0.1 * j));
    CheckPlausible(AnalyzeOne(analyzer, sine.data()), o);
  }
}

EDGESER_TEST(formants, a_gain_changes_nothing) {
  const edgeser::DescriptorOptions o;
  const edgeser::FormantAnalyzer analyzer(o);
  const int n = o.spectral_length();
  const std::vector<float> vowel = Vowel(
      {{530, 60}, {1840, 90}, {2480, 120}, {3500, 200}, {4500, 250}}, 110.0, o.sample_rate, 2000);
  const std::vector<float> noise = edgeser_test::Noise(n, 16, 0.3);
  for (const float* x : {vowel.data() + 1000, noise.data()}) {
    const edgeser::FormantFrame base = AnalyzeOne(analyzer, x);
    for (double gain : {0.25, 1024.0, 1.0 / 4096.0, 0.3, 7.7, 1e-3, 3e4}) {
      std::vector<float> scaled(x, x + n);
      for (float& v : scaled) v = static_cast<float>(v * gain);
      const edgeser::FormantFrame f = AnalyzeOne(analyzer, scaled.data());
      // Powers of two scale every intermediate exactly; other gains round the float samples.
      const bool exact = gain == 0.25 || gain == 1024.0 || gain == 1.0 / 4096.0;
      CHECK_MSG(SameFrame(f, base, exact ? 0.0 : 1e-5), "gain ", gain, ": F1 ", f.freq_hz[0],
                " vs ", base.freq_hz[0]);
    }
  }
}

EDGESER_TEST(formants, blocks_workspaces_and_instruction_sets_agree) {
  const edgeser::DescriptorOptions o;
  const edgeser::FormantAnalyzer analyzer(o);
  const int n = o.spectral_length(), frames = 21;
  std::vector<float> x;
  for (int f = 0; f < frames; ++f) {
    const std::vector<float> w = edgeser_test::Signal(f, n, 200 + f);
    x.insert(x.end(), w.begin(), w.end());
  }
  std::vector<const float*> rows(frames);
  for (int f = 0; f < frames; ++f) rows[f] = x.data() + f * n;
  std::vector<edgeser::FormantFrame> single(frames);
  for (int f = 0; f < frames; ++f) single[f] = AnalyzeOne(analyzer, rows[f]);
  const edgeser::Isa saved = edgeser::ActiveIsa();
  for (edgeser::Isa isa :
       {edgeser::Isa::kGeneric, edgeser::Isa::kNeon, edgeser::Isa::kAvx2, edgeser::Isa::kAvx512}) {
    if (!edgeser::SetActiveIsa(isa)) continue;
    edgeser::FormantAnalyzer::Workspace ws = analyzer.MakeWorkspace();  // reused throughout
    std::vector<edgeser::FormantFrame> blocked(frames);
    for (int f = 0; f < frames; f += edgeser::kLanes)
      analyzer.Analyze(rows.data() + f, std::min(edgeser::kLanes, frames - f), blocked.data() + f,
                       ws);
    for (int f = 0; f < frames; ++f)
      CHECK_MSG(SameFrame(blocked[f], single[f], isa == saved ? 0.0 : 1e-9), "frame ", f, " on ",
                edgeser::IsaName(isa));
  }
  edgeser::SetActiveIsa(saved);
}

}  // namespace
