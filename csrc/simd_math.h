// Vector math shared by the front end's hot loops (any Simd<W> width, all in double).
#ifndef EDGESER_CSRC_SIMD_MATH_H_
#define EDGESER_CSRC_SIMD_MATH_H_

#include <cstring>

#include "simd.h"

namespace edgeser {

// Natural log of x > 0 (normal doubles): x = 2^k z with z in [sqrt(1/2), sqrt(2)), then
// log z = 2 atanh(s), s = (z-1)/(z+1), |s| < 0.172, by its series to s^17 (error < 1e-15).
template <int W>
EDGESER_INLINE typename Simd<W>::V LogPositive(typename Simd<W>::V x) {
  using V = typename Simd<W>::V;
  using U = typename Simd<W>::U;
  const unsigned long long kSqrtHalfBits = 0x3fe6a09e667f3bcdULL;
  const unsigned long long kMantissa = 0x000fffffffffffffULL;
  U bits;
  std::memcpy(&bits, &x, sizeof bits);
  const U t = bits - kSqrtHalfBits;
  // k + 1024 in the low bits, turned into a double via the 2^52 trick (no int64 conversion).
  const U kbits = ((t + (1024ULL << 52)) >> 52) | 0x4330000000000000ULL;
  const U zbits = (t & kMantissa) + kSqrtHalfBits;
  V kd, z;
  std::memcpy(&kd, &kbits, sizeof kd);
  std::memcpy(&z, &zbits, sizeof z);
  kd -= 4503599627370496.0 + 1024.0;
  const V f = z - 1.0;
  const V s = f / (2.0 + f);
  const V s2 = s * s;
  V poly = Simd<W>::Set(1.0 / 17);
  poly = poly * s2 + 1.0 / 15;
  poly = poly * s2 + 1.0 / 13;
  poly = poly * s2 + 1.0 / 11;
  poly = poly * s2 + 1.0 / 9;
  poly = poly * s2 + 1.0 / 7;
  poly = poly * s2 + 1.0 / 5;
  poly = poly * s2 + 1.0 / 3;
  poly = poly * s2 + 1.0;
  return kd * 0.69314718055994530942 + 2.0 * s * poly;
}

}  // namespace edgeser

#endif  // EDGESER_CSRC_SIMD_MATH_H_
