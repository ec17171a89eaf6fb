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

// Python's round(): half to even, which std::nearbyint gives in the default rounding mode.
int RoundHalfEven(double v) { return static_cast<int>(std::nearbyint(v)); }

[[noreturn]] void Bad(const char* field, const std::string& why) {
  throw std::invalid_argument(std::string("FrontendOptions.") + field + ": " + why);
}

}  // namespace

int FrontendOptions::frame_length() const {
  return RoundHalfEven(sample_rate * frame_length_ms / 1000.0);
}

int FrontendOptions::frame_shift() const {
  return RoundHalfEven(sample_rate * frame_shift_ms / 1000.0);
}

int FrontendOptions::fft_size() const {
  if (n_fft) return n_fft;
  int n = 1;
  while (n < frame_length()) n <<= 1;
  return n;
}

double FrontendOptions::fmax_hz() const {
  const double nyquist = sample_rate / 2.0;
  return fmax <= 0 ? nyquist + fmax : fmax;
}

long long FrontendOptions::num_frames(long long num_samples) const {
  const long long length = frame_length();
  if (num_samples < length) return 0;
  return 1 + (num_samples - length) / frame_shift();
}

int FrontendOptions::static_dim(FeatureKind kind) const {
  switch (kind) {
    case FeatureKind::kSpectrogram:
      return n_bins();
    case FeatureKind::kLogMel:
      return n_mels;
    case FeatureKind::kMfcc:
      return n_mfcc;
  }
  throw std::invalid_argument("unknown feature kind");
}

void FrontendOptions::Validate() const {
  const double finite_fields[] = {frame_length_ms, frame_shift_ms, fmin,      fmax,
                                  preemphasis,     power,          log_floor, lifter,
                                  vtlp_alpha,      vtlp_high_hz};
  for (double v : finite_fields) {
    if (!std::isfinite(v)) Bad("(float field)", "must be finite");
  }
  if (sample_rate < 1000 || sample_rate > 384000) Bad("sample_rate", "must be in [1000, 384000]");
  // Bounds checked in double first so the int conversions below cannot overflow.
  const double length_samples = sample_rate * frame_length_ms / 1000.0;
  const double shift_samples = sample_rate * frame_shift_ms / 1000.0;
  if (!(length_samples >= 1.5 && length_samples <= 65536.0))
    Bad("frame_length_ms", "must give a frame of 2..65536 samples");
  if (!(shift_samples >= 0.5 && shift_samples <= 1e9))
    Bad("frame_shift_ms", "must give a shift of at least 1 sample");
  if (frame_length() < 2) Bad("frame_length_ms", "gives a frame shorter than 2 samples");
  if (frame_shift() < 1) Bad("frame_shift_ms", "gives a shift shorter than 1 sample");
  if (n_fft < 0 || n_fft > 131072) Bad("n_fft", "must be 0 (auto) or in [frame_length, 131072]");
  if (n_fft && n_fft < frame_length()) Bad("n_fft", "must be >= the frame length");
  if (!(preemphasis >= 0.0 && preemphasis < 1.0)) Bad("preemphasis", "must be in [0, 1)");
  if (n_mels < 1 || n_mels > 512) Bad("n_mels", "must be in [1, 512]");
  const double nyquist = sample_rate / 2.0;
  if (fmin < 0) Bad("fmin", "must be >= 0");
  if (fmax > nyquist) Bad("fmax", "is above the Nyquist frequency");
  if (!(fmax_hz() > fmin)) Bad("fmax", "gives an upper edge not above fmin");
  if (power != 1.0 && power != 2.0) Bad("power", "must be 1 or 2");
  if (!(log_floor > 0)) Bad("log_floor", "must be positive");
  if (n_mfcc < 1 || n_mfcc > n_mels) Bad("n_mfcc", "must be in [1, n_mels]");
  if (lifter != 0 && lifter < 1) Bad("lifter", "must be 0 (off) or >= 1");
  if (deltas < 0 || deltas > 2) Bad("deltas", "must be 0, 1 or 2");
  if (delta_window < 1 || delta_window > 10) Bad("delta_window", "must be in [1, 10]");
  if (!(vtlp_alpha >= 0.5 && vtlp_alpha <= 2.0)) Bad("vtlp_alpha", "must be in [0.5, 2]");
  if (vtlp_alpha != 1.0 && !(vtlp_high_hz > 0 && vtlp_high_hz < nyquist))
    Bad("vtlp_high_hz", "must be in (0, Nyquist) when VTLP is on");
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
