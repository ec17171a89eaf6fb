#include "test_util.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "dct.h"
#include "mel_banks.h"
#include "test_runner.h"
#include "window.h"

namespace edgeser_test {

using edgeser::FeatureKind;
using edgeser::FrontendOptions;

std::vector<float> Noise(int n, std::uint64_t seed, double scale) {
  Rng rng(seed);
  std::vector<float> x(n);
  for (float& v : x) v = static_cast<float>(scale * rng.Normal());
  return x;
}

int NumSignalShapes() { return 10; }

std::vector<float> Signal(int shape, int n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(n);
  const double kPi = 3.14159265358979323846;
  switch (((shape % NumSignalShapes()) + NumSignalShapes()) % NumSignalShapes()) {
    case 0:  // noise
      for (float& v : x) v = static_cast<float>(0.3 * rng.Normal());
      break;
    case 1: {  // two sines: narrow band, quiet far bands
      const double f1 = rng.Uniform(0.001, 0.2), f2 = rng.Uniform(0.05, 0.45);
      for (int i = 0; i < n; ++i)
        x[i] = static_cast<float>(0.5 * std::sin(2 * kPi * f1 * i) +
                                  0.2 * std::sin(2 * kPi * f2 * i + 0.3));
      break;
    }
    case 2:  // chirp
      for (int i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / std::max(n, 1);
        x[i] = static_cast<float>(0.8 * std::sin(2 * kPi * (0.01 * i + 0.2 * i * t)));
      }
      break;
    case 3:  // impulses
      for (int i = 0; i < n; i += 1 + rng.Int(0, 300))
        x[i] = static_cast<float>(rng.Uniform(-1, 1));
      break;
    case 4: {  // DC plus a little noise
      const double dc = rng.Uniform(-1, 1);
      for (float& v : x) v = static_cast<float>(dc + 1e-3 * rng.Normal());
      break;
    }
    case 5:  // silence
      break;
    case 6:  // int16 scale
      for (float& v : x) v = static_cast<float>(std::round(8000.0 * rng.Normal()));
      break;
    case 7:  // extreme float32 values, near the top of the range
      for (float& v : x) v = static_cast<float>(rng.Uniform(-3.0e38, 3.0e38));
      break;
    case 8:  // subnormal and tiny values
      for (float& v : x) v = static_cast<float>(rng.Uniform(-1, 1) * 1e-40);
      break;
    default:  // clipped noise
      for (float& v : x) v = static_cast<float>(std::max(-0.5, std::min(0.5, rng.Normal())));
      break;
  }
  return x;
}

std::vector<std::complex<double>> NaiveRfft(const double* x, int length, int n) {
  // Twiddles from long double angles reduced exactly (t = k j mod n), accumulated in double.
  std::vector<double> c(n), s(n);
  const long double kTwoPi = 6.283185307179586476925286766559L;
  for (int t = 0; t < n; ++t) {
    const long double a = kTwoPi * t / n;
    c[t] = static_cast<double>(std::cos(a));
    s[t] = static_cast<double>(std::sin(a));
  }
  const int len = std::min(length, n);
  std::vector<std::complex<double>> out(n / 2 + 1);
  for (int k = 0; k <= n / 2; ++k) {
    double re = 0.0, im = 0.0;
    long long t = 0;
    for (int j = 0; j < len; ++j, t += k) {
      if (t >= n) t -= n;
      re += x[j] * c[t];
      im -= x[j] * s[t];
    }
    out[k] = {re, im};
  }
  return out;
}

Reference ReferenceFeatures(const FrontendOptions& opts, const float* x, long long n,
                            int max_frames) {
  Reference ref;
  const int length = opts.frame_length(), shift = opts.frame_shift(), nfft = opts.fft_size();
  const int bins = nfft / 2 + 1, n_mels = opts.n_mels, n_mfcc = opts.n_mfcc;
  ref.frames = static_cast<int>(std::min<long long>(opts.num_frames(n), max_frames));
  const std::vector<double> window = edgeser::MakeWindow(opts);
  const std::vector<double> mel = edgeser::MelBanks(opts).Dense();
  const std::vector<double> dct = edgeser::LiftedDctMatrix(opts);
  ref.spectrogram.resize(static_cast<std::size_t>(ref.frames) * bins);
  ref.log_mel.resize(static_cast<std::size_t>(ref.frames) * n_mels);
  ref.mfcc.resize(static_cast<std::size_t>(ref.frames) * n_mfcc);
  std::vector<double> frame(length);
  for (int f = 0; f < ref.frames; ++f) {
    const float* src = x + static_cast<long long>(f) * shift;
    double mean = 0.0;
    if (opts.remove_dc) {
      for (int i = 0; i < length; ++i) mean += src[i];
      mean /= length;
    }
    for (int i = length - 1; i >= 0; --i) {
      const double d = src[i] - mean, prev = src[i > 0 ? i - 1 : 0] - mean;
      frame[i] = (d - opts.preemphasis * prev) * window[i];
    }
    const auto spec = NaiveRfft(frame.data(), length, nfft);
    double* sp = ref.spectrogram.data() + static_cast<std::size_t>(f) * bins;
    for (int k = 0; k < bins; ++k) {
      const double mag = std::abs(spec[k]);
      sp[k] = opts.power == 2.0 ? mag * mag : mag;
    }
    double* lm = ref.log_mel.data() + static_cast<std::size_t>(f) * n_mels;
    for (int m = 0; m < n_mels; ++m) {
      double e = 0.0;
      for (int k = 0; k < bins; ++k) e += mel[static_cast<std::size_t>(m) * bins + k] * sp[k];
      e = std::max(e, opts.log_floor);
      lm[m] = opts.log_type == edgeser::LogType::kDb ? 10.0 * std::log10(e) : std::log(e);
    }
    double* mf = ref.mfcc.data() + static_cast<std::size_t>(f) * n_mfcc;
    for (int k = 0; k < n_mfcc; ++k) {
      double acc = 0.0;
      for (int m = 0; m < n_mels; ++m) acc += dct[static_cast<std::size_t>(k) * n_mels + m] * lm[m];
      mf[k] = acc;
    }
  }
  return ref;
}

std::vector<float> Compute(const FrontendOptions& opts, FeatureKind kind,
                           const std::vector<float>& x) {
  const edgeser::FeatureComputer computer(opts, kind);
  std::vector<float> out(
      static_cast<std::size_t>(computer.NumFrames(static_cast<long long>(x.size()))) *
      computer.feature_dim());
  computer.Compute(x.data(), static_cast<long long>(x.size()), out.data());
  return out;
}

namespace {
double Energy(double log_value, const FrontendOptions& opts) {
  return opts.log_type == edgeser::LogType::kDb ? std::pow(10.0, log_value / 10.0)
                                                : std::exp(log_value);
}
}  // namespace

std::string CompareWithReference(const FrontendOptions& opts, const Reference& ref,
                                 const std::vector<float>& spectrogram,
                                 const std::vector<float>& log_mel,
                                 const std::vector<float>& mfcc) {
  const int bins = opts.n_bins(), n_mels = opts.n_mels, n_mfcc = opts.n_mfcc;
  const std::vector<double> mel = edgeser::MelBanks(opts).Dense();
  const std::vector<double> dct = edgeser::LiftedDctMatrix(opts);
  double max_filter_sum = 0.0;
  for (int m = 0; m < n_mels; ++m) {
    double sum = 0.0;
    for (int k = 0; k < bins; ++k) sum += mel[static_cast<std::size_t>(m) * bins + k];
    max_filter_sum = std::max(max_filter_sum, sum);
  }
  for (int f = 0; f < ref.frames; ++f) {
    const double* want = ref.spectrogram.data() + static_cast<std::size_t>(f) * bins;
    const float* got = spectrogram.data() + static_cast<std::size_t>(f) * bins;
    const double peak = *std::max_element(want, want + bins);
    for (int k = 0; k < bins; ++k) {
      const double g = got[k], w = want[k];
      if (std::isnan(g)) return Str("spectrogram frame ", f, " bin ", k, " is NaN");
      if (std::isinf(g)) {
        if (g > 0 && w >= 0.999 * FLT_MAX) continue;  // above float32's range, as the reference
        return Str("spectrogram frame ", f, " bin ", k, " is ", g, ", reference ", w);
      }
      const double allowed = 1e-6 * std::abs(w) + 1e-9 * peak + 1.5e-45;
      if (std::abs(g - w) > allowed)
        return Str("spectrogram frame ", f, " bin ", k, ": ", g, " vs reference ", w);
    }
    const double* lw = ref.log_mel.data() + static_cast<std::size_t>(f) * n_mels;
    const float* lg = log_mel.data() + static_cast<std::size_t>(f) * n_mels;
    double strongest = 0.0;
    for (int m = 0; m < n_mels; ++m) strongest = std::max(strongest, Energy(lw[m], opts));
    const double scale = std::max(strongest, peak * max_filter_sum);
    for (int m = 0; m < n_mels; ++m) {
      if (!std::isfinite(lg[m])) return Str("log_mel frame ", f, " band ", m, " is ", lg[m]);
      // Compared in linear energy: round-off in a band is relative to the frame's spectrum.
      const double eg = Energy(lg[m], opts), ew = Energy(static_cast<float>(lw[m]), opts);
      if (std::abs(eg - ew) > 1e-4 * ew + 1e-9 * scale)
        return Str("log_mel frame ", f, " band ", m, ": ", lg[m], " vs reference ", lw[m]);
    }
    // MFCC: the lifted DCT of the log-mel the library produced (checked just above).
    const float* mg = mfcc.data() + static_cast<std::size_t>(f) * n_mfcc;
    double mscale = 1.0;
    std::vector<double> want_mfcc(n_mfcc);
    for (int k = 0; k < n_mfcc; ++k) {
      double acc = 0.0;
      for (int m = 0; m < n_mels; ++m) acc += dct[static_cast<std::size_t>(k) * n_mels + m] * lg[m];
      want_mfcc[k] = acc;
      mscale = std::max(mscale, std::abs(acc));
    }
    for (int k = 0; k < n_mfcc; ++k) {
      if (!(std::abs(mg[k] - want_mfcc[k]) <= 1e-5 * mscale))
        return Str("mfcc frame ", f, " coefficient ", k, ": ", mg[k], " vs ", want_mfcc[k]);
    }
  }
  return "";
}

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || !std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
}

double WorstRatio(const std::vector<float>& a, const std::vector<float>& b, double rtol,
                  double atol) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i]) continue;  // also equal infinities
    const double err = std::abs(static_cast<double>(a[i]) - b[i]);
    const double ratio = err / (rtol * std::abs(static_cast<double>(b[i])) + atol);
    if (!(ratio <= worst)) worst = ratio;  // NaN propagates as a failure
  }
  return worst;
}

std::string Describe(const FrontendOptions& o) {
  std::ostringstream s;
  s.precision(17);
  s << "sample_rate=" << o.sample_rate << " frame_length_ms=" << o.frame_length_ms
    << " frame_shift_ms=" << o.frame_shift_ms << " n_fft=" << o.n_fft
    << " window=" << edgeser::ToString(o.window) << " preemphasis=" << o.preemphasis
    << " remove_dc=" << o.remove_dc << " n_mels=" << o.n_mels << " fmin=" << o.fmin
    << " fmax=" << o.fmax << " mel_scale=" << edgeser::ToString(o.mel_scale)
    << " mel_norm=" << edgeser::ToString(o.mel_norm)
    << " triangle_domain=" << edgeser::ToString(o.triangle_domain) << " power=" << o.power
    << " log_type=" << edgeser::ToString(o.log_type) << " log_floor=" << o.log_floor
    << " n_mfcc=" << o.n_mfcc << " lifter=" << o.lifter << " deltas=" << o.deltas
    << " delta_window=" << o.delta_window << " cmvn=" << edgeser::ToString(o.cmvn)
    << " vtlp_alpha=" << o.vtlp_alpha << " vtlp_high_hz=" << o.vtlp_high_hz;
  return s.str();
}

}  // namespace edgeser_test
