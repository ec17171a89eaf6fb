#include "simd.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace edgeser {
namespace {

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
      __builtin_cpu_init();
      if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return false;
      if (isa == Isa::kAvx2) return true;
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
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
