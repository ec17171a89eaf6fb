// Lane-parallel layout and instruction-set selection shared by the hot loops.
//
// The front end transforms kLanes frames at once: every per-frame quantity is stored as kLanes
// consecutive doubles (one lane per frame, 64-byte aligned), so the arithmetic is the same
// element-wise operation on every lane and needs no shuffles. Hot routines are templates on W,
// the number of doubles in one machine register; each lane group is processed as kLanes / W
// register-wide chunks. EDGESER_MULTIVERSIONED builds a routine for AVX-512 (W = 8),
// AVX2 + FMA (W = 4) and the baseline target on x86-64, for NEON (W = 4: two 128-bit registers
// per chunk, written with NEON intrinsics) and the baseline target on aarch64, and runs the best
// one the CPU supports, so a portable wheel still uses the machine's vector units. Every lane
// runs the same instructions, so a frame's result does not depend on which lane or block it was
// computed in.
//
// Everything stays in double precision on every path: a float32 FFT would meet neither the
// parity tolerances on narrow-band signals (the quiet bands of a Hann-windowed sine sink under
// float32 round-off) nor the fuzz tolerances on noise (see docs/wheels.md).
#ifndef EDGESER_CSRC_SIMD_H_
#define EDGESER_CSRC_SIMD_H_

#include <cstddef>
#include <cstring>
#include <new>
#include <utility>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace edgeser {

constexpr int kLanes = 8;

#if defined(__GNUC__) || defined(__clang__)
#define EDGESER_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define EDGESER_INLINE __forceinline
#else
#define EDGESER_INLINE inline
#endif

// ---- instruction sets -------------------------------------------------------------------------
enum class Isa { kGeneric, kNeon, kAvx2, kAvx512 };

// The instruction set the multiversioned routines use: the best this CPU supports, or the one
// named by the environment variable EDGESER_SIMD=generic|neon|avx2|avx512 (read once, for tests
// and benchmarks). A named path this build or CPU cannot run gives the best one below it
// (avx512 -> avx2 -> generic, neon -> generic); an unknown name gives the best.
Isa ActiveIsa();
const char* IsaName(Isa isa);
// Whether this build has the path and this CPU can run it (kGeneric: always).
bool IsaSupported(Isa isa);
// Parses "generic", "neon", "avx2" or "avx512"; false for anything else.
bool ParseIsa(const char* name, Isa* isa);
// The path for a request, as ActiveIsa() picks it from EDGESER_SIMD (null or "": the best).
Isa ChooseIsa(const char* requested);
// For tests and benchmarks: later calls run `isa` (false, and no change, where it cannot run).
// Every path uses the same data layout, so a switch between two calls is harmless.
bool SetActiveIsa(Isa isa);

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__)) && \
    !defined(EDGESER_NO_DISPATCH)
#define EDGESER_X86_DISPATCH 1
#define EDGESER_TARGET_AVX512 \
  __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma,bmi,bmi2,popcnt")))
#define EDGESER_TARGET_AVX2 __attribute__((target("avx2,fma,bmi,bmi2,popcnt")))
#endif

#if (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__) && \
    !defined(EDGESER_NO_DISPATCH)
#define EDGESER_NEON_DISPATCH 1
#endif

// ---- register-wide chunks of a lane group -----------------------------------------------------
#if defined(__GNUC__) || defined(__clang__)
#if defined(__AVX512F__)
constexpr int kGenericWidth = 8;
#elif defined(__AVX__)
constexpr int kGenericWidth = 4;
#else
constexpr int kGenericWidth = 2;  // SSE2, NEON
#endif

#if defined(__clang__)
#define EDGESER_SHUFFLE(M, a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define EDGESER_SHUFFLE(M, a, b, ...) __builtin_shuffle(a, b, M{__VA_ARGS__})
#endif

template <int W>
struct Simd {
  static_assert(kLanes % W == 0, "chunk width must divide the lane count");
  typedef double V __attribute__((vector_size(W * sizeof(double))));
  typedef unsigned long long U __attribute__((vector_size(W * sizeof(unsigned long long))));
  typedef long long M __attribute__((vector_size(W * sizeof(long long))));  // shuffle masks
  static EDGESER_INLINE V Load(const double* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  typedef float F __attribute__((vector_size(W * sizeof(float))));
  // W floats, widened in registers (cvtps2pd, fcvtl), not one at a time through memory. The
  // defaulted parameters keep GCC from checking the vector types before instantiation.
  template <typename T = V, typename G = F>
  static EDGESER_INLINE T LoadFloats(const float* p) {
    G f;
    std::memcpy(&f, p, sizeof f);
    return __builtin_convertvector(f, T);
  }
  static EDGESER_INLINE void Store(double* p, V v) { std::memcpy(p, &v, sizeof v); }
  static EDGESER_INLINE V Set(double x) { return V{} + x; }
  static EDGESER_INLINE V Max(V a, double b) { return a > b ? a : Set(b); }
  // In-place W x W transpose: afterwards v[j][r] is the old v[r][j].
  static EDGESER_INLINE void Transpose(V* v);
};

template <>
EDGESER_INLINE void Simd<2>::Transpose(V* v) {
  const V a = v[0], b = v[1];
  v[0] = EDGESER_SHUFFLE(M, a, b, 0, 2);
  v[1] = EDGESER_SHUFFLE(M, a, b, 1, 3);
}

#if !defined(EDGESER_NEON_DISPATCH)  // on aarch64, Simd<4> is the NEON pair below
template <>
EDGESER_INLINE void Simd<4>::Transpose(V* v) {
  const V t0 = EDGESER_SHUFFLE(M, v[0], v[1], 0, 4, 2, 6);
  const V t1 = EDGESER_SHUFFLE(M, v[0], v[1], 1, 5, 3, 7);
  const V t2 = EDGESER_SHUFFLE(M, v[2], v[3], 0, 4, 2, 6);
  const V t3 = EDGESER_SHUFFLE(M, v[2], v[3], 1, 5, 3, 7);
  v[0] = EDGESER_SHUFFLE(M, t0, t2, 0, 1, 4, 5);
  v[1] = EDGESER_SHUFFLE(M, t1, t3, 0, 1, 4, 5);
  v[2] = EDGESER_SHUFFLE(M, t0, t2, 2, 3, 6, 7);
  v[3] = EDGESER_SHUFFLE(M, t1, t3, 2, 3, 6, 7);
}
#endif

template <>
EDGESER_INLINE void Simd<8>::Transpose(V* v) {
  V t[8], u[8];
  for (int k = 0; k < 8; k += 2) {  // interleave rows pairwise, one element at a time
    t[k] = EDGESER_SHUFFLE(M, v[k], v[k + 1], 0, 8, 2, 10, 4, 12, 6, 14);
    t[k + 1] = EDGESER_SHUFFLE(M, v[k], v[k + 1], 1, 9, 3, 11, 5, 13, 7, 15);
  }
  for (int k = 0; k < 8; k += 4) {  // then two at a time
    for (int q = 0; q < 2; ++q) {
      u[k + q] = EDGESER_SHUFFLE(M, t[k + q], t[k + q + 2], 0, 1, 8, 9, 4, 5, 12, 13);
      u[k + q + 2] = EDGESER_SHUFFLE(M, t[k + q], t[k + q + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    }
  }
  for (int q = 0; q < 4; ++q) {  // then four at a time
    v[q] = EDGESER_SHUFFLE(M, u[q], u[q + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    v[q + 4] = EDGESER_SHUFFLE(M, u[q], u[q + 4], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

#if defined(EDGESER_NEON_DISPATCH)
// The NEON path: a chunk of 4 lanes is a pair of 128-bit registers, so every step issues two
// independent instructions (both pipes of an in-order Cortex-A53/A55 stay busy, and wider cores
// get the same from fewer loop iterations); loads widen floats with fcvtl, transposes use
// zip1/zip2, and the compiler fuses the multiply-adds into fmla. Same arithmetic as W = 2.
// Scalars are splatted with vdupq_n_*: no reliance on vector-scalar operators, which Clang and
// GCC treat differently for NEON types.
EDGESER_INLINE float64x2_t NeonSplat(double x) { return vdupq_n_f64(x); }
EDGESER_INLINE uint64x2_t NeonSplat(unsigned long long x) {
  return vdupq_n_u64(static_cast<uint64_t>(x));
}

template <typename T, typename S>  // T: a NEON vector type, S: its scalar type
struct NeonPair {
  T lo, hi;
  friend EDGESER_INLINE NeonPair operator+(NeonPair a, NeonPair b) {
    return {a.lo + b.lo, a.hi + b.hi};
  }
  friend EDGESER_INLINE NeonPair operator-(NeonPair a, NeonPair b) {
    return {a.lo - b.lo, a.hi - b.hi};
  }
  friend EDGESER_INLINE NeonPair operator*(NeonPair a, NeonPair b) {
    return {a.lo * b.lo, a.hi * b.hi};
  }
  friend EDGESER_INLINE NeonPair operator/(NeonPair a, NeonPair b) {
    return {a.lo / b.lo, a.hi / b.hi};
  }
  friend EDGESER_INLINE NeonPair operator+(NeonPair a, S b) { return a + Splat(b); }
  friend EDGESER_INLINE NeonPair operator+(S a, NeonPair b) { return Splat(a) + b; }
  friend EDGESER_INLINE NeonPair operator-(NeonPair a, S b) { return a - Splat(b); }
  friend EDGESER_INLINE NeonPair operator*(NeonPair a, S b) { return a * Splat(b); }
  friend EDGESER_INLINE NeonPair operator*(S a, NeonPair b) { return Splat(a) * b; }
  friend EDGESER_INLINE NeonPair operator-(NeonPair a) {
    return {vnegq_f64(a.lo), vnegq_f64(a.hi)};
  }
  friend EDGESER_INLINE NeonPair operator>>(NeonPair a, int b) {
    const int64x2_t shift = vdupq_n_s64(-b);  // a negative left shift is a logical right shift
    return {vshlq_u64(a.lo, shift), vshlq_u64(a.hi, shift)};
  }
  friend EDGESER_INLINE NeonPair operator|(NeonPair a, S b) {
    return {vorrq_u64(a.lo, NeonSplat(b)), vorrq_u64(a.hi, NeonSplat(b))};
  }
  friend EDGESER_INLINE NeonPair operator&(NeonPair a, S b) {
    return {vandq_u64(a.lo, NeonSplat(b)), vandq_u64(a.hi, NeonSplat(b))};
  }
  EDGESER_INLINE NeonPair& operator+=(NeonPair b) { return *this = *this + b; }
  EDGESER_INLINE NeonPair& operator-=(NeonPair b) { return *this = *this - b; }
  EDGESER_INLINE NeonPair& operator-=(S b) { return *this = *this - b; }
  static EDGESER_INLINE NeonPair Splat(S x) { return {NeonSplat(x), NeonSplat(x)}; }
};

template <>
struct Simd<4> {
  typedef NeonPair<float64x2_t, double> V;
  typedef NeonPair<uint64x2_t, unsigned long long> U;
  static EDGESER_INLINE V Load(const double* p) { return {vld1q_f64(p), vld1q_f64(p + 2)}; }
  static EDGESER_INLINE V LoadFloats(const float* p) {
    const float32x4_t f = vld1q_f32(p);
    return {vcvt_f64_f32(vget_low_f32(f)), vcvt_high_f64_f32(f)};
  }
  static EDGESER_INLINE void Store(double* p, V v) {
    vst1q_f64(p, v.lo);
    vst1q_f64(p + 2, v.hi);
  }
  static EDGESER_INLINE V Set(double x) { return {vdupq_n_f64(x), vdupq_n_f64(x)}; }
  static EDGESER_INLINE V Max(V a, double b) {  // a > b ? a : b, so NaN gives b
    const float64x2_t bb = vdupq_n_f64(b);
    return {vbslq_f64(vcgtq_f64(a.lo, bb), a.lo, bb), vbslq_f64(vcgtq_f64(a.hi, bb), a.hi, bb)};
  }
  // In-place 4 x 4 transpose from 2 x 2 blocks: afterwards v[j][r] is the old v[r][j].
  static EDGESER_INLINE void Transpose(V* v) {
    const V a = v[0], b = v[1], c = v[2], d = v[3];
    v[0] = {vzip1q_f64(a.lo, b.lo), vzip1q_f64(c.lo, d.lo)};
    v[1] = {vzip2q_f64(a.lo, b.lo), vzip2q_f64(c.lo, d.lo)};
    v[2] = {vzip1q_f64(a.hi, b.hi), vzip1q_f64(c.hi, d.hi)};
    v[3] = {vzip2q_f64(a.hi, b.hi), vzip2q_f64(c.hi, d.hi)};
  }
};
constexpr int kNeonWidth = 4;
#endif
#else
constexpr int kGenericWidth = 1;  // plain scalar code for compilers without vector extensions

template <int W>
struct Simd {
  static_assert(W == 1, "only scalar chunks without GCC/Clang vector extensions");
  typedef double V;
  typedef unsigned long long U;
  static EDGESER_INLINE V Load(const double* p) { return *p; }
  static EDGESER_INLINE V LoadFloats(const float* p) { return *p; }
  static EDGESER_INLINE void Store(double* p, V v) { *p = v; }
  static EDGESER_INLINE void Transpose(V*) {}
  static EDGESER_INLINE V Set(double x) { return x; }
  static EDGESER_INLINE V Max(V a, double b) { return a > b ? a : b; }
};
#endif

// Defines `static void NAME PARAMS` running NAME##Impl<W> ARGS compiled for the active ISA.
// NAME##Impl must be an EDGESER_INLINE template on W so it is compiled inside each variant.
#if defined(EDGESER_X86_DISPATCH)
#define EDGESER_MULTIVERSIONED(NAME, PARAMS, ARGS)                       \
  EDGESER_TARGET_AVX512 void NAME##Avx512 PARAMS { NAME##Impl<8> ARGS; } \
  EDGESER_TARGET_AVX2 void NAME##Avx2 PARAMS { NAME##Impl<4> ARGS; }     \
  void NAME##Generic PARAMS { NAME##Impl<kGenericWidth> ARGS; }          \
  void NAME PARAMS {                                                     \
    switch (ActiveIsa()) {                                               \
      case Isa::kAvx512:                                                 \
        NAME##Avx512 ARGS;                                               \
        return;                                                          \
      case Isa::kAvx2:                                                   \
        NAME##Avx2 ARGS;                                                 \
        return;                                                          \
      default:                                                           \
        NAME##Generic ARGS;                                              \
        return;                                                          \
    }                                                                    \
  }
#elif defined(EDGESER_NEON_DISPATCH)
#define EDGESER_MULTIVERSIONED(NAME, PARAMS, ARGS)              \
  void NAME##Neon PARAMS { NAME##Impl<kNeonWidth> ARGS; }       \
  void NAME##Generic PARAMS { NAME##Impl<kGenericWidth> ARGS; } \
  void NAME PARAMS {                                            \
    if (ActiveIsa() == Isa::kNeon) {                            \
      NAME##Neon ARGS;                                          \
    } else {                                                    \
      NAME##Generic ARGS;                                       \
    }                                                           \
  }
#else
#define EDGESER_MULTIVERSIONED(NAME, PARAMS, ARGS) \
  void NAME PARAMS { NAME##Impl<kGenericWidth> ARGS; }
#endif

// ---- memory -----------------------------------------------------------------------------------
// A 64-byte aligned array of doubles (one cache line = one lane group), zero-initialised
// unless built with Uninitialized() for scratch space that is always written before it is read.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t n) : AlignedBuffer(n, true) {}
  static AlignedBuffer Uninitialized(std::size_t n) { return AlignedBuffer(n, false); }
  AlignedBuffer(const AlignedBuffer& other) : AlignedBuffer(other.size_) {
    for (std::size_t i = 0; i < size_; ++i) data_[i] = other.data_[i];
  }
  AlignedBuffer(AlignedBuffer&& other) noexcept : data_(other.data_), size_(other.size_) {
    other.data_ = nullptr;
    other.size_ = 0;
  }
  AlignedBuffer& operator=(AlignedBuffer other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  ~AlignedBuffer() {
    if (data_) ::operator delete(data_, std::align_val_t(64));
  }
  double* data() { return data_; }
  const double* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  AlignedBuffer(std::size_t n, bool zero) : size_(n) {
    if (n) {
      data_ = static_cast<double*>(::operator new(n * sizeof(double), std::align_val_t(64)));
      if (zero) std::memset(data_, 0, n * sizeof(double));
    }
  }

  double* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace edgeser

#endif  // EDGESER_CSRC_SIMD_H_
