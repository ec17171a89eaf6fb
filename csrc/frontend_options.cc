#include "frontend_options.h"

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <utility>

namespace edgeser {
namespace {

// One name table per enum; the same table drives parsing and printing.
const std::pair<WindowType, const char*> kWindowNames[] = {
    {WindowType::kHamming, "hamming"},
    {WindowType::kHann, "hann"},
    {WindowType::kPovey, "povey"},
    {WindowType::kRectangular, "rectangular"}};
const std::pair<MelScale, const char*> kMelScaleNames[] = {{MelScale::kHtk, "htk"},
                                                           {MelScale::kSlaney, "slaney"}};
const std::pair<MelNorm, const char*> kMelNormNames[] = {{MelNorm::kNone, "none"},
                                                         {MelNorm::kSlaney, "slaney"}};
const std::pair<TriangleDomain, const char*> kTriangleDomainNames[] = {
    {TriangleDomain::kHz, "hz"}, {TriangleDomain::kMel, "mel"}};
const std::pair<LogType, const char*> kLogTypeNames[] = {{LogType::kNatural, "natural"},
                                                         {LogType::kDb, "db"}};
const std::pair<CmvnMode, const char*> kCmvnNames[] = {
    {CmvnMode::kNone, "none"}, {CmvnMode::kMean, "mean"}, {CmvnMode::kMeanVar, "meanvar"}};
const std::pair<FeatureKind, const char*> kKindNames[] = {
    {FeatureKind::kSpectrogram, "spectrogram"},
    {FeatureKind::kLogMel, "log_mel"},
    {FeatureKind::kMfcc, "mfcc"}};

template <typename E, std::size_t N>
E Parse(const std::pair<E, const char*> (&table)[N], const std::string& s, const char* what) {
  for (const auto& entry : table) {
    if (s == entry.second) return entry.first;
  }
  std::string choices;
  for (const auto& entry : table)
    choices += std::string(choices.empty() ? "" : ", ") + entry.second;
  throw std::invalid_argument(std::string("unknown ") + what + " '" + s + "'; choose from " +
                              choices);
}

template <typename E, std::size_t N>
std::string Name(const std::pair<E, const char*> (&table)[N], E v) {
  for (const auto& entry : table) {
    if (entry.first == v) return entry.second;
  }
  throw std::invalid_argument("enum value out of range");
}

template <typename E, std::size_t N>
bool Known(const std::pair<E, const char*> (&table)[N], E v) {
  for (const auto& entry : table) {
    if (entry.first == v) return true;
  }
  return false;
}

// Python's round(): half to even, which std::nearbyint gives in the default rounding mode.
int RoundHalfEven(double v) { return static_cast<int>(std::nearbyint(v)); }

[[noreturn]] void Bad(const char* field, const std::string& why) {
  throw std::invalid_argument(std::string("FrontendOptions.") + field + ": " + why);
}

// The derived sizes without validation, for Validate() itself (which checks the ranges that
// make them well defined before it calls each one) and the accessors after it.
struct Derived {
  static double LengthSamples(const FrontendOptions& o) {
    return o.sample_rate * o.frame_length_ms / 1000.0;
  }
  static double ShiftSamples(const FrontendOptions& o) {
    return o.sample_rate * o.frame_shift_ms / 1000.0;
  }
  static int FrameLength(const FrontendOptions& o) { return RoundHalfEven(LengthSamples(o)); }
  static int FrameShift(const FrontendOptions& o) { return RoundHalfEven(ShiftSamples(o)); }
  static int FftSize(const FrontendOptions& o) {
    if (o.n_fft) return o.n_fft;
    const int length = FrameLength(o);  // <= 65536 once validated
    int n = 1;
    while (n < length) n <<= 1;
    return n;
  }
  static double FmaxHz(const FrontendOptions& o) {
    const double nyquist = o.sample_rate / 2.0;
    return o.fmax <= 0 ? nyquist + o.fmax : o.fmax;
  }
};
}  // namespace

long long NumFrames(long long num_samples, long long length, long long shift) {
  if (num_samples < length) return 0;
  return 1 + (num_samples - length) / shift;
}

int FrontendOptions::frame_length() const {
  Validate();
  return Derived::FrameLength(*this);
}

int FrontendOptions::frame_shift() const {
  Validate();
  return Derived::FrameShift(*this);
}

int FrontendOptions::fft_size() const {
  Validate();
  return Derived::FftSize(*this);
}

double FrontendOptions::fmax_hz() const {
  Validate();
  return Derived::FmaxHz(*this);
}

long long FrontendOptions::num_frames(long long num_samples) const {
  Validate();
  return NumFrames(num_samples, Derived::FrameLength(*this), Derived::FrameShift(*this));
}

int FrontendOptions::static_dim(FeatureKind kind) const {
  switch (kind) {
    case FeatureKind::kSpectrogram:
      return n_bins();
    case FeatureKind::kLogMel:
      Validate();
      return n_mels;
    case FeatureKind::kMfcc:
      Validate();
      return n_mfcc;
  }
  throw std::invalid_argument("unknown feature kind");
}

void FrontendOptions::Validate() const {
  const std::pair<const char*, double> finite_fields[] = {{"frame_length_ms", frame_length_ms},
                                                          {"frame_shift_ms", frame_shift_ms},
                                                          {"fmin", fmin},
                                                          {"fmax", fmax},
                                                          {"preemphasis", preemphasis},
                                                          {"power", power},
                                                          {"log_floor", log_floor},
                                                          {"lifter", lifter},
                                                          {"vtlp_alpha", vtlp_alpha},
                                                          {"vtlp_high_hz", vtlp_high_hz}};
  for (const auto& field : finite_fields) {
    if (!std::isfinite(field.second)) Bad(field.first, "must be finite");
  }
  if (sample_rate < 1000 || sample_rate > 384000) Bad("sample_rate", "must be in [1000, 384000]");
  // Sample counts checked in double first, so the int conversions below cannot overflow.
  const double length_samples = Derived::LengthSamples(*this);
  const double shift_samples = Derived::ShiftSamples(*this);
  if (!(length_samples >= 1.5)) Bad("frame_length_ms", "gives a frame shorter than 2 samples");
  if (!(length_samples <= 65536.5))
    Bad("frame_length_ms", "gives a frame longer than 65536 samples");
  if (!(shift_samples >= 0.5)) Bad("frame_shift_ms", "gives a shift shorter than 1 sample");
  if (!(shift_samples <= 1e9)) Bad("frame_shift_ms", "gives a shift longer than 1e9 samples");
  const int length = Derived::FrameLength(*this);
  if (length < 2) Bad("frame_length_ms", "gives a frame shorter than 2 samples");
  if (length > 65536) Bad("frame_length_ms", "gives a frame longer than 65536 samples");
  if (Derived::FrameShift(*this) < 1) Bad("frame_shift_ms", "gives a shift shorter than 1 sample");
  if (n_fft < 0 || n_fft > 131072) Bad("n_fft", "must be 0 (auto) or in [frame_length, 131072]");
  if (n_fft && n_fft < length) Bad("n_fft", "must be >= the frame length");
  if (!(preemphasis >= 0.0 && preemphasis < 1.0)) Bad("preemphasis", "must be in [0, 1)");
  if (n_mels < 1 || n_mels > 512) Bad("n_mels", "must be in [1, 512]");
  const double nyquist = sample_rate / 2.0;
  if (fmin < 0) Bad("fmin", "must be >= 0");
  if (fmax > nyquist) Bad("fmax", "is above the Nyquist frequency");
  if (!(Derived::FmaxHz(*this) > fmin)) Bad("fmax", "gives an upper edge not above fmin");
  if (power != 1.0 && power != 2.0) Bad("power", "must be 1 or 2");
  if (!(log_floor > 0)) Bad("log_floor", "must be positive");
  if (n_mfcc < 1 || n_mfcc > n_mels) Bad("n_mfcc", "must be in [1, n_mels]");
  if (lifter != 0 && lifter < 1) Bad("lifter", "must be 0 (off) or >= 1");
  if (deltas < 0 || deltas > 2) Bad("deltas", "must be 0, 1 or 2");
  if (delta_window < 1 || delta_window > 10) Bad("delta_window", "must be in [1, 10]");
  if (!(vtlp_alpha >= 0.5 && vtlp_alpha <= 2.0)) Bad("vtlp_alpha", "must be in [0.5, 2]");
  if (vtlp_alpha != 1.0 && !(vtlp_high_hz > 0 && vtlp_high_hz < nyquist))
    Bad("vtlp_high_hz", "must be in (0, Nyquist) when VTLP is on");
  // Enum fields hold one of their names (a static_cast from elsewhere could make them not).
  if (!Known(kWindowNames, window)) Bad("window", "is not a known window");
  if (!Known(kMelScaleNames, mel_scale)) Bad("mel_scale", "is not a known mel scale");
  if (!Known(kMelNormNames, mel_norm)) Bad("mel_norm", "is not a known normalisation");
  if (!Known(kTriangleDomainNames, triangle_domain))
    Bad("triangle_domain", "is not a known domain");
  if (!Known(kLogTypeNames, log_type)) Bad("log_type", "is not a known log type");
  if (!Known(kCmvnNames, cmvn)) Bad("cmvn", "is not a known CMVN mode");
}

WindowType ParseWindowType(const std::string& s) { return Parse(kWindowNames, s, "window"); }
MelScale ParseMelScale(const std::string& s) { return Parse(kMelScaleNames, s, "mel_scale"); }
MelNorm ParseMelNorm(const std::string& s) { return Parse(kMelNormNames, s, "mel_norm"); }
TriangleDomain ParseTriangleDomain(const std::string& s) {
  return Parse(kTriangleDomainNames, s, "triangle_domain");
}
LogType ParseLogType(const std::string& s) { return Parse(kLogTypeNames, s, "log_type"); }
CmvnMode ParseCmvnMode(const std::string& s) { return Parse(kCmvnNames, s, "cmvn"); }
FeatureKind ParseFeatureKind(const std::string& s) { return Parse(kKindNames, s, "feature kind"); }
std::string ToString(WindowType v) { return Name(kWindowNames, v); }
std::string ToString(MelScale v) { return Name(kMelScaleNames, v); }
std::string ToString(MelNorm v) { return Name(kMelNormNames, v); }
std::string ToString(TriangleDomain v) { return Name(kTriangleDomainNames, v); }
std::string ToString(LogType v) { return Name(kLogTypeNames, v); }
std::string ToString(CmvnMode v) { return Name(kCmvnNames, v); }
std::string ToString(FeatureKind v) { return Name(kKindNames, v); }

}  // namespace edgeser
