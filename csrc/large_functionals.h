// Functionals of one utterance for the larger feature sets edgeser-large-v1 and -v2 (1765 values):
// 14 statistics of each of 126 contours (the spectral envelope, the level, the voice) plus the
// voiced fraction, level-independent by construction. v2 differs only in taking the spectral
// deltas inside each run of active frames (v1: over all frames). The same numbers as the NumPy
// reference edgeser.frontend.large_functionals.functionals_large (which names the values);
// definitions in docs/voice-descriptors.md ("The larger set"). Compiled because the reference
// cost about two fifths of a 3 s clip's whole extraction.
#ifndef EDGESER_CSRC_LARGE_FUNCTIONALS_H_
#define EDGESER_CSRC_LARGE_FUNCTIONALS_H_

namespace edgeser {

constexpr int kLargeV1Dim = 1765;
constexpr int kLargeV1Mfcc = 12;  // MFCC 1-12 (coefficient 0 carries the level)
constexpr int kLargeV1Mels = 40;  // the front end's default log-mel bands

struct LargeFunctionalsInput {
  const float* lld = nullptr;  // [frames][kNumDescriptors], DescriptorComputer's rows
  long long frames = 0;
  const float* mfcc = nullptr;  // [mfcc_frames][mfcc_dim], the front end's MFCCs
  long long mfcc_frames = 0;
  int mfcc_dim = 0;                // >= kLargeV1Mfcc + 1
  const float* log_mel = nullptr;  // [mel_frames][kLargeV1Mels], same hop as the MFCCs
  long long mel_frames = 0;
  long long offset = 0;       // frames by which the spectral grid leads the descriptors', >= 0
  double frame_step_s = 0.0;  // the descriptors' frame shift in seconds, > 0
  int version = 1;            // 1 or 2: edgeser-large-v1 or -v2
};

// Uses the n = max(0, min(frames, mfcc_frames - offset, mel_frames - offset)) aligned frames.
// Throws std::invalid_argument for a null table with rows, a negative count or offset,
// mfcc_dim < 13, a step <= 0 or another version. Non-finite results (e.g. from non-finite input)
// become 0, as in the reference.
void LargeFunctionals(const LargeFunctionalsInput& in, float* out);  // out: kLargeV1Dim floats

}  // namespace edgeser

#endif  // EDGESER_CSRC_LARGE_FUNCTIONALS_H_
