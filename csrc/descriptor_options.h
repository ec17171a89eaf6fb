// Options of the voice descriptors (F0, voice quality, spectral shape, formants): a plain
// mirror of edgeser.frontend.DescriptorConfig. Definitions: docs/voice-descriptors.md.
//
// Like FrontendOptions, the struct is filled field by field from Python, so Validate() re-checks
// every invariant the C++ code relies on and each derived size validates first.
#ifndef EDGESER_CSRC_DESCRIPTOR_OPTIONS_H_
#define EDGESER_CSRC_DESCRIPTOR_OPTIONS_H_

namespace edgeser {

// Columns of a descriptor frame, in output order (DESCRIPTOR_NAMES in Python).
enum DescriptorColumn : int {
  kF0Hz = 0,
  kVoicing,
  kHnrDb,
  kJitterLocal,
  kShimmerLocalDb,
  kLoudness,
  kEnergyDb,
  kAlphaRatioDb,
  kHammarbergDb,
  kSlope0To500,
  kSlope500To1500,
  kF1Hz,
  kF1BwHz,
  kF2Hz,
  kF2BwHz,
  kF3Hz,
  kF3BwHz,
  kSpectralFlux,
  kSpectralCentroidHz,
  kSpectralRolloffHz,
  kSpectralEntropy,
  kZcr,
  kNumDescriptors
};

struct DescriptorOptions {
  int sample_rate = 16000;
  double frame_shift_ms = 10.0;
  double pitch_window_ms = 50.0;
  double spectral_window_ms = 25.0;
  double f0_min_hz = 60.0;
  double f0_max_hz = 500.0;
  double voicing_threshold = 0.45;  // on the cumulative mean normalised difference
  double silence_dbfs = -150.0;     // pitch windows quieter than this are unvoiced
  int lpc_order = 16;
  double formant_max_hz = 5500.0;
  double formant_max_bw_hz = 400.0;
  double power_floor = 1e-20;     // added to the mean power before energy_db's log
  double spectrum_floor = 1e-22;  // added to spectral powers before the spectral-shape logs

  // Derived sizes (round half to even, as the dataclass). Each calls Validate() first.
  int frame_shift() const;
  int pitch_length() const;
  int spectral_length() const;
  int analysis_length() const;  // max(pitch_length, spectral_length)
  int pitch_offset() const;     // (analysis_length - pitch_length) / 2
  int spectral_offset() const;  // (analysis_length - spectral_length) / 2
  int fft_size() const;         // next power of two >= spectral_length
  int tau_min() const;          // floor(sample_rate / f0_max_hz)
  int tau_max() const;          // ceil(sample_rate / f0_min_hz)
  long long num_frames(long long num_samples) const;

  // Throws std::invalid_argument naming the field when an invariant does not hold.
  void Validate() const;
};

}  // namespace edgeser

#endif  // EDGESER_CSRC_DESCRIPTOR_OPTIONS_H_
