#include "simd.h"

#include <cstdlib>
#include <cstring>

namespace edgeser {
namespace {

Isa BestSupported() {
#if defined(EDGESER_X86_DISPATCH)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("fma"))
    return Isa::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
#endif
  return Isa::kGeneric;
}

Isa Choose() {
  const Isa best = BestSupported();
  const char* requested = std::getenv("EDGESER_SIMD");
  if (!requested || !*requested) return best;
  Isa want = best;
  if (!std::strcmp(requested, "generic")) want = Isa::kGeneric;
  if (!std::strcmp(requested, "avx2")) want = Isa::kAvx2;
  if (!std::strcmp(requested, "avx512")) want = Isa::kAvx512;
  return static_cast<int>(want) < static_cast<int>(best) ? want : best;
}

}  // namespace

Isa ActiveIsa() {
  static const Isa isa = Choose();
  return isa;
}

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kGeneric:
      break;
  }
  return "generic";
}

}  // namespace edgeser
