// Functionals of one utterance's voice descriptors: the feature set edgeser-gemaps-v1 (76
// values, level-independent by construction). The same numbers as the NumPy reference
// edgeser.frontend.functionals.functionals_v1 (which names the values); definitions in
// docs/voice-descriptors.md ("Functionals"). Compiled because the reference, dozens of small
// NumPy calls, cost about a fifth of a 3 s clip's whole extraction.
#ifndef EDGESER_CSRC_FUNCTIONALS_H_
#define EDGESER_CSRC_FUNCTIONALS_H_

namespace edgeser {

constexpr int kGemapsV1Dim = 76;
constexpr int kGemapsV1MfccUsed = 4;  // MFCC 1-4, as eGeMAPS

struct FunctionalsInput {
  const float* lld = nullptr;  // [frames][kNumDescriptors], DescriptorComputer's rows
  long long frames = 0;
  const float* mfcc = nullptr;  // [mfcc_frames][mfcc_dim], the front end's MFCCs
  long long mfcc_frames = 0;
  int mfcc_dim = 0;           // >= kGemapsV1MfccUsed + 1 (coefficient 0 is skipped)
  double frame_step_s = 0.0;  // the descriptors' frame shift in seconds, > 0
};

// Throws std::invalid_argument for a null table with rows, mfcc_dim < 5 or a step <= 0.
// Non-finite results (e.g. from non-finite input) become 0, as in the reference.
void GemapsV1(const FunctionalsInput& in, float* out);  // out: kGemapsV1Dim floats

}  // namespace edgeser

#endif  // EDGESER_CSRC_FUNCTIONALS_H_
