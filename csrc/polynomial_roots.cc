#include "polynomial_roots.h"

#include <cmath>
#include <utility>

#include "simd.h"

namespace edgeser {
namespace {

// An n x n row-major matrix.
class Matrix {
 public:
  Matrix(double* data, int n) : data_(data), n_(n) {}
  double& operator()(int i, int j) { return data_[i * n_ + j]; }

 private:
  double* data_;
  int n_;
};

// Diagonal similarity by powers of two that makes each row and column norm alike (EISPACK
// balanc): it changes no eigenvalue but shrinks the rounding errors of large coefficients.
void Balance(Matrix a, int n) {
  constexpr double kRadix = 2.0, kRadix2 = kRadix * kRadix;
  for (int pass = 0; pass < 64; ++pass) {  // converges in a few; the cap only bounds the time
    bool done = true;
    for (int i = 0; i < n; ++i) {
      double c = 0.0, r = 0.0;
      for (int j = 0; j < n; ++j) {
        if (j == i) continue;
        c += std::fabs(a(j, i));
        r += std::fabs(a(i, j));
      }
      if (c == 0.0 || r == 0.0) continue;
      const double s = c + r;
      double f = 1.0, g = r / kRadix;
      while (c < g) {
        f *= kRadix;
        c *= kRadix2;
      }
      g = r * kRadix;
      while (c > g) {
        f /= kRadix;
        c /= kRadix2;
      }
      if ((c + r) / f < 0.95 * s) {
        done = false;
        const double inv = 1.0 / f;
        for (int j = 0; j < n; ++j) a(i, j) *= inv;
        for (int j = 0; j < n; ++j) a(j, i) *= f;
      }
    }
    if (done) break;
  }
}

double WithSign(double magnitude, double sign) {
  return sign >= 0.0 ? std::fabs(magnitude) : -std::fabs(magnitude);
}

// Eigenvalues of the upper Hessenberg matrix a (destroyed): EISPACK hqr, 0-based, updating
// only the active block since no Schur vectors are wanted. Exceptional shifts every 10
// iterations break the rare cycles; a cap on the iterations per eigenvalue bounds the time.
bool HessenbergEigenvalues(Matrix a, int n, double* wr, double* wi) {
  constexpr int kMaxIterations = 60;  // per eigenvalue; hqr needs about 2 on average
  double anorm = 0.0;
  for (int i = 0; i < n; ++i)
    for (int j = (i > 0 ? i - 1 : 0); j < n; ++j) anorm += std::fabs(a(i, j));
  int nn = n - 1;
  double t = 0.0;  // accumulated exceptional shifts
  int its = 0;     // iterations since the last eigenvalue was found
  while (nn >= 0) {
    int l;
    // Look for a negligible subdiagonal element that splits the active block.
    for (l = nn; l >= 1; --l) {
      double s = std::fabs(a(l - 1, l - 1)) + std::fabs(a(l, l));
      if (s == 0.0) s = anorm;
      if (std::fabs(a(l, l - 1)) + s == s) {
        a(l, l - 1) = 0.0;
        break;
      }
    }
    double x = a(nn, nn);
    if (l == nn) {  // one real root
      wr[nn] = x + t;
      wi[nn] = 0.0;
      --nn;
      its = 0;
      continue;
    }
    double y = a(nn - 1, nn - 1);
    double w = a(nn, nn - 1) * a(nn - 1, nn);
    if (l == nn - 1) {  // a 2 x 2 block: two real roots or a conjugate pair
      const double p = 0.5 * (y - x);
      const double q = p * p + w;
      double z = std::sqrt(std::fabs(q));
      x += t;
      if (q >= 0.0) {
        z = p + WithSign(z, p);
        wr[nn - 1] = wr[nn] = x + z;
        if (z != 0.0) wr[nn] = x - w / z;
        wi[nn - 1] = wi[nn] = 0.0;
      } else {
        wr[nn - 1] = wr[nn] = x + p;
        wi[nn - 1] = z;
        wi[nn] = -z;
      }
      nn -= 2;
      its = 0;
      continue;
    }
    if (its == kMaxIterations) return false;
    if (its > 0 && its % 10 == 0) {  // exceptional shift
      t += x;
      for (int i = 0; i <= nn; ++i) a(i, i) -= x;
      const double s = std::fabs(a(nn, nn - 1)) + std::fabs(a(nn - 1, nn - 2));
      y = x = 0.75 * s;
      w = -0.4375 * s * s;
    }
    ++its;
    // Find two consecutive small subdiagonal elements to start the double-shift sweep at m.
    int m;
    double p = 0.0, q = 0.0, r = 0.0, z = 0.0;
    for (m = nn - 2; m >= l; --m) {
      z = a(m, m);
      r = x - z;
      double s = y - z;
      p = (r * s - w) / a(m + 1, m) + a(m, m + 1);
      q = a(m + 1, m + 1) - z - r - s;
      r = a(m + 2, m + 1);
      s = std::fabs(p) + std::fabs(q) + std::fabs(r);
      p /= s;
      q /= s;
      r /= s;
      if (m == l) break;
      const double u = std::fabs(a(m, m - 1)) * (std::fabs(q) + std::fabs(r));
      const double v =
          std::fabs(p) * (std::fabs(a(m - 1, m - 1)) + std::fabs(z) + std::fabs(a(m + 1, m + 1)));
      if (u + v == v) break;
    }
    for (int i = m + 2; i <= nn; ++i) {
      a(i, i - 2) = 0.0;
      if (i != m + 2) a(i, i - 3) = 0.0;
    }
    // Chase the bulge with 3 x 3 Householder reflections.
    for (int k = m; k <= nn - 1; ++k) {
      if (k != m) {
        p = a(k, k - 1);
        q = a(k + 1, k - 1);
        r = (k != nn - 1) ? a(k + 2, k - 1) : 0.0;
        x = std::fabs(p) + std::fabs(q) + std::fabs(r);
        if (x != 0.0) {
          p /= x;
          q /= x;
          r /= x;
        }
      }
      const double s = WithSign(std::sqrt(p * p + q * q + r * r), p);
      if (s == 0.0) continue;
      if (k == m) {
        if (l != m) a(k, k - 1) = -a(k, k - 1);
      } else {
        a(k, k - 1) = -s * x;
      }
      p += s;
      x = p / s;
      y = q / s;
      z = r / s;
      q /= p;
      r /= p;
      const bool three = k != nn - 1;
      for (int j = k; j <= nn; ++j) {  // rows k..k+2 from the left
        double h = a(k, j) + q * a(k + 1, j);
        if (three) {
          h += r * a(k + 2, j);
          a(k + 2, j) -= h * z;
        }
        a(k + 1, j) -= h * y;
        a(k, j) -= h * x;
      }
      const int last = nn < k + 3 ? nn : k + 3;
      for (int i = l; i <= last; ++i) {  // columns k..k+2 from the right
        double h = x * a(i, k) + y * a(i, k + 1);
        if (three) {
          h += z * a(i, k + 2);
          a(i, k + 2) -= h * r;
        }
        a(i, k + 1) -= h * q;
        a(i, k) -= h;
      }
    }
  }
  return true;
}

// ---- fast path: Aberth-Ehrlich on the conjugate-symmetric set ---------------------------------
//
// The roots of a real polynomial are r real ones and m conjugate pairs (n = r + 2m). The real
// roots in [-1, 1] are bracketed by sign changes of p on a grid; each gets one real
// approximation (started at the regula falsi point of its bracket) and each pair one
// approximation in the upper half plane (started on a circle). The Aberth correction of an
// approximation then sums over every other root estimate, the implicit conjugates included, so
// a real approximation stays real and a pair stays a pair, and each iteration costs half
// of the iteration on all n roots. When the grid finds the wrong number of real roots (two in one
// cell, or one outside [-1, 1]) no such set is a fixed point and the iteration does not converge:
// the caller then falls back to the companion matrix. For the prediction polynomials of linear
// prediction (every root inside the unit circle) that is about one in a thousand.

constexpr int kGridIntervals = 32;
constexpr int kMaxAberthIterations = 40;
constexpr double kStepTolerance = 1e-8;      // |correction| that ends the iteration
constexpr double kResidualTolerance = 1e-6;  // |p / p'| that certifies a root
constexpr double kPi = 3.14159265358979323846;

// The approximations are handled a group at a time: kChunks registers of W approximations
// each, enough independent work to hide the latency of the recurrences without spilling (two
// chunks: 12 registers for EvaluateGroup), and no more than the 8 or so that a degree-16
// polynomial has. The arrays are padded to whole groups.
template <int W>
struct Group {
  static constexpr int kChunks = W >= 8 ? 1 : 2;
  static constexpr int kSize = kChunks * W;
};
constexpr int kMaxGroup = 8;
constexpr int Padded(int n) { return (n + kMaxGroup - 1) / kMaxGroup * kMaxGroup; }

// The per-approximation arrays of the iteration, carved out of the caller's work buffer.
struct AberthState {
  double *zr, *zi;   // approximations (pairs: Im > 0; reals: Im == 0 up to fused rounding)
  double* weight;    // 1 for a pair (it stands for two roots), 0.5 for a real root
  double* real;      // 1 for a real approximation, 0 for a pair
  double *pr, *pim;  // p(z)
  double *dr, *di;   // p'(z)
  double *sr, *si;   // the Aberth sum S
  double *step2, *residual2, *slope2;  // |correction|^2, |p(z)|^2, |p'(z)|^2
  AberthState(double* w, int n) {
    for (double** array :
         {&zr, &zi, &weight, &real, &pr, &pim, &dr, &di, &sr, &si, &step2, &residual2, &slope2}) {
      *array = w;
      w += Padded(n);
    }
  }
};

// p(x) at x[0..count) at once (the points innermost, so the loop vectorises).
EDGESER_INLINE void EvaluateReal(const double* c, int n, const double* x, int count, double* p) {
  for (int g = 0; g < count; ++g) p[g] = 1.0;
  for (int k = 0; k < n; ++k)
    for (int g = 0; g < count; ++g) p[g] = p[g] * x[g] + c[k];
}

// p(z) and p'(z) at the group of approximations from `first`, by two synthetic divisions by
// the real quadratic q = (x - z)(x - conj z) = x^2 - t x + u: p = q s + b_{n-1} x + (c_{n-1} -
// u b_{n-2}), so p(z) = b_{n-1} z + c_{n-1} - u b_{n-2}, and p'(z) = q'(z) s(z) + b_{n-1} with
// q'(z) = 2 i Im z, s(z) likewise. Real arithmetic: 8 flops per coefficient instead of the 14
// of two complex Horner schemes.
template <int W>
EDGESER_INLINE void EvaluateGroup(const double* c, int n, int first, AberthState& st) {
  using S = Simd<W>;
  using V = typename S::V;
  constexpr int kChunks = Group<W>::kChunks;
  V x[kChunks], y[kChunks], t[kChunks], u[kChunks], b1[kChunks], b2[kChunks], s1[kChunks],
      s2[kChunks];
  for (int q = 0; q < kChunks; ++q) {
    x[q] = S::Load(st.zr + first + q * W);
    y[q] = S::Load(st.zi + first + q * W);
    t[q] = x[q] + x[q];
    u[q] = x[q] * x[q] + y[q] * y[q];
    b1[q] = s1[q] = s2[q] = S::Set(0.0);
    b2[q] = S::Set(1.0);
  }
  for (int k = 0; k < n - 1; ++k) {
    const V ck = S::Set(c[k]);
    for (int q = 0; q < kChunks; ++q) {
      // The terms of the older coefficient first: only the last operation waits on b2, s2.
      const V b = (ck - u[q] * b1[q]) + t[q] * b2[q];
      const V s = (b2[q] - u[q] * s1[q]) + t[q] * s2[q];
      b1[q] = b2[q];
      b2[q] = b;
      s1[q] = s2[q];
      s2[q] = s;
    }
  }
  const V last = S::Set(c[n - 1]), two = S::Set(2.0);
  for (int q = 0; q < kChunks; ++q) {
    const int at = first + q * W;
    S::Store(st.pr + at, b2[q] * x[q] + (last - u[q] * b1[q]));
    S::Store(st.pim + at, b2[q] * y[q]);
    const V szr = s2[q] - s1[q] * x[q], szi = s1[q] * y[q];  // s(z)
    S::Store(st.dr + at, b2[q] - two * y[q] * szi);
    S::Store(st.di + at, two * y[q] * szr);
  }
}

// kUnit + 7 - d holds W doubles with a 1 in lane d only (0 <= d < W <= 8).
alignas(64) constexpr double kUnit[16] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};

// For the group of approximations i from `first`: S_i = sum_{j != i} w_j (1 / (z_i - z_j) +
// 1 / (z_i - conj z_j)) over the `count` estimates, plus 1 / (z_i - conj z_i) for a pair:
// every other root once (a real root's two terms are equal, hence its weight 1/2). One
// division serves both terms.
template <int W>
EDGESER_INLINE void SumGroup(int first, int count, AberthState& st) {
  using S = Simd<W>;
  using V = typename S::V;
  constexpr int kChunks = Group<W>::kChunks;
  V x[kChunks], y[kChunks], real[kChunks], sr[kChunks], si[kChunks];
  for (int q = 0; q < kChunks; ++q) {
    x[q] = S::Load(st.zr + first + q * W);
    y[q] = S::Load(st.zi + first + q * W);
    real[q] = S::Load(st.real + first + q * W);
    sr[q] = si[q] = S::Set(0.0);
  }
  const V one = S::Set(1.0), zero = S::Set(0.0);
  for (int j = 0; j < count; ++j) {
    const V xj = S::Set(st.zr[j]), yj = S::Set(st.zi[j]), wj = S::Set(st.weight[j]);
    for (int q = 0; q < kChunks; ++q) {
      // 1 in the lane of approximation j itself: it masks the terms that do not exist.
      const int d = j - first - q * W;
      const V same = (d >= 0 && d < W) ? S::Load(kUnit + 7 - d) : zero;
      const V dx = x[q] - xj, dy = y[q] - yj, cy = y[q] + yj;
      const V direct = dx * dx + dy * dy + same;
      const V mirror = dx * dx + cy * cy + same * real[q];
      const V inv = one / (direct * mirror);
      const V id = mirror * inv, im = direct * inv;
      sr[q] += wj * (dx * (id + im));
      si[q] -= wj * (dy * id + cy * im);
    }
  }
  for (int q = 0; q < kChunks; ++q) {
    S::Store(st.sr + first + q * W, sr[q]);
    S::Store(st.si + first + q * W, si[q]);
  }
}

// Aberth's correction N / (1 - N S) with N = p / p', written p / (p' - p S) (one division),
// applied to the group of approximations from `first`; with |w|^2, |p|^2 and |p'|^2 for the
// convergence test.
template <int W>
EDGESER_INLINE void CorrectGroup(int first, AberthState& st) {
  using S = Simd<W>;
  using V = typename S::V;
  const V one = S::Set(1.0);
  for (int q = 0; q < Group<W>::kChunks; ++q) {
    const int at = first + q * W;
    const V pr = S::Load(st.pr + at), pi = S::Load(st.pim + at);
    const V dr = S::Load(st.dr + at), di = S::Load(st.di + at);
    const V sr = S::Load(st.sr + at), si = S::Load(st.si + at);
    const V qr = dr - (pr * sr - pi * si), qi = di - (pr * si + pi * sr);
    const V inv = one / (qr * qr + qi * qi);
    const V wr = (pr * qr + pi * qi) * inv, wi = (pi * qr - pr * qi) * inv;
    S::Store(st.zr + at, S::Load(st.zr + at) - wr);
    S::Store(st.zi + at, S::Load(st.zi + at) - wi);
    S::Store(st.step2 + at, wr * wr + wi * wi);
    S::Store(st.residual2 + at, pr * pr + pi * pi);
    S::Store(st.slope2 + at, dr * dr + di * di);
  }
}

constexpr int kMaxPairs = 32;  // lpc_order <= 64; larger m computes its start points

// Constants computed once: the grid of RealRootStarts (Chebyshev points on [-1, 1], dense near
// +-1 where the real roots of strongly sloped spectra sit) and the start angles
// e^{i pi (k + 1/2) / m} of m pairs, at circle[m (m - 1) / 2 + k].
struct Tables {
  double grid[kGridIntervals + 1];
  double circle_re[kMaxPairs * (kMaxPairs + 1) / 2], circle_im[kMaxPairs * (kMaxPairs + 1) / 2];
  Tables() {
    for (int g = 0; g <= kGridIntervals; ++g) grid[g] = -std::cos(kPi * g / kGridIntervals);
    grid[0] = -1.0;
    grid[kGridIntervals] = 1.0;
    for (int m = 1; m <= kMaxPairs; ++m)
      for (int k = 0; k < m; ++k) {
        circle_re[m * (m - 1) / 2 + k] = std::cos(kPi * (k + 0.5) / m);
        circle_im[m * (m - 1) / 2 + k] = std::sin(kPi * (k + 0.5) / m);
      }
  }
};
const Tables& GetTables() {
  static const Tables tables;  // thread-safe one-time initialisation
  return tables;
}

// A regula falsi start in each interval of the grid where p changes sign; their number.
EDGESER_INLINE int RealRootStarts(const double* c, int n, double* starts) {
  static const Tables& tables = GetTables();
  const double* x = tables.grid;
  double p[kGridIntervals + 1];
  EvaluateReal(c, n, x, kGridIntervals + 1, p);
  int r = 0;
  for (int g = 0; g < kGridIntervals && r < n; ++g) {
    if ((p[g] < 0.0) == (p[g + 1] < 0.0)) continue;
    const double f = p[g] / (p[g] - p[g + 1]);  // in [0, 1]: p[g], p[g + 1] differ in sign
    starts[r++] = x[g] + f * (x[g + 1] - x[g]);
  }
  return r;
}

// Swaps approximation i with k in every array that follows it around.
void SwapApproximations(AberthState& st, int i, int k) {
  std::swap(st.zr[i], st.zr[k]);
  std::swap(st.zi[i], st.zi[k]);
  std::swap(st.weight[i], st.weight[k]);
  std::swap(st.real[i], st.real[k]);
}

// The starting approximations from the grid and the circle; false when the real roots found
// leave an odd number of complex roots.
EDGESER_INLINE bool StartOnTheCircle(const double* c, int n, AberthState& st, int* count) {
  static const Tables& tables = GetTables();
  const int r = RealRootStarts(c, n, st.zr);
  if ((n - r) % 2 != 0) return false;
  const int m = (n - r) / 2;
  for (int k = 0; k < r; ++k) {
    st.zi[k] = 0.0;
    st.weight[k] = 0.5;
    st.real[k] = 1.0;
  }
  // The pairs start on the circle of the mean modulus that |c_{n-1}| (the product of all the
  // moduli) leaves them, kept in [0.5, 1], at the angles pi (k + 1/2) / m.
  double product = std::fabs(c[n - 1]);
  for (int k = 0; k < r; ++k) product /= std::fabs(st.zr[k]);
  double radius = m > 0 ? std::pow(product, 0.5 / m) : 1.0;
  if (!(radius >= 0.5)) radius = 0.5;
  if (!(radius <= 1.0)) radius = 1.0;
  for (int k = 0; k < m; ++k) {
    double cosine, sine;
    if (m <= kMaxPairs) {
      cosine = tables.circle_re[m * (m - 1) / 2 + k];
      sine = tables.circle_im[m * (m - 1) / 2 + k];
    } else {
      cosine = std::cos(kPi * (k + 0.5) / m);
      sine = std::sin(kPi * (k + 0.5) / m);
    }
    st.zr[r + k] = radius * cosine;
    st.zi[r + k] = radius * sine;
    st.weight[r + k] = 1.0;
    st.real[r + k] = 0.0;
  }
  *count = r + m;
  return true;
}

// The starting approximations from n roots found otherwise (the upper root of each pair).
EDGESER_INLINE void StartFromRoots(const double* re, const double* im, int n, AberthState& st,
                                   int* count) {
  int k = 0;
  for (int i = 0; i < n; ++i) {
    if (im[i] < 0.0) continue;
    st.zr[k] = re[i];
    st.zi[k] = im[i];
    const bool real = im[i] == 0.0;
    st.weight[k] = real ? 0.5 : 1.0;
    st.real[k] = real ? 1.0 : 0.0;
    ++k;
  }
  *count = k;
}

// Sets *ok when every root converged (then written to re, im). With from_roots, re and im hold
// n roots to start from (and polish) instead of the grid and the circle.
template <int W>
EDGESER_INLINE void SymmetricAberthImpl(const double* c, int n, double* re, double* im,
                                        double* work, bool from_roots, bool* ok) {
  *ok = false;
  AberthState st(work, n);
  int count = 0;
  if (from_roots) {
    StartFromRoots(re, im, n, st, &count);
  } else if (!StartOnTheCircle(c, n, st, &count)) {
    return;
  }
  for (int k = count; k < Padded(count); ++k) {  // padding: evaluated, never used
    st.zr[k] = st.zi[k] = 0.5;
    st.weight[k] = st.real[k] = 0.0;
  }
  // Approximations [0, active) still move; converged ones are swapped behind them, where they
  // stay in every sum but are neither evaluated nor corrected again.
  int active = count;
  for (int it = 0; it < kMaxAberthIterations && active > 0; ++it) {
    for (int g = 0; g < active; g += Group<W>::kSize) EvaluateGroup<W>(c, n, g, st);
    for (int g = 0; g < active; g += Group<W>::kSize) SumGroup<W>(g, count, st);
    for (int g = 0; g < active; g += Group<W>::kSize) CorrectGroup<W>(g, st);
    for (int i = active - 1; i >= 0; --i) {
      if (!(st.step2[i] <= 1e300)) return;  // NaN or overflow: hopeless here
      // Walking down, the swap brings in an approximation already judged this iteration.
      if (st.step2[i] < kStepTolerance * kStepTolerance &&
          st.residual2[i] <= kResidualTolerance * kResidualTolerance * st.slope2[i])
        SwapApproximations(st, i, --active);
    }
  }
  if (active > 0) return;
  int out = 0;
  for (int k = 0; k < count; ++k) {
    if (st.real[k] != 0.0) continue;
    re[out] = re[out + 1] = st.zr[k];
    im[out] = std::fabs(st.zi[k]);
    im[out + 1] = -std::fabs(st.zi[k]);
    out += 2;
  }
  for (int k = 0; k < count; ++k) {
    if (st.real[k] == 0.0) continue;
    re[out] = st.zr[k];
    im[out++] = 0.0;
  }
  *ok = true;
}

EDGESER_MULTIVERSIONED(SymmetricAberth,
                       (const double* c, int n, double* re, double* im, double* work,
                        bool from_roots, bool* ok),
                       (c, n, re, im, work, from_roots, ok))

}  // namespace

bool CompanionMatrixRoots(const double* c, int n, double* re, double* im, double* work) {
  Matrix a(work, n);
  for (int i = 0; i < n * n; ++i) work[i] = 0.0;
  for (int j = 0; j < n; ++j) a(0, j) = -c[j];
  for (int i = 1; i < n; ++i) a(i, i - 1) = 1.0;
  Balance(a, n);
  return HessenbergEigenvalues(a, n, re, im);
}

bool MonicPolynomialRoots(const double* c, int n, double* re, double* im, double* work) {
  bool ok = false;
  SymmetricAberth(c, n, re, im, work, false, &ok);
  if (ok) return true;
  if (!CompanionMatrixRoots(c, n, re, im, work)) return false;
  // Polish the eigenvalues (backward stable in the matrix, not in the polynomial) with the same
  // iteration started from them; where it does not converge they stay as they are.
  double* polished = work + n * n;  // after the matrix, which is no longer needed
  double* polished_im = polished + n;
  for (int i = 0; i < n; ++i) {
    polished[i] = re[i];
    polished_im[i] = im[i];
  }
  SymmetricAberth(c, n, polished, polished_im, polished_im + n, true, &ok);
  if (ok) {
    for (int i = 0; i < n; ++i) {
      re[i] = polished[i];
      im[i] = polished_im[i];
    }
  }
  return true;
}

}  // namespace edgeser
