#include "descriptor_options.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "frontend_options.h"

namespace edgeser {
namespace {

[[noreturn]] void Bad(const char* field, const std::string& why) {
  throw std::invalid_argument(std::string("DescriptorOptions.") + field + ": " + why);
}

bool Finite(double v) { return std::isfinite(v); }

// Samples of `ms` at the rate, half to even like Python's round(); only after the ranges hold.
int Samples(const DescriptorOptions& o, double ms) {
  return static_cast<int>(std::nearbyint(o.sample_rate * ms / 1000.0));
}

struct Derived {
  static int Shift(const DescriptorOptions& o) { return Samples(o, o.frame_shift_ms); }
  static int Pitch(const DescriptorOptions& o) { return Samples(o, o.pitch_window_ms); }
  static int Spectral(const DescriptorOptions& o) { return Samples(o, o.spectral_window_ms); }
  static int Analysis(const DescriptorOptions& o) {
    return Pitch(o) > Spectral(o) ? Pitch(o) : Spectral(o);
  }
  static int TauMin(const DescriptorOptions& o) {
    return static_cast<int>(std::floor(o.sample_rate / o.f0_max_hz));
  }
  static int TauMax(const DescriptorOptions& o) {
    return static_cast<int>(std::ceil(o.sample_rate / o.f0_min_hz));
  }
};
}  // namespace

void DescriptorOptions::Validate() const {
  if (sample_rate < 1000 || sample_rate > 384000) Bad("sample_rate", "must be in [1000, 384000]");
  const auto ms_in = [](double v, double lo, double hi) { return Finite(v) && v >= lo && v <= hi; };
  if (!ms_in(frame_shift_ms, 1.0, 1000.0)) Bad("frame_shift_ms", "must be in [1, 1000]");
  if (!ms_in(pitch_window_ms, 5.0, 1000.0)) Bad("pitch_window_ms", "must be in [5, 1000]");
  if (!ms_in(spectral_window_ms, 5.0, 1000.0)) Bad("spectral_window_ms", "must be in [5, 1000]");
  if (Derived::Shift(*this) < 1) Bad("frame_shift_ms", "is shorter than one sample");
  const double nyquist = sample_rate / 2.0;
  if (!Finite(f0_min_hz) || f0_min_hz < 20.0) Bad("f0_min_hz", "must be >= 20");
  if (!Finite(f0_max_hz) || f0_max_hz <= f0_min_hz || f0_max_hz > nyquist / 2)
    Bad("f0_max_hz", "must be above f0_min_hz and at most a quarter of the sample rate");
  if (Derived::TauMin(*this) < 2) Bad("f0_max_hz", "leaves fewer than 2 samples per period");
  if (Derived::Pitch(*this) - Derived::TauMax(*this) < Derived::TauMax(*this))
    Bad("pitch_window_ms", "must hold at least two periods of f0_min_hz");
  if (!Finite(voicing_threshold) || voicing_threshold <= 0.0 || voicing_threshold >= 1.0)
    Bad("voicing_threshold", "must be in (0, 1)");
  if (!Finite(silence_dbfs) || silence_dbfs < -200.0 || silence_dbfs > 0.0)
    Bad("silence_dbfs", "must be in [-200, 0]");
  if (!Finite(power_floor) || power_floor < 1e-30 || power_floor > 1e-6)
    Bad("power_floor", "must be in [1e-30, 1e-6]");
  if (!Finite(spectrum_floor) || spectrum_floor < 1e-30 || spectrum_floor > 1e-6)
    Bad("spectrum_floor", "must be in [1e-30, 1e-6]");
  if (lpc_order < 4 || lpc_order > 64) Bad("lpc_order", "must be in [4, 64]");
  if (lpc_order >= Derived::Spectral(*this)) Bad("lpc_order", "must be below the window length");
  if (!Finite(formant_max_hz) || formant_max_hz <= 90.0 || formant_max_hz > nyquist)
    Bad("formant_max_hz", "must be in (90, Nyquist]");
  if (!Finite(formant_max_bw_hz) || formant_max_bw_hz <= 0.0)
    Bad("formant_max_bw_hz", "must be > 0");
}

int DescriptorOptions::frame_shift() const {
  Validate();
  return Derived::Shift(*this);
}
int DescriptorOptions::pitch_length() const {
  Validate();
  return Derived::Pitch(*this);
}
int DescriptorOptions::spectral_length() const {
  Validate();
  return Derived::Spectral(*this);
}
int DescriptorOptions::analysis_length() const {
  Validate();
  return Derived::Analysis(*this);
}
int DescriptorOptions::pitch_offset() const {
  Validate();
  return (Derived::Analysis(*this) - Derived::Pitch(*this)) / 2;
}
int DescriptorOptions::spectral_offset() const {
  Validate();
  return (Derived::Analysis(*this) - Derived::Spectral(*this)) / 2;
}
int DescriptorOptions::fft_size() const {
  Validate();
  int n = 1;
  while (n < Derived::Spectral(*this)) n <<= 1;
  return n;
}
int DescriptorOptions::tau_min() const {
  Validate();
  return Derived::TauMin(*this);
}
int DescriptorOptions::tau_max() const {
  Validate();
  return Derived::TauMax(*this);
}
long long DescriptorOptions::num_frames(long long num_samples) const {
  Validate();
  return NumFrames(num_samples, Derived::Analysis(*this), Derived::Shift(*this));
}

}  // namespace edgeser
