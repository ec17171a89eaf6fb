// Roots of a real polynomial, fast for the prediction polynomials of linear prediction (every
// root inside the unit circle) and robust for any other.
//
// The fast path is the Aberth-Ehrlich iteration on a conjugate-symmetric set of approximations
// (real roots bracketed on [-1, 1], the pairs started on a circle). When it does not certify
// every root within its iteration cap (about 1 polynomial in 1000 of speech), the roots are the
// eigenvalues of the balanced companion matrix by the Francis double-shift QR algorithm
// (EISPACK balanc + hqr), as numpy.roots computes them, then polished by the same iteration
// started from them. No allocation: the caller passes the work buffer.
#ifndef EDGESER_CSRC_POLYNOMIAL_ROOTS_H_
#define EDGESER_CSRC_POLYNOMIAL_ROOTS_H_

namespace edgeser {

// Doubles of `work` that the functions below need for degree n.
constexpr int PolynomialRootsWorkSize(int n) { return n * n + 2 * n + 13 * (n + 8); }

// The n roots (re[i], im[i]) of z^n + c[0] z^(n-1) + ... + c[n-1], n >= 1, finite c. Complex
// roots come in conjugate pairs, the one with positive imaginary part first. False when no
// method converged within its iteration cap (re, im then unspecified); it always returns.
bool MonicPolynomialRoots(const double* c, int n, double* re, double* im, double* work);

// The same roots by the companion matrix only (the fallback of MonicPolynomialRoots).
bool CompanionMatrixRoots(const double* c, int n, double* re, double* im, double* work);

}  // namespace edgeser

#endif  // EDGESER_CSRC_POLYNOMIAL_ROOTS_H_
