#include "rfft.h"

#include <cmath>
#include <stdexcept>

namespace edgeser {
namespace {

constexpr int K = kLanes;
constexpr int S = kComplexStride;

bool IsPowerOfTwo(long long n) { return n >= 1 && (n & (n - 1)) == 0; }

int Log2(int n) {
  int k = 0;
  while ((1 << k) < n) ++k;
  return k;
}

// e^{-2 pi i num / den} as (c, s) with the value c + i s; exact on quarter turns and accurate
// to an ulp elsewhere because the angle handed to sin/cos is at most pi/2.
void UnitRoot(long long num, long long den, double* c, double* s) {
  const double kHalfPi = 1.57079632679489661923;
  long long r = num % den;
  if (r < 0) r += den;
  const long long q = (4 * r) / den;
  const long long rem = 4 * r - q * den;
  const double theta = kHalfPi * static_cast<double>(rem) / static_cast<double>(den);
  const double ct = rem ? std::cos(theta) : 1.0, st = rem ? std::sin(theta) : 0.0;
  double cos_a, sin_a;  // of the full angle 2 pi r / den = q * pi/2 + theta
  // clang-format off: one quadrant per line
  switch (q) {
    case 0: cos_a = ct; sin_a = st; break;
    case 1: cos_a = -st; sin_a = ct; break;
    case 2: cos_a = -ct; sin_a = -st; break;
    default: cos_a = st; sin_a = -ct; break;
  }
  // clang-format on
  *c = cos_a;
  *s = -sin_a;
}

// One register-wide chunk of complex lanes: W real parts and W imaginary parts.
template <int W>
struct Cplx {
  typedef typename Simd<W>::V V;
  V re, im;
  static EDGESER_INLINE Cplx Load(const double* p) {
    return {Simd<W>::Load(p), Simd<W>::Load(p + K)};
  }
  EDGESER_INLINE void Store(double* p) const {
    Simd<W>::Store(p, re);
    Simd<W>::Store(p + K, im);
  }
  EDGESER_INLINE Cplx operator+(const Cplx& b) const { return {re + b.re, im + b.im}; }
  EDGESER_INLINE Cplx operator-(const Cplx& b) const { return {re - b.re, im - b.im}; }
  EDGESER_INLINE Cplx Times(double c, double s) const {  // * (c + i s)
    return {re * c - im * s, re * s + im * c};
  }
  EDGESER_INLINE Cplx TimesMinusI() const { return {im, -re}; }
  EDGESER_INLINE Cplx Conj() const { return {re, -im}; }
};

// ---- complex FFT passes (bit-reversed input, in place) ----------------------------------------
// Point k of a transform holds kLanes real parts at d + k*S and kLanes imaginary parts after.

// Stage with half-size 1 (twiddle 1).
// `active` (a multiple of W) is the number of leading lanes computed; the others are skipped.
template <int W>
EDGESER_INLINE void Radix2FirstPass(double* d, int m, int active) {
  using C = Cplx<W>;
  for (int b = 0; b < m; b += 2) {
    for (int c = 0; c < active; c += W) {
      double* p = d + b * S + c;
      const C a0 = C::Load(p), a1 = C::Load(p + S);
      (a0 + a1).Store(p);
      (a0 - a1).Store(p + S);
    }
  }
}

// Stages with half-sizes 1 and 2 fused (twiddles 1 and -i).
template <int W>
EDGESER_INLINE void Radix4FirstPass(double* d, int m, int active) {
  using C = Cplx<W>;
  for (int b = 0; b < m; b += 4) {
    for (int c = 0; c < active; c += W) {
      double* p = d + b * S + c;
      const C a0 = C::Load(p), a1 = C::Load(p + S), a2 = C::Load(p + 2 * S),
              a3 = C::Load(p + 3 * S);
      const C b0 = a0 + a1, b1 = a0 - a1, b2 = a2 + a3, b3 = (a2 - a3).TimesMinusI();
      (b0 + b2).Store(p);
      (b1 + b3).Store(p + S);
      (b0 - b2).Store(p + 2 * S);
      (b1 - b3).Store(p + 3 * S);
    }
  }
}

// Stages with half-sizes h and 2h fused: w1 = e^{-2 pi i j / 2h} for the first,
// w2 = e^{-2 pi i j / 4h} (and -i w2 for the odd pairs) for the second. j = 0 (all twiddles 1)
// skips the multiplications.
template <int W>
EDGESER_INLINE void Radix4Pass(double* d, int m, int h, const double* tw, int active) {
  using C = Cplx<W>;
  const int hs = h * S;
  for (int b = 0; b < m; b += 4 * h) {
    for (int c = 0; c < active; c += W) {
      double* p = d + b * S + c;
      const C a0 = C::Load(p), a1 = C::Load(p + hs), a2 = C::Load(p + 2 * hs),
              a3 = C::Load(p + 3 * hs);
      const C b0 = a0 + a1, b1 = a0 - a1, b2 = a2 + a3, b3 = (a2 - a3).TimesMinusI();
      (b0 + b2).Store(p);
      (b1 + b3).Store(p + hs);
      (b0 - b2).Store(p + 2 * hs);
      (b1 - b3).Store(p + 3 * hs);
    }
    for (int j = 1; j < h; ++j) {
      const double c1 = tw[4 * j], s1 = tw[4 * j + 1], c2 = tw[4 * j + 2], s2 = tw[4 * j + 3];
      for (int c = 0; c < active; c += W) {
        double* p = d + (b + j) * S + c;
        const C a0 = C::Load(p), a1 = C::Load(p + hs), a2 = C::Load(p + 2 * hs),
                a3 = C::Load(p + 3 * hs);
        const C t1 = a1.Times(c1, s1), t3 = a3.Times(c1, s1);
        const C b0 = a0 + t1, b1 = a0 - t1, b2 = a2 + t3, b3 = a2 - t3;
        const C u2 = b2.Times(c2, s2), u3 = b3.Times(c2, s2).TimesMinusI();
        (b0 + u2).Store(p);
        (b1 + u3).Store(p + hs);
        (b0 - u2).Store(p + 2 * hs);
        (b1 - u3).Store(p + 3 * hs);
      }
    }
  }
}

// The passes after the first one; the first pass ran with half-size 1 (odd log2 m) or fused
// half-sizes 1 and 2 (even log2 m).
template <int W>
EDGESER_INLINE void LaterPasses(double* d, int m, int log2m, const double* tw, int active) {
  for (int h = (log2m & 1) ? 2 : 4; h < m; h *= 4) {
    Radix4Pass<W>(d, m, h, tw, active);
    tw += 4 * h;
  }
}

template <int W>
EDGESER_INLINE void ComplexForwardImpl(double* d, int m, int log2m, const double* tw, int active) {
  if (log2m == 0) return;
  if (log2m & 1) {
    Radix2FirstPass<W>(d, m, active);
  } else {
    Radix4FirstPass<W>(d, m, active);
  }
  LaterPasses<W>(d, m, log2m, tw, active);
}

// ---- spectrum output --------------------------------------------------------------------------
template <int W>
EDGESER_INLINE void StoreBin(SpectrumOutput what, double* out, int k, int c, const Cplx<W>& x) {
  if (what == SpectrumOutput::kComplex) {
    x.Store(out + k * S + c);
    return;
  }
  typename Simd<W>::V p = x.re * x.re + x.im * x.im;
  if (what == SpectrumOutput::kMagnitude) {
    double tmp[W];
    Simd<W>::Store(tmp, p);
    for (int q = 0; q < W; ++q) tmp[q] = std::sqrt(tmp[q]);
    p = Simd<W>::Load(tmp);
  }
  Simd<W>::Store(out + k * K + c, p);
}

// ---- real transform, power-of-two size n = 2m --------------------------------------------------
// Complex point j = (x[2j], x[2j+1]) of lanes [c, c + W); zero past the frame's length.
template <int W>
EDGESER_INLINE Cplx<W> SamplePair(const double* x, int length, int j, int c) {
  const typename Simd<W>::V zero = Simd<W>::Set(0.0);
  if (2 * j + 1 < length)
    return {Simd<W>::Load(x + 2 * j * K + c), Simd<W>::Load(x + (2 * j + 1) * K + c)};
  if (2 * j < length) return {Simd<W>::Load(x + 2 * j * K + c), zero};
  return {zero, zero};
}

struct SplitPlan {
  int m;
  int log2m;
  const int* rev;
  const double* tw;
  const double* cs;  // cos(2 pi k / n), k <= m
  const double* sn;  // sin(2 pi k / n)
};

// Bin k of the output from 2X (twice the bin, so no halving per term): x2 holds 2 Re X,
// y2 2 Im X.
template <int W, SpectrumOutput What>
EDGESER_INLINE void StoreDoubledBin(double* out, int k, int c, typename Simd<W>::V x2,
                                    typename Simd<W>::V y2) {
  if (What == SpectrumOutput::kComplex) {
    Cplx<W>{0.5 * x2, 0.5 * y2}.Store(out + k * S + c);
    return;
  }
  typename Simd<W>::V p = 0.25 * (x2 * x2 + y2 * y2);
  if (What == SpectrumOutput::kMagnitude) {
    double tmp[W];
    Simd<W>::Store(tmp, p);
    for (int q = 0; q < W; ++q) tmp[q] = std::sqrt(tmp[q]);
    p = Simd<W>::Load(tmp);
  }
  Simd<W>::Store(out + k * K + c, p);
}

// The split step: with a = Z[k], b = Z[m-k] and w = e^{-2 pi i k/n} = cw - i sw,
// X[k] = (a + conj b) / 2 - i w (a - conj b) / 2, and bin m-k comes from the same two points
// (its twiddle is -conj w): 2X[k] = E + P, 2X[m-k] = conj E - conj(-P) with E = a + conj b and
// P = -i w (a - conj b), so each pair of bins costs one complex multiplication.
template <int W, SpectrumOutput What>
EDGESER_INLINE void SplitBins(const SplitPlan& p, const double* d, int bins, double* out,
                              int active) {
  using C = Cplx<W>;
  using V = typename Simd<W>::V;
  const int m = p.m;
  for (int k = 0; 2 * k <= m; ++k) {
    const bool low = k < bins, high = m - k != k && m - k < bins;
    if (!low && !high) continue;
    const double* za = d + k * S;
    const double* zb = d + (k == 0 ? 0 : m - k) * S;
    const double cw = p.cs[k], sw = p.sn[k];
    for (int c = 0; c < active; c += W) {
      const C a = C::Load(za + c), b = C::Load(zb + c);
      const V er = a.re + b.re, ei = a.im - b.im;
      const V orr = a.im + b.im, oi = b.re - a.re;
      const V pr = cw * orr + sw * oi, pi = cw * oi - sw * orr;
      if (low) StoreDoubledBin<W, What>(out, k, c, er + pr, ei + pi);
      if (high) StoreDoubledBin<W, What>(out, m - k, c, er - pr, pi - ei);
    }
  }
}

// Sample pairs (x[2j], x[2j+1]) become complex point j of a half-size complex FFT Z (loaded in
// bit-reversed order by its first pass); then
// X[k] = (Z[k] + conj Z[m-k]) / 2 - i e^{-2 pi i k/n} (Z[k] - conj Z[m-k]) / 2.
template <int W>
EDGESER_INLINE void SplitForwardImpl(const SplitPlan& p, const double* x, int length,
                                     SpectrumOutput what, int bins, double* out, double* d,
                                     int lanes) {
  using C = Cplx<W>;
  const int active = (lanes + W - 1) / W * W;
  const int m = p.m;
  // The first butterfly pass reads the points straight from x in bit-reversed order.
  if (p.log2m == 0) {
    for (int c = 0; c < active; c += W) SamplePair<W>(x, length, 0, c).Store(d + c);
  } else if (p.log2m & 1) {
    for (int b = 0; b < m; b += 2) {
      for (int c = 0; c < active; c += W) {
        const C a0 = SamplePair<W>(x, length, p.rev[b], c);
        const C a1 = SamplePair<W>(x, length, p.rev[b + 1], c);
        (a0 + a1).Store(d + b * S + c);
        (a0 - a1).Store(d + (b + 1) * S + c);
      }
    }
  } else {
    for (int b = 0; b < m; b += 4) {
      for (int c = 0; c < active; c += W) {
        const C a0 = SamplePair<W>(x, length, p.rev[b], c);
        const C a1 = SamplePair<W>(x, length, p.rev[b + 1], c);
        const C a2 = SamplePair<W>(x, length, p.rev[b + 2], c);
        const C a3 = SamplePair<W>(x, length, p.rev[b + 3], c);
        const C b0 = a0 + a1, b1 = a0 - a1, b2 = a2 + a3, b3 = (a2 - a3).TimesMinusI();
        double* q = d + b * S + c;
        (b0 + b2).Store(q);
        (b1 + b3).Store(q + S);
        (b0 - b2).Store(q + 2 * S);
        (b1 - b3).Store(q + 3 * S);
      }
    }
  }
  LaterPasses<W>(d, m, p.log2m, p.tw, active);
  switch (what) {
    case SpectrumOutput::kComplex:
      SplitBins<W, SpectrumOutput::kComplex>(p, d, bins, out, active);
      return;
    case SpectrumOutput::kPower:
      SplitBins<W, SpectrumOutput::kPower>(p, d, bins, out, active);
      return;
    case SpectrumOutput::kMagnitude:
      SplitBins<W, SpectrumOutput::kMagnitude>(p, d, bins, out, active);
      return;
  }
}

EDGESER_MULTIVERSIONED(SplitForward,
                       (const SplitPlan& p, const double* x, int length, SpectrumOutput what,
                        int bins, double* out, double* d, int lanes),
                       (p, x, length, what, bins, out, d, lanes))

// ---- Bluestein, any size n: X[k] = w[k] sum_j (x[j] w[j]) conj(w[k-j]), w[j] = e^{-i pi j^2/n}
struct BluesteinPlan {
  int p;
  int log2p;
  const int* rev;
  const double* tw;
  const double* wr;  // chirp w, n entries
  const double* wi;
  const double* fr;  // DFT of the conjugate chirp, divided by p
  const double* fi;
};

template <int W>
EDGESER_INLINE void BluesteinForwardImpl(const BluesteinPlan& p, const double* x, int length,
                                         SpectrumOutput what, int bins, double* out, double* a,
                                         double* g, int lanes) {
  using C = Cplx<W>;
  const int active = (lanes + W - 1) / W * W;
  int j = 0;
  for (; j < length; ++j) {
    for (int c = 0; c < active; c += W) {
      const typename Simd<W>::V v = Simd<W>::Load(x + j * K + c);
      C{v * p.wr[j], v * p.wi[j]}.Store(a + p.rev[j] * S + c);
    }
  }
  for (; j < p.p; ++j) {
    for (int c = 0; c < active; c += W)
      C{Simd<W>::Set(0.0), Simd<W>::Set(0.0)}.Store(a + p.rev[j] * S + c);
  }
  ComplexForwardImpl<W>(a, p.p, p.log2p, p.tw, active);
  // g[rev k] = conj(A[k] F[k]); a forward FFT of g is then the conjugate of the inverse DFT.
  for (int k = 0; k < p.p; ++k) {
    for (int c = 0; c < active; c += W)
      C::Load(a + k * S + c).Times(p.fr[k], p.fi[k]).Conj().Store(g + p.rev[k] * S + c);
  }
  ComplexForwardImpl<W>(g, p.p, p.log2p, p.tw, active);
  for (int k = 0; k < bins; ++k) {
    for (int c = 0; c < active; c += W)
      StoreBin<W>(what, out, k, c, C::Load(g + k * S + c).Conj().Times(p.wr[k], p.wi[k]));
  }
}

EDGESER_MULTIVERSIONED(BluesteinForward,
                       (const BluesteinPlan& p, const double* x, int length, SpectrumOutput what,
                        int bins, double* out, double* a, double* g, int lanes),
                       (p, x, length, what, bins, out, a, g, lanes))

EDGESER_MULTIVERSIONED(ComplexForward, (double* d, int m, int log2m, const double* tw, int active),
                       (d, m, log2m, tw, active))

}  // namespace

// ---- ComplexFft ---------------------------------------------------------------------------------

ComplexFft::ComplexFft(int m) : m_(m), log2m_(Log2(m)) {
  if (!IsPowerOfTwo(m)) throw std::invalid_argument("ComplexFft size must be a power of two");
  bit_reverse_.resize(m);
  for (int n = 0; n < m; ++n) {
    int r = 0;
    for (int b = 0; b < log2m_; ++b) r |= ((n >> b) & 1) << (log2m_ - 1 - b);
    bit_reverse_[n] = r;
  }
  // Twiddles of the generic fused passes, in the order Forward() runs them.
  for (int h = (log2m_ & 1) ? 2 : 4; h < m; h *= 4) {
    for (int j = 0; j < h; ++j) {
      double c1, s1, c2, s2;
      UnitRoot(j, 2LL * h, &c1, &s1);
      UnitRoot(j, 4LL * h, &c2, &s2);
      twiddles_.insert(twiddles_.end(), {c1, s1, c2, s2});
    }
  }
}

void ComplexFft::Forward(double* data) const {
  ComplexForward(data, m_, log2m_, twiddles_.data(), K);
}

// ---- RealFft ------------------------------------------------------------------------------------

namespace {
int HalfOrBluesteinSize(int n) {
  if (n < 1) throw std::invalid_argument("RealFft size must be positive");
  if (n >= 2 && IsPowerOfTwo(n)) return n / 2;
  int p = 1;
  while (p < 2 * n - 1) p <<= 1;
  return p;
}
}  // namespace

RealFft::RealFft(int n) : n_(n), fft_(HalfOrBluesteinSize(n)) {
  if (n >= 2 && IsPowerOfTwo(n)) {
    const int m = n / 2;
    split_cos_.resize(m + 1);
    split_sin_.resize(m + 1);
    for (int k = 0; k <= m; ++k) {
      double c, s;
      UnitRoot(k, n, &c, &s);
      split_cos_[k] = c;
      split_sin_[k] = -s;
    }
    return;
  }
  const int p = fft_.size();
  bluestein_size_ = p;
  chirp_re_.resize(n);
  chirp_im_.resize(n);
  for (long long j = 0; j < n; ++j) {
    UnitRoot((j * j) % (2LL * n), 2LL * n, &chirp_re_[j], &chirp_im_[j]);
  }
  // Filter b[j] = conj(w[j]) for |j| < n (indices mod p), transformed once with equal lanes.
  AlignedBuffer buf(static_cast<std::size_t>(p) * S);
  const std::vector<int>& rev = fft_.bit_reverse();
  auto put = [&](int j, double re, double im) {
    for (int l = 0; l < K; ++l) {
      buf.data()[rev[j] * S + l] = re;
      buf.data()[rev[j] * S + K + l] = im;
    }
  };
  for (int j = 0; j < n; ++j) {
    put(j, chirp_re_[j], -chirp_im_[j]);
    if (j) put(p - j, chirp_re_[j], -chirp_im_[j]);
  }
  fft_.Forward(buf.data());
  filter_re_.resize(p);
  filter_im_.resize(p);
  for (int k = 0; k < p; ++k) {
    filter_re_[k] = buf.data()[k * S] / p;
    filter_im_[k] = buf.data()[k * S + K] / p;
  }
}

std::size_t RealFft::workspace_size() const {
  const std::size_t points = static_cast<std::size_t>(fft_.size());
  return (is_power_of_two() ? 1 : 2) * points * S;
}

void RealFft::Forward(const double* samples, int length, SpectrumOutput what, int bins, double* out,
                      double* work, int lanes) const {
  if (length < 0 || length > n_) throw std::invalid_argument("RealFft: frame longer than size");
  if (bins < 0 || bins > num_bins()) throw std::invalid_argument("RealFft: too many bins");
  if (lanes < 1 || lanes > K) throw std::invalid_argument("RealFft: lanes must be 1..kLanes");
  if (is_power_of_two()) {
    const SplitPlan plan{
        fft_.size(),       fft_.log2_size(), fft_.bit_reverse().data(), fft_.twiddles().data(),
        split_cos_.data(), split_sin_.data()};
    SplitForward(plan, samples, length, what, bins, out, work, lanes);
    return;
  }
  const BluesteinPlan plan{bluestein_size_,        fft_.log2_size(), fft_.bit_reverse().data(),
                           fft_.twiddles().data(), chirp_re_.data(), chirp_im_.data(),
                           filter_re_.data(),      filter_im_.data()};
  BluesteinForward(plan, samples, length, what, bins, out, work,
                   work + static_cast<std::size_t>(bluestein_size_) * S, lanes);
}

}  // namespace edgeser
