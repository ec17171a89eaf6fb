// Linear prediction by the autocorrelation method: the autocorrelation of a (windowed) frame and
// the Levinson-Durbin recursion that turns it into the prediction polynomial
// A(z) = 1 + a_1 z^-1 + ... + a_p z^-p.
#ifndef EDGESER_CSRC_LPC_H_
#define EDGESER_CSRC_LPC_H_

namespace edgeser {

// Zeros that Autocorrelation needs after the n samples of its frame.
constexpr int AutocorrelationPadding(int max_lag) { return max_lag + 12; }

// r[k] = sum_{j < n - k} x[j] x[j + k] for k = 0..max_lag, each as four partial sums over
// j mod 4 (in increasing j) added pairwise. x holds n samples followed by
// AutocorrelationPadding(max_lag) zeros (read, never written).
void Autocorrelation(const double* x, int n, int max_lag, double* r);

// a[0..order) = a_1..a_p from r[0..order]. False (and a unspecified) when the prediction error
// becomes <= 0 or not finite at some order, i.e. r is not positive definite in floating point.
bool LevinsonDurbin(const double* r, int order, double* a);

}  // namespace edgeser

#endif  // EDGESER_CSRC_LPC_H_
