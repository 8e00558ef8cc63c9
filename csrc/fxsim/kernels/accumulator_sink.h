// Where the conv2d / matmul kernels put their finished accumulators (baseline code, std::
// allowed): as they are (AccumulatorSink: the *_accumulate entry points) or through a
// RequantizePlan straight into output codes (RequantizeSink: the fused *_requantize entry
// points, which never hold more than one tile of accumulators).
//
// Every sink call covers `count` consecutive outputs starting at flat output index `flat`:
//   wrapped(src, bias, c, ...)          uint32 sums of channel c (exact modulo 2^32), one bias
//   wrapped_columns(src, bias, c0, ...) uint32 sums whose channel is column c0 + j, bias[j]
//   values(v, c, per_column, ...)       finished accumulators (policy applied, bias included)
// and returns -1 or the lowest flat index whose accumulator the requantization rejects.
// tile_epilogue(e) says whether the sink's work on 32-bit wrapped sums with one bias per column
// can be done by a dot4 tile in registers (gemm_kernels.h Dot4Epilogue: the same bits, and it
// never rejects), and if so fills e's output fields (out for flat index 0, out_bytes, the
// requantization constants); the caller sets the sums' correction and the offsets.
// The accumulator value is finish_wrapped_u32's (wrap(exact + bias) to acc_bits) in both sinks,
// so fused == accumulate-then-requantize by construction.
#pragma once

#include <cstdint>
#include <mutex>
#include <type_traits>

#include "fxsim/kernels/accumulate_entry.h"
#include "fxsim/kernels/gemm_kernels.h"
#include "fxsim/kernels/requantize.h"

FXSIM_NAMESPACE_BEGIN

// The lowest rejected output index and its accumulator, over all threads of a call.
class FirstRejected {
 public:
  void record(int64_t index, int64_t value) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (index_ < 0 || index < index_) index_ = index, value_ = value;
  }
  int64_t index() const { return index_; }
  int64_t value() const { return value_; }

 private:
  std::mutex mutex_;
  int64_t index_ = -1, value_ = 0;
};

inline int64_t lower_bad(int64_t a, int64_t b) { return a < 0 ? b : (b < 0 ? a : (a < b ? a : b)); }

// The accumulators themselves, in Out (int32 with acc_bits 32, or int64).
template <typename Out>
struct AccumulatorSink {
  int bits;
  Out* out;

  int64_t wrapped(const uint32_t* src, int64_t bias, int64_t, int64_t flat, int64_t count) const {
    finish_wrapped_row(src, bias, bits, out + flat, count);
    return -1;
  }
  int64_t wrapped_columns(const uint32_t* src, const int64_t* bias, int64_t, int64_t flat, int64_t count) const {
    if (bias == nullptr) {
      finish_wrapped_row(src, 0, bits, out + flat, count);
    } else {
      finish_wrapped_row_biases(src, bias, bits, out + flat, count);
    }
    return -1;
  }
  int64_t values(const int64_t* v, int64_t, bool, int64_t flat, int64_t count) const {
    for (int64_t j = 0; j < count; ++j) out[flat + j] = static_cast<Out>(v[j]);  // within Out (acc_bits)
    return -1;
  }
  // int32 accumulators of acc_bits 32: finish_wrapped_row_biases is int32(sum + bias) there
  bool tile_epilogue(Dot4Epilogue* e) const {
    if (!std::is_same<Out, int32_t>::value || bits != 32) return false;
    e->scale = nullptr;
    e->out_bytes = 4;
    e->out = out;
    return true;
  }
};

// Accumulators -> codes through `plan`, a tile of at most kTile values at a time. The plan takes
// int32 accumulators when acc_bits is 32 and there is no offset, else int64. `acc_offset` (null,
// or plan->channels() values) is added to each finished accumulator in int64 with
// two's-complement wrap, as numpy's int64 addition does (Rescale's zp_in_bias output stage).
struct RequantizeSink {
  static constexpr int64_t kTile = 1024;  // int64 tile: 8 KB on the stack
  int bits;
  const RequantizePlan* plan;
  const int64_t* acc_offset;
  char* out;
  int out_bytes;
  FirstRejected* rejected;

  int64_t offset_of(int64_t c) const {
    return acc_offset == nullptr ? 0 : acc_offset[plan->channels() == 1 ? 0 : c];
  }
  // buf holds `len` accumulators of the outputs flat0 + [0, len), channel c (or c + j per column)
  int64_t emit(const void* buf, int64_t c, bool per_column, int64_t flat0, int64_t len) const {
    void* dst = out + flat0 * out_bytes;
    const int64_t bad = per_column ? plan->run_row(c, buf, len, flat0, dst)
                                   : plan->run_channel(c, buf, len, flat0, dst);
    if (bad >= 0) {
      const int64_t j = bad - flat0;
      rejected->record(bad, plan->acc64() ? static_cast<const int64_t*>(buf)[j] : static_cast<const int32_t*>(buf)[j]);
    }
    return bad;
  }
  void add_offsets(int64_t* buf, int64_t c, bool per_column, int64_t len) const {
    if (acc_offset == nullptr) return;
    for (int64_t j = 0; j < len; ++j) {
      buf[j] = static_cast<int64_t>(static_cast<uint64_t>(buf[j]) + static_cast<uint64_t>(offset_of(per_column ? c + j : c)));
    }
  }

  int64_t wrapped(const uint32_t* src, int64_t bias, int64_t c, int64_t flat, int64_t count) const {
    if (!plan->acc64() && static_cast<uint32_t>(static_cast<uint64_t>(bias)) == 0) {
      // finish_wrapped_row to 32 bits with a bias of 0 modulo 2^32 keeps the bits: the plan reads
      // the sums in place (int32 may alias uint32), no tile copy (the direct conv kernels fold
      // the bias into their sums, direct_conv2d.cc)
      return emit(reinterpret_cast<const int32_t*>(src), c, false, flat, count);
    }
    int64_t first = -1;
    for (int64_t j0 = 0; j0 < count; j0 += kTile) {
      const int64_t len = count - j0 < kTile ? count - j0 : kTile;
      if (plan->acc64()) {
        int64_t buf[kTile];
        finish_wrapped_row(src + j0, bias, bits, buf, len);
        add_offsets(buf, c, false, len);
        first = lower_bad(first, emit(buf, c, false, flat + j0, len));
      } else {
        int32_t buf[kTile];
        finish_wrapped_row(src + j0, bias, 32, buf, len);
        first = lower_bad(first, emit(buf, c, false, flat + j0, len));
      }
    }
    return first;
  }
  int64_t wrapped_columns(const uint32_t* src, const int64_t* bias, int64_t c0, int64_t flat, int64_t count) const {
    int64_t first = -1;
    for (int64_t j0 = 0; j0 < count; j0 += kTile) {
      const int64_t len = count - j0 < kTile ? count - j0 : kTile;
      const int wbits = plan->acc64() ? bits : 32;
      int64_t wide[kTile];
      int32_t narrow[kTile];
      if (plan->acc64()) {
        if (bias == nullptr) {
          finish_wrapped_row(src + j0, 0, wbits, wide, len);
        } else {
          finish_wrapped_row_biases(src + j0, bias + j0, wbits, wide, len);
        }
        add_offsets(wide, c0 + j0, true, len);
        first = lower_bad(first, emit(wide, c0 + j0, true, flat + j0, len));
      } else {
        if (bias == nullptr) {
          finish_wrapped_row(src + j0, 0, 32, narrow, len);
        } else {
          finish_wrapped_row_biases(src + j0, bias + j0, 32, narrow, len);
        }
        first = lower_bad(first, emit(narrow, c0 + j0, true, flat + j0, len));
      }
    }
    return first;
  }
  // wrapped_columns with a 32-bit plan (int32(sum + bias), no offset) whose loop is the bounded
  // float32 HALF_EVEN or the double-rounding one (RequantizePlan::register_loop), which never rejects an int32
  bool tile_epilogue(Dot4Epilogue* e) const {
    if (acc_offset != nullptr || plan->acc64()) return false;
    RequantizePlan::RegisterLoop loop;
    if (!plan->register_loop(&loop)) return false;
    e->scale = loop.scale, e->add = loop.add, e->lo = loop.lo, e->hi = loop.hi;  // null unless kFp32HalfEven
    e->multiplier = loop.multiplier, e->shift = loop.shift, e->lo32 = loop.lo32, e->hi32 = loop.hi32;
    e->zp = loop.zero_point;
    e->per_channel = plan->channels() != 1;
    e->out_bytes = out_bytes;
    e->out_signed = plan->out_type() == OutType::kInt8 || plan->out_type() == OutType::kInt16 ||
                    plan->out_type() == OutType::kInt32;
    e->out = out;
    return true;
  }
  int64_t values(const int64_t* v, int64_t c, bool per_column, int64_t flat, int64_t count) const {
    int64_t first = -1;
    for (int64_t j0 = 0; j0 < count; j0 += kTile) {
      const int64_t len = count - j0 < kTile ? count - j0 : kTile;
      const int64_t cj = per_column ? c + j0 : c;
      if (plan->acc64()) {
        int64_t buf[kTile];
        for (int64_t j = 0; j < len; ++j) buf[j] = v[j0 + j];
        add_offsets(buf, cj, per_column, len);
        first = lower_bad(first, emit(buf, cj, per_column, flat + j0, len));
      } else {
        int32_t buf[kTile];
        for (int64_t j = 0; j < len; ++j) buf[j] = static_cast<int32_t>(v[j0 + j]);  // acc_bits 32: fits
        first = lower_bad(first, emit(buf, cj, per_column, flat + j0, len));
      }
    }
    return first;
  }
};

// Moves a per-channel Dot4Epilogue's constants n0 channels on (a call starting at channel n0:
// column n0 of the matmul, row n0 of the conv); the pointers of the form not in use stay null.
inline void skip_epilogue_channels(Dot4Epilogue* e, int64_t n0) {
  if (e->scale != nullptr) e->scale += n0, e->add += n0, e->lo += n0, e->hi += n0;
  if (e->multiplier != nullptr) e->multiplier += n0, e->shift += n0, e->lo32 += n0, e->hi32 += n0;
  e->zp += n0;
}

// The plan of a fused call: `rq` with the accumulator width of the values the sink passes
// (int32 when acc_bits is 32 and there is no offset, else int64 with acc_bits 64: the
// accumulators are already within acc_bits, and an offset may leave it, as in Rescale).
inline RequantizePlan fused_plan(const char* kernel, const RequantizeArgs& rq, int acc_bits, bool has_offset,
                                 OutType out_type, int64_t channels) {
  if (rq.channels != 1 && rq.channels != channels) {
    throw_invalid(kernel, "the requantization has " + std::to_string(rq.channels) + " channels, expected 1 or " +
                              std::to_string(channels));
  }
  RequantizeArgs a = rq;
  const bool acc64 = acc_bits != 32 || has_offset;
  a.params.acc_bits = acc64 ? 64 : 32;
  a.params.inner = 1;
  return RequantizePlan(a, acc64, out_type, kernel);
}

FXSIM_NAMESPACE_END
