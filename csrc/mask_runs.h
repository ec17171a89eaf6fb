// Runs of set values in a frame mask (voiced, active), shared by the functional sets.
#ifndef EDGESER_CSRC_MASK_RUNS_H_
#define EDGESER_CSRC_MASK_RUNS_H_

#include <utility>
#include <vector>

namespace edgeser {

using Runs = std::vector<std::pair<long long, long long>>;  // [start, end) runs, in order

// The maximal runs of non-zero entries of `mask`.
inline Runs MaskRuns(const std::vector<char>& mask) {
  Runs runs;
  const long long n = static_cast<long long>(mask.size());
  for (long long i = 0; i < n;) {
    if (!mask[i]) {
      ++i;
      continue;
    }
    long long j = i;
    while (j < n && mask[j]) ++j;
    runs.emplace_back(i, j);
    i = j;
  }
  return runs;
}

}  // namespace edgeser

#endif  // EDGESER_CSRC_MASK_RUNS_H_
