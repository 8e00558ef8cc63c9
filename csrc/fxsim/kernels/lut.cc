// lut_apply: contract in lut.h.
#include "fxsim/kernels/lut.h"

#include <cstdint>
#include <limits>
#include <string>

#include "fxsim/kernels/common.h"
#include "fxsim/kernels/dispatch.h"
#include "fxsim/kernels/parallel.h"

FXSIM_NAMESPACE_BEGIN

template <typename In, typename Out>
void lut_apply(int64_t table_size, const Out* table, int64_t count, const In* x, Out* out) {
  constexpr int64_t kEntries = int64_t(1) << (8 * sizeof(In));
  if (table_size != kEntries) {
    throw_invalid("lut_apply", "table must have " + std::to_string(kEntries) + " entries for " +
                                   std::to_string(8 * sizeof(In)) + "-bit inputs, got " + std::to_string(table_size));
  }
  if (count < 0) throw_invalid("lut_apply", "negative element count");
  constexpr int32_t kMin = std::numeric_limits<In>::min();
  if constexpr (sizeof(In) == 1 && sizeof(Out) == 1) {
    // 8-bit codes: the index x - min(In) is the code's byte with int8's sign bit flipped, and the
    // active ISA's byte lookup (KernelTable::lookup_bytes) runs it
    const LookupBytesFn lookup = active_kernels().lookup_bytes;
    const uint8_t flip = kMin < 0 ? 0x80 : 0x00;
    parallel_tasks(count, 1, [&](int64_t i0, int64_t i1) {
      lookup(reinterpret_cast<const uint8_t*>(table), i1 - i0, reinterpret_cast<const uint8_t*>(x + i0), flip,
             reinterpret_cast<uint8_t*>(out + i0));
      return int64_t(-1);
    });
    return;
  }
  parallel_tasks(count, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) out[i] = table[static_cast<int32_t>(x[i]) - kMin];
    return int64_t(-1);
  });
}

#define FXSIM_LUT_INSTANTIATE(In)                                                       \
  template void lut_apply<In, int8_t>(int64_t, const int8_t*, int64_t, const In*, int8_t*);    \
  template void lut_apply<In, uint8_t>(int64_t, const uint8_t*, int64_t, const In*, uint8_t*); \
  template void lut_apply<In, int16_t>(int64_t, const int16_t*, int64_t, const In*, int16_t*); \
  template void lut_apply<In, uint16_t>(int64_t, const uint16_t*, int64_t, const In*, uint16_t*);
FXSIM_LUT_INSTANTIATE(int8_t)
FXSIM_LUT_INSTANTIATE(uint8_t)
FXSIM_LUT_INSTANTIATE(int16_t)
FXSIM_LUT_INSTANTIATE(uint16_t)
#undef FXSIM_LUT_INSTANTIATE

FXSIM_NAMESPACE_END
