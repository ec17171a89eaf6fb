#include "simd.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(EDGESER_X86_DISPATCH)
#include <cpuid.h>
#endif

namespace edgeser {
namespace {

#if defined(EDGESER_X86_DISPATCH)
// What the CPU and the OS support, read with cpuid and xgetbv rather than
// __builtin_cpu_supports: compiler runtimes that do not fill its CPU model (zig's, used for
// the glibc 2.17 wheels) would otherwise leave every x86 machine on the generic path.
struct X86Features {
  bool avx2 = false;    // with FMA, BMI1/2, POPCNT and the OS saving the YMM state
  bool avx512 = false;  // F, DQ, VL, BW, with the OS saving the ZMM state
};

X86Features ReadX86Features() {
  X86Features f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool fma = c & (1u << 12), popcnt = c & (1u << 23), osxsave = c & (1u << 27),
             avx = c & (1u << 28);
  if (!(fma && popcnt && osxsave && avx)) return f;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  const std::uint64_t xcr0 = (static_cast<std::uint64_t>(hi) << 32) | lo;
  if ((xcr0 & 0x6) != 0x6) return f;  // XMM and YMM state
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  const bool bmi1 = b & (1u << 3), avx2 = b & (1u << 5), bmi2 = b & (1u << 8);
  f.avx2 = avx2 && bmi1 && bmi2;
  const bool zmm_state = (xcr0 & 0xe6) == 0xe6;  // opmask, ZMM0-15 upper halves, ZMM16-31
  f.avx512 = f.avx2 && zmm_state && (b & (1u << 16)) && (b & (1u << 17)) && (b & (1u << 30)) &&
             (b & (1u << 31));
  return f;
}
#endif

Isa BestSupported() {
  if (IsaSupported(Isa::kAvx512)) return Isa::kAvx512;
  if (IsaSupported(Isa::kAvx2)) return Isa::kAvx2;
  if (IsaSupported(Isa::kNeon)) return Isa::kNeon;
  return Isa::kGeneric;
}

}  // namespace

bool IsaSupported(Isa isa) {
  switch (isa) {
    case Isa::kGeneric:
      return true;
    case Isa::kNeon:
#if defined(EDGESER_NEON_DISPATCH)
      return true;  // Advanced SIMD is part of every aarch64 CPU that Linux and macOS run on
#else
      return false;
#endif
    case Isa::kAvx2:
    case Isa::kAvx512:
#if defined(EDGESER_X86_DISPATCH)
    {
      static const X86Features features = ReadX86Features();
      return isa == Isa::kAvx2 ? features.avx2 : features.avx512;
    }
#else
      return false;
#endif
  }
  return false;
}

bool ParseIsa(const char* name, Isa* isa) {
  if (!name) return false;
  static const struct {
    const char* name;
    Isa isa;
  } kNames[] = {{"generic", Isa::kGeneric},
                {"neon", Isa::kNeon},
                {"avx2", Isa::kAvx2},
                {"avx512", Isa::kAvx512}};
  for (const auto& entry : kNames) {
    if (!std::strcmp(name, entry.name)) {
      *isa = entry.isa;
      return true;
    }
  }
  return false;
}

Isa ChooseIsa(const char* requested) {
  Isa want;
  if (!requested || !*requested || !ParseIsa(requested, &want)) return BestSupported();
  // A path that cannot run here falls to the next one below it.
  if (want == Isa::kAvx512 && !IsaSupported(want)) want = Isa::kAvx2;
  if (!IsaSupported(want)) want = Isa::kGeneric;
  return want;
}

namespace {
std::atomic<int>& ActiveSlot() {
  static std::atomic<int> slot{static_cast<int>(ChooseIsa(std::getenv("EDGESER_SIMD")))};
  return slot;
}
}  // namespace

Isa ActiveIsa() { return static_cast<Isa>(ActiveSlot().load(std::memory_order_relaxed)); }

bool SetActiveIsa(Isa isa) {
  if (!IsaSupported(isa)) return false;
  ActiveSlot().store(static_cast<int>(isa), std::memory_order_relaxed);
  return true;
}

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kNeon:
      return "neon";
    case Isa::kGeneric:
      break;
  }
  return "generic";
}

}  // namespace edgeser
