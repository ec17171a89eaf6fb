// Options of the audio front end: a plain mirror of edgeser.frontend.FrontendConfig.
//
// The Python dataclass validates user input; Validate() re-checks the invariants the C++ code
// relies on (sizes, ranges, enum values) so a bad struct throws instead of misbehaving. The
// struct is also filled field by field from Python (edgeser._frontend.FrontendOptions), so
// every derived size validates first: no field value can divide by zero, overflow or hang.
#ifndef EDGESER_CSRC_FRONTEND_OPTIONS_H_
#define EDGESER_CSRC_FRONTEND_OPTIONS_H_

#include <string>

namespace edgeser {

enum class WindowType { kHamming, kHann, kPovey, kRectangular };
enum class MelScale { kHtk, kSlaney };
enum class MelNorm { kNone, kSlaney };
enum class TriangleDomain { kHz, kMel };
enum class LogType { kNatural, kDb };
enum class CmvnMode { kNone, kMean, kMeanVar };
enum class FeatureKind { kSpectrogram, kLogMel, kMfcc };

struct FrontendOptions {
  int sample_rate = 16000;
  double frame_length_ms = 25.0;
  double frame_shift_ms = 10.0;
  int n_fft = 0;  // 0 = next power of two >= frame length
  WindowType window = WindowType::kHamming;
  double preemphasis = 0.97;
  bool remove_dc = false;
  int n_mels = 40;
  double fmin = 20.0;
  double fmax = 0.0;  // 0 = Nyquist; negative = offset below Nyquist
  MelScale mel_scale = MelScale::kHtk;
  MelNorm mel_norm = MelNorm::kNone;
  TriangleDomain triangle_domain = TriangleDomain::kHz;
  double power = 2.0;
  LogType log_type = LogType::kNatural;
  double log_floor = 1e-10;
  int n_mfcc = 13;
  double lifter = 0.0;
  int deltas = 0;
  int delta_window = 2;
  CmvnMode cmvn = CmvnMode::kNone;
  double vtlp_alpha = 1.0;
  double vtlp_high_hz = 4800.0;

  // Derived sizes, computed exactly as the dataclass properties (round half to even). Each
  // calls Validate() first, so it throws std::invalid_argument naming the field for options
  // that FrontendConfig would refuse.
  int frame_length() const;
  int frame_shift() const;
  int fft_size() const;
  int n_bins() const { return fft_size() / 2 + 1; }
  double fmax_hz() const;
  long long num_frames(long long num_samples) const;  // 0 for num_samples < frame_length()
  int static_dim(FeatureKind kind) const;
  int feature_dim(FeatureKind kind) const { return static_dim(kind) * (1 + deltas); }

  // Throws std::invalid_argument naming the field when an invariant does not hold.
  void Validate() const;
};

// num_frames() for a frame of `length` and a shift of `shift` >= 1 samples (snip edges).
long long NumFrames(long long num_samples, long long length, long long shift);

// String <-> enum conversions use the dataclass spellings ("hamming", "log_mel", ...) and throw
// std::invalid_argument on unknown names.
WindowType ParseWindowType(const std::string& s);
MelScale ParseMelScale(const std::string& s);
MelNorm ParseMelNorm(const std::string& s);
TriangleDomain ParseTriangleDomain(const std::string& s);
LogType ParseLogType(const std::string& s);
CmvnMode ParseCmvnMode(const std::string& s);
FeatureKind ParseFeatureKind(const std::string& s);
std::string ToString(WindowType v);
std::string ToString(MelScale v);
std::string ToString(MelNorm v);
std::string ToString(TriangleDomain v);
std::string ToString(LogType v);
std::string ToString(CmvnMode v);
std::string ToString(FeatureKind v);

}  // namespace edgeser

#endif  // EDGESER_CSRC_FRONTEND_OPTIONS_H_
