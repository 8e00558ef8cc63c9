// matmul_accumulate (matmul.h): validation, the definition loop for every policy, and the WRAP
// fast path for 8-bit operands.
#include "fxsim/kernels/matmul.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "fxsim/kernels/accumulate_entry.h"
#include "fxsim/kernels/accumulator_sink.h"
#include "fxsim/kernels/direct_conv2d.h"
#include "fxsim/kernels/gemm_kernels.h"
#include "fxsim/kernels/packed_weights.h"
#include "fxsim/kernels/parallel.h"

namespace fxsim {

namespace {

constexpr const char* kName = "matmul_accumulate";

// The definition (matmul.h) for the policy Acc over rows r = b * M + m in [r0, r1): k ascending,
// bias last; each row of accumulators goes to the sink (channels along the columns). Returns the
// first output index outside the range (RAISE), else -1.
template <class Acc, typename A, typename B, class Sink>
int64_t matmul_definition(const MatMulShape& s, int bits, IntRange range, const A* a, int32_t a_zp, const B* b,
                          int64_t bzc, const int32_t* b_zp, const int64_t* bias, const Sink& sink, int64_t r0,
                          int64_t r1) {
  std::vector<int64_t> row(static_cast<size_t>(s.n));
  for (int64_t r = r0; r < r1; ++r) {
    const A* arow = a + r * s.k;
    const B* bm = b + (s.b_batched ? r / s.m * s.k * s.n : 0);
    for (int64_t j = 0; j < s.n; ++j) {
      const int64_t bz = b_zp[bzc == 1 ? 0 : j];
      Acc acc(bits, range.lo, range.hi);
      for (int64_t k = 0; k < s.k; ++k) {
        add_codes(acc, static_cast<int64_t>(arow[k]), a_zp, static_cast<int64_t>(bm[k * s.n + j]), bz);
      }
      const int64_t v = acc.finish(bias != nullptr ? bias[j] : 0);
      if (!acc.ok()) return r * s.n + j;
      row[j] = v;
    }
    sink.values(row.data(), 0, true, r * s.n, s.n);  // a rejection is recorded by the sink
  }
  return -1;
}

// Tile of the fast path's tasks: rows x columns of one batch (columns: whole 64-column tiles of
// the packed B; a batch-1 product is split over its column tiles). 48 rows: whole register tiles
// of 6 (avx512vnni) and of 4 (avx512bw), where 32 rows ran as 6, 6, 5, 5, 5, 5 and the 5-row
// tiles took ~64% of the samples; each task also reads its slice of B for 48 rows, not 32.
// 128 x 768 x 768, one thread (Zen 4, vpdpbusd ceiling ~228 GMAC/s): 214.4 -> 218.8 GMAC/s
// fused (197 x 768 x 768: 215.0 -> 221.3; 2 threads 423 -> 433); 96 rows ran as 48.
constexpr int64_t kTaskRows = 48;
constexpr int64_t kTaskCols = 2 * kDot4TileCols;
// Rows from which the pair kernels take a product (matmul_dot4).
constexpr int64_t kPairsMinRows = 4;

// WRAP with 8-bit A and B: raw codes through the u8 x s8 dot4 kernel (gemm_kernels.h; A's rows
// broadcast, B packed in 64-column tiles, packed_weights.h) and the zero points restored by the
// offset formula, modulo 2^32:
//   acc[m, n] = sum_k a'_k b'_k - b_zp'[n] * sum_k a'[m, k] + (K a_zp' b_zp'[n] - a_zp' sum_k b'[k, n])
// with a' = a (+ 128 for s8 A), b' the packed s8 B. A batch-1 product (the classifier) is the
// same kernel with one row: a GEMV that streams each packed tile of B once, split by column
// tiles across threads. `packed` holds one packed B, or one per batch when B is batched.
template <typename A, class Sink>
int64_t matmul_dot4(const MatMulShape& s, int acc_bits, const A* a, int32_t a_zp, const PackedMatMulWeights* packed,
                    const int64_t* bias, const Sink& sink) {
  const bool a_signed = std::is_signed<A>::value;
  const int32_t a_zp_packed = a_zp + (a_signed ? 128 : 0);  // in [0, 255]
  const int64_t words = packed[0].groups4, rows = s.batch * s.m;
  const int64_t b_count = s.b_batched ? s.batch : 1;
  bool any_zp = false;  // some b_zp' != 0: the rows' sums of a' are needed
  for (int64_t bi = 0; bi < b_count; ++bi) any_zp = any_zp || packed[bi].offsets.any_zp;
  // A' as words of 4 consecutive k (k past K: 0), with each row's sum of a' when needed. u8
  // codes whose rows are whole words (K % 4 == 0) are those words already (byte k % 4 of word
  // k / 4 is byte k, little-endian): the tile epilogue kernel reads them in place, so only s8
  // codes (flipped) or a ragged K are copied.
  const GemmTable& kernels = active_gemm_kernels();
  // The int16-pair kernels (gemm_kernels.h Dot2Fn) where they are the variant's faster form, for
  // products of kPairsMinRows rows or more: A's rows and B as pair words, `steps` per row. With
  // fewer rows the product streams B (the batch-1 classifier is bound by reading it), and the
  // pair words of B are twice the bytes.
  const bool pairs = kernels.dot2_pairs != nullptr && s.m >= kPairsMinRows;
  Dot4Epilogue finish;
  const bool tiled =
      acc_bits == 32 && (!pairs || kernels.dot2_pairs_epilogue != nullptr) && sink.tile_epilogue(&finish);
  // 8-bit float32 codes within the register limits: round(v) packed with saturation and clamped
  // as bytes, per column (gemm_kernels.inc epilogue_row_column_codes; same codes). 128 x 768 x 768
  // one thread: the epilogue's clamp in float32, + zp in int32 and channel add were most of each
  // 6 x 64 tile's fixed cost (~22 us of a ~343 us call; a K = 4 product ran 22 us).
  if (tiled) finish.codes_clamp = epilogue_clamps_in_codes(finish, s.n, &finish.has_add);
  const int64_t steps = pairs ? 2 * words : words;
  if (pairs) {  // made here, on the calling thread, before the tasks read them
    for (int64_t bi = 0; bi < b_count; ++bi) packed[bi].pairs();
  }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const bool in_place = tiled && !pairs && !a_signed && s.k % 4 == 0;
#else
  const bool in_place = false;
#endif
  // (not zero-filled first: each row's words are written whole below)
  std::unique_ptr<uint32_t[]> aw(in_place ? nullptr : new uint32_t[static_cast<size_t>(rows * steps)]);
  std::vector<uint32_t> asum(static_cast<size_t>(rows), 0u);
  const uint8_t flip = a_signed ? 0x80u : 0u;  // a + 128 as a byte: a ^ 0x80
  // (u8 rows read in place with no zero point to restore: nothing to do, no threads to start)
  const bool prepare_rows = any_zp || !in_place;
  parallel_tasks(prepare_rows ? rows : 0, s.k, [&](int64_t r0, int64_t r1) -> int64_t {
    for (int64_t r = r0; r < r1; ++r) {
      const uint8_t* src = reinterpret_cast<const uint8_t*>(a + r * s.k);  // the codes' bytes
      if (any_zp) {
        uint32_t sum = 0;
        for (int64_t k = 0; k < s.k; ++k) sum += static_cast<uint32_t>(src[k] ^ flip);
        asum[r] = sum;
      }
      if (in_place) continue;
      if (pairs) {  // pair word t: a'[2t], a'[2t + 1] zero-extended (k past K: 0)
        uint32_t* dst = aw.get() + r * steps;
        const int64_t whole = s.k / 2;
        for (int64_t t = 0; t < whole; ++t) {
          dst[t] = static_cast<uint32_t>(src[2 * t] ^ flip) | static_cast<uint32_t>(src[2 * t + 1] ^ flip) << 16;
        }
        for (int64_t t = whole; t < steps; ++t) dst[t] = 2 * t < s.k ? static_cast<uint32_t>(src[2 * t] ^ flip) : 0u;
        continue;
      }
      uint32_t* dst = aw.get() + r * words;
      dst[words - 1] = 0;  // the bytes past K (if any) are 0
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      // byte k % 4 of word k / 4 is byte k: a copy, then the flip word by word. The byte loop it
      // replaces stayed scalar: 8% of a 128 x 768 x 768 call's profile, serial (this pass is below
      // kParallelMinWork), so it capped 2 threads; the call went 421 -> 383 us on 1 thread and
      // 263 -> 209 us on 2 (1.60x -> 1.83x, quiet machine). The bytes past K stay 0.
      uint8_t* bytes = reinterpret_cast<uint8_t*>(dst);
      std::memcpy(bytes, src, static_cast<size_t>(s.k));
      if (flip != 0) {
        for (int64_t w = 0; w < s.k / 4; ++w) dst[w] ^= 0x80808080u;
        for (int64_t k = s.k / 4 * 4; k < s.k; ++k) bytes[k] ^= flip;
      }
#else
      for (int64_t w = 0; w < words; ++w) dst[w] = 0;
      for (int64_t k = 0; k < s.k; ++k) dst[k / 4] |= static_cast<uint32_t>(src[k] ^ flip) << (8 * (k % 4));
#endif
    }
    return -1;
  });
  // row r's words as bytes: A itself or the copy
  const uint8_t* a_bytes = in_place ? reinterpret_cast<const uint8_t*>(a) : reinterpret_cast<const uint8_t*>(aw.get());
  std::vector<int64_t> goff(static_cast<size_t>(steps));
  for (int64_t g = 0; g < steps; ++g) goff[g] = g * kDot4TileCols;
  std::vector<uint32_t> constant(static_cast<size_t>(b_count * s.n));
  for (int64_t bi = 0; bi < b_count; ++bi) {
    for (int64_t j = 0; j < s.n; ++j) constant[bi * s.n + j] = packed[bi].offsets.constant(j, s.k, a_zp_packed);
  }
  const int64_t row_tiles = (s.m + kTaskRows - 1) / kTaskRows;
  const int64_t col_tiles = (s.n + kTaskCols - 1) / kTaskCols;
  const int64_t tasks = s.batch * row_tiles * col_tiles, task_work = kTaskRows * kTaskCols * s.k;
  // The task's rows, columns, batch and first row of A, and its slice of the packed B.
  struct Task {
    int64_t m0, nrows, n0, cols, bi, r0;
    const PackedMatMulWeights* pb;
  };
  auto task_at = [&](int64_t t) {
    // row tiles vary fastest: a thread's run of tasks reuses one column slice of B from cache
    const int64_t rt = t % row_tiles, ct = t / row_tiles % col_tiles, bi = t / (col_tiles * row_tiles);
    Task k;
    k.m0 = rt * kTaskRows, k.nrows = std::min(kTaskRows, s.m - k.m0);
    k.n0 = ct * kTaskCols, k.cols = std::min(kTaskCols, s.n - k.n0);
    k.bi = bi, k.r0 = bi * s.m + k.m0;
    k.pb = &packed[s.b_batched ? bi : 0];
    return k;
  };
  auto b_slice = [&](const Task& k) {
    return (pairs ? k.pb->pairs().words : k.pb->words).data() + (k.n0 / kDot4TileCols) * steps * kDot4TileCols;
  };
  if (tiled) {
    // The sink's work done in the tiles' registers (gemm_kernels.h Dot4Epilogue, same bits):
    // int32(sum + constant[n] + bias[n] - b_zp'[n] * asum[r]), all modulo 2^32, then the
    // requantization if any. Measured on 128 x 768 x 768 (one thread, machine load 3-4): the
    // uint32 tile stored, re-read with an int64 bias and passed row by row to the plan cost
    // ~35 us of a ~383 us fused call; in registers the epilogue is a few vector operations per
    // 16 outputs against 192 vpdpbusd per accumulator.
    std::vector<uint32_t> col_add(constant.size());
    for (size_t i = 0; i < col_add.size(); ++i) {
      col_add[i] = constant[i] + (bias != nullptr ? static_cast<uint32_t>(static_cast<uint64_t>(bias[i % s.n])) : 0u);
    }
    const int out_bytes = finish.out_bytes;
    char* const out = static_cast<char*>(finish.out);
    return parallel_tasks(tasks, task_work, [&](int64_t t0, int64_t t1) -> int64_t {
      for (int64_t t = t0; t < t1; ++t) {
        const Task k = task_at(t);
        Dot4Epilogue e = finish;
        e.channel_add = col_add.data() + (s.b_batched ? k.bi : 0) * s.n + k.n0;
        e.col_zp = any_zp ? k.pb->offsets.zp_packed.data() + k.n0 : nullptr;
        e.row_sum = asum.data() + k.r0;
        if (e.per_channel) skip_epilogue_channels(&e, k.n0);
        e.out = out + (k.r0 * s.n + k.n0) * out_bytes;
        e.ldo = s.n;
        if (pairs) {
          kernels.dot2_pairs_epilogue(aw.get() + k.r0 * steps, steps, b_slice(k), steps * kDot4TileCols, goff.data(),
                                      k.nrows, k.cols, steps, e);
        } else {
          kernels.dot4_u8s8_epilogue(a_bytes + k.r0 * words * 4, words, b_slice(k), words * kDot4TileCols,
                                     goff.data(), k.nrows, k.cols, words, e);
        }
      }
      return int64_t(-1);
    });
  }
  // With acc_bits 32 the sinks wrap sum + bias modulo 2^32, so the constant correction joins the
  // bias (same bits); wider accumulators sign-extend the corrected int32 sum, corrected in place.
  const bool fold = acc_bits == 32 && !any_zp;
  std::vector<int64_t> folded;
  if (fold) {
    folded.resize(constant.size());
    for (size_t i = 0; i < folded.size(); ++i) {
      const int64_t b = bias != nullptr ? bias[i % s.n] : 0;
      folded[i] = static_cast<int64_t>(static_cast<uint64_t>(b) + constant[i]);  // modulo 2^64
    }
  }
  return parallel_tasks(tasks, task_work, [&](int64_t t0, int64_t t1) -> int64_t {
    std::vector<uint32_t> tmp(static_cast<size_t>(kTaskRows * kTaskCols));
    int64_t first = -1;
    for (int64_t t = t0; t < t1; ++t) {
      const Task k = task_at(t);
      const Dot4Fn sums = pairs ? kernels.dot2_pairs : kernels.dot4_u8s8;  // the same signature and sums
      sums(aw.get() + k.r0 * steps, steps, b_slice(k), steps * kDot4TileCols, goff.data(), k.nrows, k.cols, steps,
           tmp.data(), k.cols);
      const uint32_t* kc = constant.data() + (s.b_batched ? k.bi : 0) * s.n + k.n0;
      const int32_t* z = k.pb->offsets.zp_packed.data() + k.n0;
      const int64_t* row_bias = fold ? folded.data() + (s.b_batched ? k.bi : 0) * s.n + k.n0
                                     : bias != nullptr ? bias + k.n0 : nullptr;
      for (int64_t i = 0; i < k.nrows; ++i) {
        uint32_t* row = tmp.data() + i * k.cols;
        if (!fold) {
          const uint32_t as = asum[k.r0 + i];  // times b_zp' (0 for every column when !any_zp)
          for (int64_t j = 0; j < k.cols; ++j) row[j] += kc[j] - static_cast<uint32_t>(z[j]) * as;
        }
        first = lower_bad(first, sink.wrapped_columns(row, row_bias, k.n0, (k.r0 + i) * s.n + k.n0, k.cols));
      }
    }
    return first;
  });
}

}  // namespace

void matmul_check_shape(const MatMulShape& s) {
  check_positive(kName, "batch", s.batch);
  check_positive(kName, "M", s.m);
  check_positive(kName, "K", s.k);
  check_positive(kName, "N", s.n);
  const int64_t limit = int64_t(1) << 31;
  if (s.batch >= limit || s.m >= limit || s.k >= limit || s.n >= limit) {
    throw_invalid(kName, "a dimension is >= 2^31");
  }
}

namespace {

template <typename A, typename B>
void check_matmul_arguments(const char* kernel, const MatMulShape& shape, int32_t a_zero_point,
                            int64_t b_zero_point_count, const int32_t* b_zero_point) {
  matmul_check_shape(shape);
  check_zero_point_in<A>(kernel, "a_zero_point", a_zero_point);
  check_zero_point_count(kernel, b_zero_point_count, shape.n);
  for (int64_t i = 0; i < b_zero_point_count; ++i) check_zero_point_in<B>(kernel, "b_zero_point", b_zero_point[i]);
}

// The WRAP fast path or the definition for the policy, into `sink`: the lowest output index whose
// exact sum leaves the range (RAISE), else -1 (the sink records its own rejections). `packed` is
// null or B packed once (packed_weights.h); without it the fast path packs B here.
template <typename A, typename B, class Sink>
int64_t matmul_run(const AccumulateParams& acc, IntRange range, const MatMulShape& shape, const A* a,
                   int32_t a_zero_point, const B* b, int64_t b_zero_point_count, const int32_t* b_zero_point,
                   const PackedMatMulWeights* packed, const int64_t* bias, const Sink& sink) {
  if constexpr (sizeof(A) == 1 && sizeof(B) == 1) {
    if (acc.policy == AccumulatePolicy::kWrap && (acc.acc_bits == 32 || shape.k <= kExactInt32Depth8)) {
      // the sink records its rejections; WRAP never leaves the range
      if (packed != nullptr) {
        matmul_dot4(shape, acc.acc_bits, a, a_zero_point, packed, bias, sink);
        return -1;
      }
      const int64_t count = shape.b_batched ? shape.batch : 1;
      std::vector<PackedMatMulWeights> each;  // on the calling thread: the checks may throw
      each.reserve(static_cast<size_t>(count));
      for (int64_t bi = 0; bi < count; ++bi) {
        each.push_back(pack_matmul_weights(b + bi * shape.k * shape.n, shape.k, shape.n, b_zero_point_count,
                                           b_zero_point, false));
      }
      matmul_dot4(shape, acc.acc_bits, a, a_zero_point, each.data(), bias, sink);
      return -1;
    }
  }
  return with_accumulator(acc.policy, [&](auto* tag) {
    using Acc = std::remove_pointer_t<decltype(tag)>;
    return parallel_tasks(shape.batch * shape.m, shape.n * shape.k, [&](int64_t r0, int64_t r1) {
      return matmul_definition<Acc>(shape, acc.acc_bits, range, a, a_zero_point, b, b_zero_point_count,
                                    b_zero_point, bias, sink, r0, r1);
    });
  });
}

[[noreturn]] void throw_outside_accumulator(const char* kernel, const MatMulShape& shape, int bits, int64_t bad) {
  const int64_t j = bad % shape.n, m = bad / shape.n % shape.m, bi = bad / (shape.n * shape.m);
  throw_range(kernel, "output index " + std::to_string(bad) + " (batch=" + std::to_string(bi) + ", m=" +
                          std::to_string(m) + ", n=" + std::to_string(j) + "): the exact sum leaves the " +
                          std::to_string(bits) + "-bit accumulator range");
}

}  // namespace

namespace {

// The entry points' common body: validate, run (packed: null or B packed once), raise.
template <typename A, typename B, typename Out>
void accumulate_into(const char* kernel, const AccumulateParams& acc, const MatMulShape& shape, const A* a,
                     int32_t a_zero_point, const B* b, int64_t b_zero_point_count, const int32_t* b_zero_point,
                     const PackedMatMulWeights* packed, const int64_t* bias, Out* out) {
  const IntRange range = checked_accumulate<Out>(kernel, acc);
  check_matmul_arguments<A, B>(kernel, shape, a_zero_point, b_zero_point_count, b_zero_point);
  const AccumulatorSink<Out> sink{acc.acc_bits, out};
  const int64_t bad =
      matmul_run(acc, range, shape, a, a_zero_point, b, b_zero_point_count, b_zero_point, packed, bias, sink);
  if (bad >= 0) throw_outside_accumulator(kernel, shape, acc.acc_bits, bad);
}

template <typename A, typename B>
void requantize_into(const char* kernel, const AccumulateParams& acc, const MatMulShape& shape, const A* a,
                     int32_t a_zero_point, const B* b, int64_t b_zero_point_count, const int32_t* b_zero_point,
                     const PackedMatMulWeights* packed, const int64_t* bias, const int64_t* acc_offset,
                     const RequantizeArgs& rq, OutType out_type, void* out) {
  const IntRange range = checked_accumulate<int64_t>(kernel, acc);
  check_matmul_arguments<A, B>(kernel, shape, a_zero_point, b_zero_point_count, b_zero_point);
  const RequantizePlan plan = fused_plan(kernel, rq, acc.acc_bits, acc_offset != nullptr, out_type, shape.n);
  FirstRejected rejected;
  const RequantizeSink sink{acc.acc_bits, &plan, acc_offset, static_cast<char*>(out), plan.out_bytes(), &rejected};
  const int64_t bad =
      matmul_run(acc, range, shape, a, a_zero_point, b, b_zero_point_count, b_zero_point, packed, bias, sink);
  if (bad >= 0) throw_outside_accumulator(kernel, shape, acc.acc_bits, bad);
  if (rejected.index() >= 0) plan.throw_bad(rejected.index(), rejected.value());
}

// Calls f(codes) with the packed weights' original codes in their own type, after checking that
// they are the [K, N] of an unbatched `shape` (std::invalid_argument otherwise).
template <class F>
void with_packed_codes(const char* kernel, const MatMulShape& shape, const PackedMatMulWeights& b, F&& f) {
  matmul_check_shape(shape);
  if (shape.b_batched) throw_invalid(kernel, "packed weights are one [K, N] matrix, not batched");
  if (b.k != shape.k || b.n != shape.n) {
    throw_invalid(kernel, "the packed weights are [" + std::to_string(b.k) + ", " + std::to_string(b.n) +
                              "], the call needs [" + std::to_string(shape.k) + ", " + std::to_string(shape.n) + "]");
  }
  if (b.offsets.w_unsigned) {
    f(b.codes.data());
  } else {
    f(reinterpret_cast<const int8_t*>(b.codes.data()));
  }
}

}  // namespace

template <typename A, typename B, typename Out>
void matmul_accumulate(const AccumulateParams& acc, const MatMulShape& shape, const A* a, int32_t a_zero_point,
                       const B* b, int64_t b_zero_point_count, const int32_t* b_zero_point, const int64_t* bias,
                       Out* out) {
  accumulate_into(kName, acc, shape, a, a_zero_point, b, b_zero_point_count, b_zero_point, nullptr, bias, out);
}

template <typename A, typename B>
void matmul_requantize(const AccumulateParams& acc, const MatMulShape& shape, const A* a, int32_t a_zero_point,
                       const B* b, int64_t b_zero_point_count, const int32_t* b_zero_point, const int64_t* bias,
                       const int64_t* acc_offset, const RequantizeArgs& rq, OutType out_type, void* out) {
  requantize_into("matmul_requantize", acc, shape, a, a_zero_point, b, b_zero_point_count, b_zero_point, nullptr,
                  bias, acc_offset, rq, out_type, out);
}

template <typename A, typename Out>
void matmul_accumulate(const AccumulateParams& acc, const MatMulShape& shape, const A* a, int32_t a_zero_point,
                       const PackedMatMulWeights& b, const int64_t* bias, Out* out) {
  with_packed_codes(kName, shape, b, [&](const auto* codes) {
    accumulate_into(kName, acc, shape, a, a_zero_point, codes, static_cast<int64_t>(b.offsets.zero_point.size()),
                    b.offsets.zero_point.data(), &b, bias, out);
  });
}

template <typename A>
void matmul_requantize(const AccumulateParams& acc, const MatMulShape& shape, const A* a, int32_t a_zero_point,
                       const PackedMatMulWeights& b, const int64_t* bias, const int64_t* acc_offset,
                       const RequantizeArgs& rq, OutType out_type, void* out) {
  constexpr const char* kFused = "matmul_requantize";
  with_packed_codes(kFused, shape, b, [&](const auto* codes) {
    requantize_into(kFused, acc, shape, a, a_zero_point, codes, static_cast<int64_t>(b.offsets.zero_point.size()),
                    b.offsets.zero_point.data(), &b, bias, acc_offset, rq, out_type, out);
  });
}

#define FXSIM_MATMUL_PACKED_INSTANTIATE(A)                                                                        \
  template void matmul_accumulate<A, int32_t>(const AccumulateParams&, const MatMulShape&, const A*, int32_t,      \
                                              const PackedMatMulWeights&, const int64_t*, int32_t*);              \
  template void matmul_accumulate<A, int64_t>(const AccumulateParams&, const MatMulShape&, const A*, int32_t,      \
                                              const PackedMatMulWeights&, const int64_t*, int64_t*);              \
  template void matmul_requantize<A>(const AccumulateParams&, const MatMulShape&, const A*, int32_t,               \
                                     const PackedMatMulWeights&, const int64_t*, const int64_t*,                   \
                                     const RequantizeArgs&, OutType, void*);
FXSIM_MATMUL_PACKED_INSTANTIATE(uint8_t)
FXSIM_MATMUL_PACKED_INSTANTIATE(int8_t)
FXSIM_MATMUL_PACKED_INSTANTIATE(uint16_t)
FXSIM_MATMUL_PACKED_INSTANTIATE(int16_t)

#define FXSIM_MATMUL_INSTANTIATE(A, B, O)                                                                      \
  template void matmul_accumulate<A, B, O>(const AccumulateParams&, const MatMulShape&, const A*, int32_t, const B*, \
                                           int64_t, const int32_t*, const int64_t*, O*);
#define FXSIM_MATMUL_INSTANTIATE_B(A, B) \
  FXSIM_MATMUL_INSTANTIATE(A, B, int32_t) \
  FXSIM_MATMUL_INSTANTIATE(A, B, int64_t)
#define FXSIM_MATMUL_INSTANTIATE_A(A)     \
  FXSIM_MATMUL_INSTANTIATE_B(A, uint8_t)  \
  FXSIM_MATMUL_INSTANTIATE_B(A, int8_t)   \
  FXSIM_MATMUL_INSTANTIATE_B(A, uint16_t) \
  FXSIM_MATMUL_INSTANTIATE_B(A, int16_t)
FXSIM_MATMUL_INSTANTIATE_A(uint8_t)
FXSIM_MATMUL_INSTANTIATE_A(int8_t)
FXSIM_MATMUL_INSTANTIATE_A(uint16_t)
FXSIM_MATMUL_INSTANTIATE_A(int16_t)

#define FXSIM_MATMUL_REQUANTIZE_INSTANTIATE(A, B)                                                                 \
  template void matmul_requantize<A, B>(const AccumulateParams&, const MatMulShape&, const A*, int32_t, const B*, \
                                        int64_t, const int32_t*, const int64_t*, const int64_t*,                 \
                                        const RequantizeArgs&, OutType, void*);
#define FXSIM_MATMUL_REQUANTIZE_INSTANTIATE_A(A)   \
  FXSIM_MATMUL_REQUANTIZE_INSTANTIATE(A, uint8_t)  \
  FXSIM_MATMUL_REQUANTIZE_INSTANTIATE(A, int8_t)   \
  FXSIM_MATMUL_REQUANTIZE_INSTANTIATE(A, uint16_t) \
  FXSIM_MATMUL_REQUANTIZE_INSTANTIATE(A, int16_t)
FXSIM_MATMUL_REQUANTIZE_INSTANTIATE_A(uint8_t)
FXSIM_MATMUL_REQUANTIZE_INSTANTIATE_A(int8_t)
FXSIM_MATMUL_REQUANTIZE_INSTANTIATE_A(uint16_t)
FXSIM_MATMUL_REQUANTIZE_INSTANTIATE_A(int16_t)

}  // namespace fxsim
