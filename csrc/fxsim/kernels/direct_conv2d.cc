// depthwise_conv2d_wrap8 and small_depth_conv2d_wrap8 (direct_conv2d.h): the phase-split input
// planes, the filter taps as int16 pairs, the output runs, the thread split, and the choice of
// the ISA's tile loop (direct_conv_kernels.h).
#include "fxsim/kernels/direct_conv2d.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "fxsim/kernels/accumulate_entry.h"
#include "fxsim/kernels/accumulator_sink.h"
#include "fxsim/kernels/direct_conv_kernels.h"
#include "fxsim/kernels/dispatch.h"
#include "fxsim/kernels/parallel.h"

namespace fxsim {

const DirectConvTable* active_direct_conv_kernels() {
  const char* isa = active_isa();
  if (std::strcmp(isa, "avx512vnni") == 0 && direct_conv_table_avx512vnni != nullptr) {
    return direct_conv_table_avx512vnni();
  }
  if ((std::strcmp(isa, "avx512bw") == 0 || std::strcmp(isa, "avx512vnni") == 0) &&
      direct_conv_table_avx512bw != nullptr) {
    return direct_conv_table_avx512bw();
  }
  if (std::strcmp(isa, "avx2") == 0 && direct_conv_table_avx2 != nullptr) return direct_conv_table_avx2();
  return nullptr;
}

namespace {

// Largest buffer (elements) a direct kernel allocates: above it the layer keeps the generic path.
constexpr int64_t kMaxBuffer = int64_t(1) << 24;
// The output columns of a plane of narrow depthwise channels side by side (PackedChannels).
constexpr int64_t kDepthwisePackedColumns = 64;

// One padded input channel, zero-point corrected to int16 and split into stride_w phases:
// padded row r, padded column q * stride_w + phase at [r * row + phase * phase_len + q].
// phase_len leaves room for the tile loop's reads: a run of 32 outputs starting at column
// j0 < OW reads phase columns up to round_up(OW, 32) - 1 + (KW - 1) * dilation_w / stride_w.
struct PlaneLayout {
  int64_t phase_len, row, plane;
  int64_t out_runs;  // runs of kDirectConvUnit columns per output row
};

PlaneLayout plane_layout(const Conv2DParams& p, const Conv2DShape& s, int64_t ow) {
  const int64_t hp = s.h + p.pad_top + p.pad_bottom, wp = s.w + p.pad_left + p.pad_right;
  const int64_t sw = p.stride_w;
  const int64_t runs = (ow + kDirectConvUnit - 1) / kDirectConvUnit;
  const int64_t phase_len = std::max((wp + sw - 1) / sw, runs * kDirectConvUnit + (s.kw - 1) * p.dilation_w / sw);
  return PlaneLayout{phase_len, sw * phase_len, hp * sw * phase_len, runs};
}

// Whether the plane and the accumulators of `outputs` values stay within kMaxBuffer; computed in
// double first so that no product can overflow int64 (dimensions are < 2^31, conv2d.h).
bool buffers_fit(const Conv2DParams& p, const Conv2DShape& s, int64_t ow, double outputs, double planes) {
  const double hp = double(s.h) + double(p.pad_top) + double(p.pad_bottom);
  const double wq = (double(s.w) + double(p.pad_left) + double(p.pad_right)) / double(p.stride_w) + 1.0;
  const double len = std::max(wq, double(ow) + double(kDirectConvUnit) + double(s.kw) * double(p.dilation_w));
  return planes * hp * double(p.stride_w) * len <= double(kMaxBuffer) && outputs <= double(kMaxBuffer) &&
         p.stride_w <= 16;  // a larger stride wastes most of each phase row
}

// The active ISA's input loops (direct_conv_kernels.h) for the element type.
inline void widen_row(const DirectConvTable& k, const uint8_t* src, int64_t step, int64_t count, int32_t x_zp, int16_t* d) {
  k.widen_u8(src, step, count, x_zp, d);
}
inline void widen_row(const DirectConvTable& k, const int8_t* src, int64_t step, int64_t count, int32_t x_zp, int16_t* d) {
  k.widen_s8(src, step, count, x_zp, d);
}
inline void interleave_rows(const DirectConvTable& k, const uint8_t* a, const uint8_t* b, int64_t step, int64_t count, int32_t x_zp,
                            uint32_t lo_mask, uint32_t hi_mask, int32_t* d) {
  k.interleave_u8(a, b, step, count, x_zp, lo_mask, hi_mask, d);
}
inline void interleave_rows(const DirectConvTable& k, const int8_t* a, const int8_t* b, int64_t step, int64_t count, int32_t x_zp,
                            uint32_t lo_mask, uint32_t hi_mask, int32_t* d) {
  k.interleave_s8(a, b, step, count, x_zp, lo_mask, hi_mask, d);
}

// Where the input columns of one row go in a phase-split row: padded column ix + pad_left =
// q * stride_w + phase goes to [phase * phase_len + q]; phase `phase` takes the columns
// ix0 + i * stride_w, i < count, starting at offset `at`.
struct PhaseRun {
  int64_t ix0, at, count;
};

std::vector<PhaseRun> phase_runs(const Conv2DParams& p, const Conv2DShape& s, const PlaneLayout& lay) {
  const int64_t sw = p.stride_w;
  std::vector<PhaseRun> runs;
  for (int64_t phase = 0; phase < sw; ++phase) {
    const int64_t ix0 = ((phase - p.pad_left) % sw + sw) % sw;
    const int64_t count = ix0 < s.w ? (s.w - ix0 + sw - 1) / sw : 0;
    if (count > 0) runs.push_back(PhaseRun{ix0, phase * lay.phase_len + (ix0 + p.pad_left) / sw, count});
  }
  return runs;
}

// Writes channel `src` (H x W) into `dst` (zeroed by the caller: the padding stays 0).
template <typename X>
void fill_plane(const DirectConvTable& k, const Conv2DParams& p, const Conv2DShape& s, const PlaneLayout& lay,
                const std::vector<PhaseRun>& phases, const X* src, int32_t x_zp, int16_t* dst) {
  for (int64_t iy = 0; iy < s.h; ++iy) {
    int16_t* row = dst + (iy + p.pad_top) * lay.row;
    const X* srow = src + iy * s.w;
    for (const PhaseRun& ph : phases) widen_row(k, srow + ph.ix0, p.stride_w, ph.count, x_zp, row + ph.at);
  }
}

// Writes channel `src` into `dst` as the interleaved plane the depthwise pairs read (zeroed by
// the caller: the padding stays 0): element i of padded row r holds the input of padded row r in
// its low int16 and of row r + below in its high int16 (0 where that row is padding), with
// fill_plane's column layout. One pass over the input, no int16 copy in between.
template <typename X>
void fill_paired(const DirectConvTable& k, const Conv2DParams& p, const Conv2DShape& s, const PlaneLayout& lay,
                 const std::vector<PhaseRun>& phases, int64_t below, const X* src, int32_t x_zp, int32_t* dst) {
  const int64_t hp = s.h + p.pad_top + p.pad_bottom;
  for (int64_t r = 0; r < hp; ++r) {
    const int64_t iy_lo = r - p.pad_top, iy_hi = r + below - p.pad_top;
    const bool lo_in = iy_lo >= 0 && iy_lo < s.h, hi_in = iy_hi >= 0 && iy_hi < s.h;
    if (!lo_in && !hi_in) continue;
    // a padding row reads as the zero point: its corrected value is 0 (masked off)
    const X* lo_row = src + (lo_in ? iy_lo : iy_hi) * s.w;
    const X* hi_row = src + (hi_in ? iy_hi : iy_lo) * s.w;
    const uint32_t lo_mask = lo_in ? 0xFFFFu : 0u, hi_mask = hi_in ? 0xFFFFu : 0u;
    int32_t* row = dst + r * lay.row;
    for (const PhaseRun& ph : phases) {
      interleave_rows(k, lo_row + ph.ix0, hi_row + ph.ix0, p.stride_w, ph.count, x_zp, lo_mask, hi_mask, row + ph.at);
    }
  }
}

// Tap k = (ic * KH + ky) * KW + kx (the weights' own layout) reads the plane at koff[k] from the
// start of its output run; pairs (2p, 2p + 1), an odd tail repeating the last offset (its weight
// is 0).
std::vector<int64_t> tap_offsets(const Conv2DParams& p, const Conv2DShape& s, const PlaneLayout& lay, int64_t cig) {
  const int64_t depth = cig * s.kh * s.kw;
  std::vector<int64_t> koff(static_cast<size_t>(depth + (depth & 1)));
  for (int64_t ic = 0; ic < cig; ++ic) {
    for (int64_t ky = 0; ky < s.kh; ++ky) {
      for (int64_t kx = 0; kx < s.kw; ++kx) {
        const int64_t col = kx * p.dilation_w;
        koff[(ic * s.kh + ky) * s.kw + kx] =
            ic * lay.plane + ky * p.dilation_h * lay.row + (col % p.stride_w) * lay.phase_len + col / p.stride_w;
      }
    }
  }
  if (depth & 1) koff[depth] = koff[depth - 1];
  return koff;
}

// wp[oc * pairs + p] = (w[2p] - w_zp) | (w[2p + 1] - w_zp) << 16 as int16 halves (0 past the
// filter): the operand vpmaddwd pairs with the interleaved inputs.
template <typename W>
std::vector<int32_t> weight_pairs(const W* w, int64_t c_out, int64_t depth, int64_t wzc, const int32_t* w_zp) {
  const int64_t pairs = (depth + 1) / 2;
  std::vector<int32_t> wp(static_cast<size_t>(c_out * pairs));
  for (int64_t oc = 0; oc < c_out; ++oc) {
    const int32_t wz = w_zp[wzc == 1 ? 0 : oc];
    for (int64_t q = 0; q < pairs; ++q) {
      const int64_t k = 2 * q;
      const uint32_t lo = static_cast<uint16_t>(static_cast<int32_t>(w[oc * depth + k]) - wz);
      const uint32_t hi = k + 1 < depth ? static_cast<uint16_t>(static_cast<int32_t>(w[oc * depth + k + 1]) - wz) : 0u;
      wp[oc * pairs + q] = static_cast<int32_t>(lo | (hi << 16));  // modular conversion (gcc; C++20)
    }
  }
  return wp;
}

// The output runs of rows [oy0, oy1): read from the run's first input at (oy * stride_h) * row +
// j0, written at (oy - oy0) * OW + j0.
struct Runs {
  std::vector<int64_t> src, dst;
  std::vector<int32_t> width;
};

Runs output_runs(const Conv2DParams& p, const PlaneLayout& lay, int64_t ow, int64_t oy0, int64_t oy1) {
  Runs r;
  for (int64_t oy = oy0; oy < oy1; ++oy) {
    for (int64_t j0 = 0; j0 < ow; j0 += kDirectConvUnit) {
      r.src.push_back(oy * p.stride_h * lay.row + j0);
      r.dst.push_back((oy - oy0) * ow + j0);
      r.width.push_back(static_cast<int32_t>(std::min(kDirectConvUnit, ow - j0)));
    }
  }
  return r;
}

// Depthwise taps are paired vertically, (ky, kx) with (ky + 1, kx) (an odd last filter row
// with a 0 weight), so every pair reads the same interleaved copy of the plane at the distance
// dilation_h rows: pair q = (ky / 2) * KW + kx.
std::vector<int64_t> vertical_pair_offsets(const Conv2DParams& p, const Conv2DShape& s, const PlaneLayout& lay) {
  std::vector<int64_t> koff;
  for (int64_t ky = 0; ky < s.kh; ky += 2) {
    for (int64_t kx = 0; kx < s.kw; ++kx) {
      const int64_t col = kx * p.dilation_w;
      koff.push_back(ky * p.dilation_h * lay.row + (col % p.stride_w) * lay.phase_len + col / p.stride_w);
    }
  }
  return koff;
}

template <typename W>
std::vector<int32_t> vertical_weight_pairs(const W* w, const Conv2DShape& s, int64_t wzc, const int32_t* w_zp) {
  const int64_t pairs = (s.kh + 1) / 2 * s.kw, taps = s.kh * s.kw;
  std::vector<int32_t> wp(static_cast<size_t>(s.c_out * pairs));
  for (int64_t oc = 0; oc < s.c_out; ++oc) {
    const int32_t wz = w_zp[wzc == 1 ? 0 : oc];
    const W* f = w + oc * taps;
    for (int64_t ky = 0; ky < s.kh; ky += 2) {
      for (int64_t kx = 0; kx < s.kw; ++kx) {
        const uint32_t lo = static_cast<uint16_t>(static_cast<int32_t>(f[ky * s.kw + kx]) - wz);
        const uint32_t hi = ky + 1 < s.kh ? static_cast<uint16_t>(static_cast<int32_t>(f[(ky + 1) * s.kw + kx]) - wz) : 0u;
        wp[oc * pairs + ky / 2 * s.kw + kx] = static_cast<int32_t>(lo | (hi << 16));  // modular conversion (gcc; C++20)
      }
    }
  }
  return wp;
}

// The filter rows of w (packed_weights.h FilterRows: the packed weights' own, made once, else made
// into *local) and each output channel's start value -zp * sum(w - w_zp) modulo 2^32 (zp: x_zp as
// a u8 code) into *init; null when some w - w_zp leaves int8.
template <typename W>
const FilterRows* int8_filter_rows_and_start(const W* w, const Conv2DShape& s, int64_t cig, int64_t wzc,
                                             const int32_t* w_zp, const PackedConvWeights* packed, uint8_t zp,
                                             FilterRows* local, std::vector<uint32_t>* init) {
  const FilterRows* rows = local;
  if (packed != nullptr && !packed->codes.empty()) {
    rows = &packed->filter_rows();
  } else {
    *local = int8_filter_rows(w, s.c_out, cig, s.kh, s.kw, wzc, w_zp);
  }
  if (!rows->fits) return nullptr;
  init->resize(static_cast<size_t>(s.c_out));
  for (int64_t oc = 0; oc < s.c_out; ++oc) {
    (*init)[oc] = static_cast<uint32_t>(static_cast<uint64_t>(-int64_t(zp) * rows->sum[oc]));  // modulo 2^32
  }
  return rows;
}

// With acc_bits 32 the sink's finish is (sum + bias) modulo 2^32, so the bias can start the sum:
// adds bias[oc] to init[oc] modulo 2^32 and returns true (the caller then passes a 0 bias, which
// lets RequantizeSink read the sums in place). Other widths keep the bias in the sink.
inline bool fold_bias_into(int bits, const int64_t* bias, std::vector<uint32_t>* init) {
  if (bits != 32 || bias == nullptr) return false;
  for (size_t oc = 0; oc < init->size(); ++oc) (*init)[oc] += static_cast<uint32_t>(static_cast<uint64_t>(bias[oc]));
  return true;
}

// Copies the padded rows [r0, r0 + rows) of channel src (H x W codes) as raw u8 codes (int8
// codes + 128: the top bit flipped) into `dst` (padded row r0 + i at dst + i * row_len, padded
// column pad_left + ix at byte pad_left + ix), already filled with the zero point's u8 code: the
// padding stays it.
template <typename X>
void copy_padded_rows(const DirectConvTable& k, const Conv2DParams& p, const Conv2DShape& s, const X* src, int64_t r0,
                      int64_t rows, uint8_t* dst, int64_t row_len) {
  const int64_t iy0 = std::max<int64_t>(0, r0 - p.pad_top), iy1 = std::min<int64_t>(s.h, r0 + rows - p.pad_top);
  if (iy1 <= iy0) return;
  k.copy_rows_u8(reinterpret_cast<const uint8_t*>(src + iy0 * s.w), iy1 - iy0, s.w,
                 std::is_signed<X>::value ? 0x80 : 0, dst + (iy0 + p.pad_top - r0) * row_len + p.pad_left, row_len);
}

// The whole padded plane of channel src (copy_padded_rows).
template <typename X>
void copy_u8_plane(const DirectConvTable& k, const Conv2DParams& p, const Conv2DShape& s, int64_t row_len,
                   const X* src, uint8_t* plane) {
  copy_padded_rows(k, p, s, src, 0, s.h + p.pad_top + p.pad_bottom, plane, row_len);
}

// The register-blocked loop (DepthwiseU8S8FastFn) that takes this layer: stride 1 or stride 2
// (depthwise_u8s8_fast_s2), else null.
DepthwiseU8S8FastFn depthwise_fast_loop(const DirectConvTable& k, const Conv2DParams& p, const Conv2DShape& s,
                                        int64_t oh, int64_t groups) {
  if (p.dilation_h != 1 || !((s.kh == 3 && groups == 1) || (s.kh == 5 && groups == 2))) return nullptr;
  if (p.stride_h == 1 && p.stride_w == 1 && p.dilation_w <= 4 && oh >= kDepthwiseFastRows) {
    return k.depthwise_u8s8_fast;
  }
  if (p.stride_h == 2 && p.stride_w == 2 && p.dilation_w <= 3 && oh >= kDepthwiseS2Rows) {
    return k.depthwise_u8s8_fast_s2;
  }
  return nullptr;
}

// The in-register requantization of output channel oc (RegisterCodes, direct_conv_kernels.h)
// when `sink` allows it: a plan with one of the register forms on int32 accumulators
// (RequantizePlan::register_loop: bounded HALF_EVEN float32, or double_round), no offset, 8-bit
// codes, and bounds that meet RegisterCodes's conditions. The caller folds the bias into the
// start value (fold_bias_into).
// RegisterCodes's limits (register_codes_from, register_codes_hold): the clamp bounds are
// integers; every code lo + zp .. hi + zp lies in [qmin, qmax] within the 8-bit type, so lo, hi
// and zp fit int16 when these do.
constexpr int32_t kRegisterZeroPointLimit = 256;
constexpr int32_t kRegisterBoundLimit = 16384;

// register_codes of channel c from the plan's RegisterLoop (`type` its output type).
bool register_codes_from(const RequantizePlan::RegisterLoop& loop, OutType type, size_t c, RegisterCodes* rq) {
  const int32_t zp = loop.zero_point[c];
  if (zp < -kRegisterZeroPointLimit || zp > kRegisterZeroPointLimit) return false;
  *rq = RegisterCodes{};
  rq->codes_signed = type == OutType::kInt8;
  rq->zp = zp;
  if (loop.form == RequantizePlan::RegisterForm::kDoubleRound) {
    if (loop.lo32[c] < -kRegisterBoundLimit || loop.hi32[c] > kRegisterBoundLimit) return false;
    rq->double_round = true;
    rq->multiplier = loop.multiplier[c], rq->shift = loop.shift[c], rq->ilo = loop.lo32[c], rq->ihi = loop.hi32[c];
    return true;
  }
  const float lim = kRegisterBoundLimit;
  if (!(loop.lo[c] >= -lim && loop.hi[c] <= lim)) return false;
  rq->has_add = !(loop.add[c] == 0.0f && !std::signbit(loop.add[c]));  // + (+0.0f) changes no code
  rq->scale = loop.scale[c], rq->add = loop.add[c], rq->lo = loop.lo[c], rq->hi = loop.hi[c];
  return true;
}

// register_codes_from's conditions on each of the first `channels` channels of the loop, without
// building their RegisterCodes: branch-free loops the compiler vectorizes (960 channels of
// register_codes_from each cost ~1 us of a ~20 us 7 x 7 depthwise call). *has_add: some channel
// adds a float (any has_add).
bool register_codes_hold(const RequantizePlan::RegisterLoop& loop, int64_t channels, bool* has_add) {
  int bad = 0, add = 0;  // int reductions (GCC vectorizes them, not bool ones)
  const int32_t zp_lim = kRegisterZeroPointLimit, bound = kRegisterBoundLimit;
  for (int64_t c = 0; c < channels; ++c) bad |= (loop.zero_point[c] < -zp_lim) | (loop.zero_point[c] > zp_lim);
  if (loop.form == RequantizePlan::RegisterForm::kDoubleRound) {
    for (int64_t c = 0; c < channels; ++c) bad |= (loop.lo32[c] < -bound) | (loop.hi32[c] > bound);
  } else {
    const float lim = kRegisterBoundLimit;
    for (int64_t c = 0; c < channels; ++c) bad |= !(loop.lo[c] >= -lim) | !(loop.hi[c] <= lim);
    for (int64_t c = 0; c < channels; ++c) {  // + (+0.0f) changes no code: its bits are all 0
      uint32_t bits;
      std::memcpy(&bits, loop.add + c, sizeof bits);
      add |= bits != 0;
    }
  }
  *has_add = add != 0;
  return bad == 0;
}

// The plan's RegisterLoop when the sink's requantization can run in registers at all: one of its
// register forms on int32 accumulators, no offset, 8-bit codes.
bool register_loop(const RequantizeSink& sink, RequantizePlan::RegisterLoop* loop) {
  const OutType type = sink.plan->out_type();
  return sink.acc_offset == nullptr && !sink.plan->acc64() && (type == OutType::kInt8 || type == OutType::kUInt8) &&
         sink.plan->register_loop(loop);
}

bool register_codes(const RequantizeSink& sink, int64_t oc, RegisterCodes* rq) {
  RequantizePlan::RegisterLoop loop{};
  if (!register_loop(sink, &loop)) return false;
  const size_t c = static_cast<size_t>(sink.plan->channels() == 1 ? 0 : oc);
  return register_codes_from(loop, sink.plan->out_type(), c, rq);
}

// Where the register-blocked depthwise loop can put channel oc's outputs itself (flat: its first
// output index), with the bias folded into the start value: an int32 accumulator array takes
// the sums as they are (finish_wrapped_row at 32 bits with a 0 bias copies them); a
// RequantizeSink, the codes when register_codes allows. false: the sums go through the sink.
bool fast_output(const AccumulatorSink<int32_t>& sink, int64_t, int64_t flat, DepthwiseFastOut* o) {
  if (sink.bits != 32) return false;
  *o = DepthwiseFastOut{};
  o->sums = reinterpret_cast<uint32_t*>(sink.out + flat);  // int32 may alias uint32
  return true;
}
bool fast_output(const AccumulatorSink<int64_t>&, int64_t, int64_t, DepthwiseFastOut*) { return false; }
bool fast_output(const RequantizeSink& sink, int64_t oc, int64_t flat, DepthwiseFastOut* o) {
  *o = DepthwiseFastOut{};
  o->codes = sink.out + flat;  // out_bytes == 1 when register_codes holds
  return register_codes(sink, oc, &o->rq);
}

// The 8-bit code array of a RequantizeSink (all_register_codes held), null for the other sinks.
template <class Sink>
char* direct_codes(const Sink&) {
  return nullptr;
}
inline char* direct_codes(const RequantizeSink& sink) { return sink.out; }

// The int32 output array of an AccumulatorSink<int32_t> at 32 bits, which takes the sums as they
// are once the bias is folded into the start value (fast_output); null for the other sinks.
template <class Sink>
uint32_t* direct_sums(const Sink&) {
  return nullptr;
}
inline uint32_t* direct_sums(const AccumulatorSink<int32_t>& sink) {
  return sink.bits == 32 ? reinterpret_cast<uint32_t*>(sink.out) : nullptr;  // int32 may alias uint32
}

// Every output channel's RegisterCodes when the sink is a RequantizeSink that allows them all.
template <class Sink>
bool all_register_codes(const Sink&, int64_t, std::vector<RegisterCodes>*) {
  return false;
}
bool all_register_codes(const RequantizeSink& sink, int64_t c_out, std::vector<RegisterCodes>* rq) {
  RequantizePlan::RegisterLoop loop{};  // read once, not once per channel
  if (!register_loop(sink, &loop)) return false;
  const bool per_channel = sink.plan->channels() != 1;
  rq->resize(static_cast<size_t>(c_out));
  for (int64_t oc = 0; oc < c_out; ++oc) {
    if (!register_codes_from(loop, sink.plan->out_type(), per_channel ? static_cast<size_t>(oc) : 0, &(*rq)[oc])) {
      return false;
    }
  }
  return true;
}

// Narrow planes (MobileNetV2's 7 x 7 and 14 x 14, EfficientNet's 28 x 28 at 5 x 5) go channels
// side by side (depthwise_u8s8_channels), at stride 1 and 2: 64 / lane output columns of the
// register-blocked loop per channel, where one channel's plane leaves most of them empty, and
// each channel's fixed costs (filling, requantization setup, the loop's start) are paid once per
// plane rather than once per channel. (It replaced PackedRows, one channel's output rows side by
// side, which the avx2 table kept until it had this loop too: avx2, 1 thread, fused per-channel
// fp32 codes, us, PackedRows or the plane / channels: dw 960 @7 109 / 42, dw 576 @14 113 / 59,
// dw 192 @28 83 / 57, dw5x5 672 @14 308 / 175, stride 2 dw 576 14 -> 7 86 / 34.) Channel k's
// padded input columns start at byte stride * lane * k: a neighbour's left padding may lie on this
// one's right padding (both the zero point), so stride * lane >= wp - min(pad_left, pad_right) and
// lane >= OW (the data of channel k stays within [stride * lane * k + pad_left, stride * lane * (k
// + 1))).
struct PackedChannels {
  int64_t lane = 0;  // output columns per channel; 0: not packed
  int64_t per_plane = 0, plane_rows = 0;
  DepthwiseChannelsGeometry g{};
};

PackedChannels packed_channels(const DirectConvTable& k, const Conv2DParams& p, const Conv2DShape& s, int64_t oh,
                               int64_t ow, int64_t groups) {
  PackedChannels pc;
  if (k.depthwise_u8s8_channels == nullptr || k.fill_channel_rows == nullptr) return pc;
  const DepthwiseU8S8FastFn loop = depthwise_fast_loop(k, p, s, oh, groups);
  if (loop == nullptr) return pc;
  const int64_t stride = loop == k.depthwise_u8s8_fast ? 1 : 2;  // else depthwise_u8s8_fast_s2
  const int64_t wp = s.w + p.pad_left + p.pad_right;
  const int64_t need = wp - std::min(p.pad_left, p.pad_right);
  // (at stride 2 not 32: 2 channels of 28 columns ran slower than the stride-2 loop's 32-column
  // blocks of 8 rows, 144 channels 56 -> 28 31 -> 41 us)
  for (int64_t lane : {8, 16, 32}) {
    if (ow <= lane && need <= stride * lane && stride * lane <= 32) {  // 32 input bytes per channel
      pc.lane = lane;
      break;
    }
  }
  if (pc.lane == 0) return pc;
  pc.per_plane = kDepthwisePackedColumns / pc.lane;
  pc.plane_rows = s.h + p.pad_top + p.pad_bottom;
  // the loop's row reads (direct_conv_kernels.h) and the last channel's padded row
  const int64_t row_len = std::max(64 * stride + 12 + 4 * groups * p.dilation_w + 64,
                                   stride * pc.lane * (pc.per_plane - 1) + wp);
  if (pc.plane_rows * row_len > kMaxBuffer) return PackedChannels{};
  pc.g = DepthwiseChannelsGeometry{row_len, oh, ow, stride, pc.lane, pc.per_plane, p.dilation_w, s.kh, groups};
  return pc;
}

// Every output channel's RegisterCodes (register_codes' conditions, the plan's RegisterLoop read
// once) as the arrays of ChannelCodes: the plan's own per-channel arrays, or per tensor its values
// repeated for one plane's channels, the same arrays for every plane (channel_codes: false when
// some channel's codes cannot be made in registers).
struct ChannelCodesArrays {
  static constexpr size_t kCopies = kDepthwisePackedColumns / 8;  // the most channels of a plane
  float scale[kCopies], add[kCopies], lo[kCopies], hi[kCopies];
  int32_t multiplier[kCopies], shift[kCopies], ilo[kCopies], ihi[kCopies], zp[kCopies];
  bool per_channel = false;
  ChannelCodes first{};  // the flags; the arrays from channel 0 (per tensor: this object's)
  ChannelCodesArrays() = default;
  ChannelCodesArrays(const ChannelCodesArrays&) = delete;  // `first` may point into it
  ChannelCodesArrays& operator=(const ChannelCodesArrays&) = delete;
  ChannelCodes from(int64_t oc0) const {
    if (!per_channel) return first;
    ChannelCodes c = first;
    c.scale += oc0, c.add += oc0, c.lo += oc0, c.hi += oc0;
    c.multiplier += oc0, c.shift += oc0, c.ilo += oc0, c.ihi += oc0, c.zp += oc0;
    return c;
  }
};

template <class Sink>
bool channel_codes(const Sink&, int64_t, ChannelCodesArrays*) {
  return false;
}
bool channel_codes(const RequantizeSink& sink, int64_t c_out, ChannelCodesArrays* a) {
  RequantizePlan::RegisterLoop loop{};
  if (!register_loop(sink, &loop)) return false;
  a->per_channel = sink.plan->channels() != 1;
  RegisterCodes k{};  // channel 0's: the flags, and per tensor the values
  bool has_add = false;
  if (!register_codes_from(loop, sink.plan->out_type(), 0, &k) ||
      !register_codes_hold(loop, a->per_channel ? c_out : 1, &has_add)) {
    return false;
  }
  if (a->per_channel) {  // the plan's own arrays (only the form's are read)
    a->first = ChannelCodes{loop.scale, loop.add, loop.lo, loop.hi, loop.multiplier, loop.shift, loop.lo32,
                            loop.hi32, loop.zero_point, k.codes_signed, k.double_round, has_add};
    return true;
  }
  for (size_t i = 0; i < ChannelCodesArrays::kCopies; ++i) {  // per tensor: channel 0's values for each
    a->scale[i] = k.scale, a->add[i] = k.add, a->lo[i] = k.lo, a->hi[i] = k.hi;
    a->multiplier[i] = k.multiplier, a->shift[i] = k.shift, a->ilo[i] = k.ilo, a->ihi[i] = k.ihi, a->zp[i] = k.zp;
  }
  a->first = ChannelCodes{a->scale, a->add, a->lo, a->hi, a->multiplier, a->shift, a->ilo, a->ihi, a->zp,
                          k.codes_signed, k.double_round, has_add};
  return true;
}

// Depthwise through the u8 x s8 dot product (DepthwiseU8S8Fn) when every corrected weight
// w - w_zp is an int8 value (symmetric int8 weights, or uint8 with zero point 128): the raw
// activation codes as u8 (int8 codes + 128, with the zero point), padding = the zero point, and
//   sum (x - x_zp) * (w - w_zp) = sum x * (w - w_zp) - x_zp * sum (w - w_zp)   (mod 2^32)
// over every tap (padding included: it holds x_zp), the second term folded into the start value.
// Returns false (nothing done) when the layer does not qualify.
// On avx512bw (no VNNI) the u8 x s8 loops run vpdpbusd's exact emulation (dot4_avx512.h) and
// were measured faster than the int16 pair loops (direct_conv_u32 / direct_conv_paired_u32) on
// every layer they take, so both variants prefer them. 1 thread, fp32 codes, GMAC/s, emulated /
// int16 pairs: dw 3x3 144ch @56 s1 29 / 13, 32ch @112 s1 30 / 15, 144ch s2 12 / 2.6, 96ch @112
// s2 13 / 4.2, 5x5 72ch s2 17 / 6.5, 5x5 s1 35 / 25, 7x7 64ch @28 30 / 29, 3x3 dilation 2 16 /
// 13; first conv 3->32 s2 @224 58 / 43, 3->16 s1 53 / 45, 8->32 s1 @56 47 / 39.
// On avx2 (direct_conv_kernels_avx2.cc) the same order held, and both beat the generic GEMM path
// those layers took before the avx2 table existed. 1 thread, fp32 codes, GMAC/s, emulated / int16
// pairs (uint8 weights, zero point 100) / GEMM, load 1.1-1.9 (one core busy): dw 3x3 144ch @56 s1
// 23 / 12.8 / 4.5, 32ch @112 s1 24 / 14 / 5.2, 144ch s2 14 / 2.3 / 0.9, 96ch @112 s2 16 / 2.6 /
// 1.3, 5x5 72ch s2 17 / 5.9 / 2.3; 3x3 dilation 2 (int16 pairs on avx2: no general u8 x s8 loop)
// 12.8 against 4.4; first conv 3->32 s2 @224 46 / 29 / 23.
template <typename X, typename W, class Sink>
bool depthwise_u8s8(const DirectConvTable& kernels, const Conv2DParams& p, const Conv2DShape& s, int64_t oh,
                    int64_t ow, const X* x, int32_t x_zp, const W* w, int64_t wzc, const int32_t* w_zp,
                    const PackedConvWeights* packed, const int64_t* bias, const Sink& sink,
                    int64_t* first_rejected) {
  if (p.stride_w + p.dilation_w > 5) return false;
  if ((kDepthwiseU8S8Rows - 1) * p.stride_h + (s.kh - 1) * p.dilation_h >= kDepthwiseU8S8Span) return false;
  const int64_t taps = s.kh * s.kw, groups = (s.kw + 3) / 4;
  const int64_t hp = s.h + p.pad_top + p.pad_bottom, wp = s.w + p.pad_left + p.pad_right;
  const DepthwiseU8S8FastFn fast = depthwise_fast_loop(kernels, p, s, oh, groups);
  // the avx2 table has the register-blocked loops only: other layers keep the int16 pairs
  if (fast == nullptr && kernels.depthwise_u8s8 == nullptr) return false;
  int64_t row_len = std::max(wp, (ow + 31) / 32 * 32 * p.stride_w + 4 * groups * p.dilation_w + 64);
  if (fast != nullptr && fast == kernels.depthwise_u8s8_fast_s2) {  // its row reads (direct_conv_kernels.h)
    row_len = std::max(row_len, 128 * ((ow + 63) / 64) + 8 + 4 * (groups - 1) * p.dilation_w);
  }
  if (hp * row_len > kMaxBuffer) return false;
  const int32_t shift = std::is_signed<X>::value ? 128 : 0;  // int8 code v is the u8 code v + 128
  const uint8_t zp = static_cast<uint8_t>(x_zp + shift);
  FilterRows local_rows;
  std::vector<uint32_t> init;
  const FilterRows* rows = int8_filter_rows_and_start(w, s, 1, wzc, w_zp, packed, zp, &local_rows, &init);
  if (rows == nullptr) return false;
  const int32_t* const wq = rows->words.data();
  const bool fold_bias = fold_bias_into(sink.bits, bias, &init);
  const DepthwiseU8Geometry g{row_len, oh, ow, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, s.kh, groups};
  const int64_t mult = s.c_out / s.c_in, outputs = oh * ow;
  const PackedChannels pc = packed_channels(kernels, p, s, oh, ow, groups);
  if (pc.lane != 0) {
    const int64_t per = pc.per_plane, planes = (s.c_out + per - 1) / per;
    // the codes or sums straight into the output when the bias is in the start value
    ChannelCodesArrays codes;
    uint32_t* const sums_out = fold_bias == (bias != nullptr) ? direct_sums(sink) : nullptr;
    const bool codes_out = fold_bias == (bias != nullptr) && channel_codes(sink, s.c_out, &codes);
    const int32_t* const w_by_channel = rows->words_by_channel.data();
    const ChannelCodes no_codes{};
    *first_rejected = parallel_tasks(s.n * planes, per * outputs * taps, [&](int64_t t0, int64_t t1) -> int64_t {
      std::vector<uint8_t> plane(static_cast<size_t>(pc.plane_rows * pc.g.row_len), zp);  // the padding stays x_zp
      std::vector<uint32_t> acc(static_cast<size_t>(sums_out == nullptr && !codes_out ? per * outputs : 0));
      int64_t first = -1;
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t n = t / planes, oc0 = t % planes * per, count = std::min(per, s.c_out - oc0);
        // slots past `count` keep the last plane's channels: computed, not stored
        const uint8_t* channels[kDepthwisePackedColumns / 8];
        for (int64_t k = 0, ic = oc0 / mult, m = oc0 % mult; k < count; ++k) {  // no division per channel
          channels[k] = reinterpret_cast<const uint8_t*>(x + (n * s.c_in + ic) * s.h * s.w);
          if (++m == mult) m = 0, ++ic;
        }
        kernels.fill_channel_rows(channels, count, s.h, s.w, pc.g.stride * pc.lane, p.pad_left,
                                  std::is_signed<X>::value ? 0x80 : 0, zp, plane.data() + p.pad_top * pc.g.row_len,
                                  pc.g.row_len);
        DepthwiseChannelsGeometry g = pc.g;
        g.channels = count;
        const int64_t flat0 = (n * s.c_out + oc0) * outputs;
        // (built whole, from no_codes: a ChannelCodes{} in the loop was zeroed by `rep stos`, ~1 us
        // of 120 planes)
        const DepthwiseChannelsOut o =
            codes_out ? DepthwiseChannelsOut{nullptr, direct_codes(sink) + flat0, codes.from(oc0), outputs}
                      : DepthwiseChannelsOut{sums_out != nullptr ? sums_out + flat0 : acc.data(), nullptr, no_codes,
                                             outputs};
        kernels.depthwise_u8s8_channels(plane.data(), g, w_by_channel + oc0, s.c_out, init.data() + oc0, o);
        if (codes_out || sums_out != nullptr) continue;
        for (int64_t k = 0; k < count; ++k) {
          const int64_t oc = oc0 + k;
          first = lower_bad(first, sink.wrapped(acc.data() + k * outputs, bias != nullptr && !fold_bias ? bias[oc] : 0,
                                                oc, flat0 + k * outputs, outputs));
        }
      }
      return first;
    });
    return true;
  }
  // every channel's RegisterCodes once per call when the sink allows them all (built per channel
  // by fast_output, they took ~2% of a 3x3 144 ch @56 call)
  std::vector<RegisterCodes> rq;
  const bool all_codes = fast != nullptr && fold_bias == (bias != nullptr) && all_register_codes(sink, s.c_out, &rq);
  *first_rejected = parallel_tasks(s.n * s.c_in, mult * outputs * taps, [&](int64_t t0, int64_t t1) -> int64_t {
    std::vector<uint8_t> plane(static_cast<size_t>(hp * row_len), zp);  // the padding stays x_zp
    std::vector<uint32_t> acc(static_cast<size_t>(mult * outputs));
    int64_t first = -1;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n = t / s.c_in, ic = t % s.c_in;
      copy_u8_plane(kernels, p, s, row_len, x + t * s.h * s.w, plane.data());
      for (int64_t m = 0; m < mult; ++m) {
        const int64_t oc = ic * mult + m, flat = (n * s.c_out + oc) * outputs;
        const int32_t* filter = wq + oc * s.kh * groups;
        uint32_t* sums = acc.data() + m * outputs;
        if (all_codes) {
          fast(plane.data(), g, filter, init[oc], DepthwiseFastOut{nullptr, direct_codes(sink) + flat, rq[oc]});
          continue;
        }
        DepthwiseFastOut direct;
        if (fast != nullptr && fold_bias == (bias != nullptr) && fast_output(sink, oc, flat, &direct)) {
          fast(plane.data(), g, filter, init[oc], direct);  // nothing rejected
          continue;
        }
        if (fast != nullptr) {
          fast(plane.data(), g, filter, init[oc], DepthwiseFastOut{sums, nullptr, RegisterCodes{}});
        } else {
          kernels.depthwise_u8s8(plane.data(), g, filter, init[oc], sums);
        }
        first = lower_bad(first, sink.wrapped(sums, bias != nullptr && !fold_bias ? bias[oc] : 0, oc, flat, outputs));
      }
    }
    return first;
  });
  return true;
}

// The small-depth conv through the u8 x s8 dot product under the same condition as
// depthwise_u8s8 (every w - w_zp an int8 value; stride_w + dilation_w <= 5): raw u8 planes of the
// batch, bands of output rows as small_depth_conv2d_wrap8. Returns false when the layer does not
// qualify.
template <typename X, typename W, class Sink>
bool small_depth_u8s8(const DirectConvTable& kernels, const Conv2DParams& p, const Conv2DShape& s, int64_t oh,
                      int64_t ow, const X* x, int32_t x_zp, const W* w, int64_t wzc, const int32_t* w_zp,
                      const PackedConvWeights* packed, const int64_t* bias, const Sink& sink,
                      int64_t* first_rejected) {
  const int64_t groups = (s.kw + 3) / 4;
  if (kernels.small_depth_u8s8 == nullptr || p.stride_w + p.dilation_w > 5 ||
      s.c_in * s.kh * groups > kSmallDepthTaps4) {
    return false;
  }
  const int64_t hp = s.h + p.pad_top + p.pad_bottom, wp = s.w + p.pad_left + p.pad_right;
  const int64_t row_len = std::max(wp, (ow + 31) / 32 * 32 * p.stride_w + 4 * groups * p.dilation_w + 64);
  if (s.n * s.c_in * hp * row_len > kMaxBuffer) return false;
  const int32_t shift = std::is_signed<X>::value ? 128 : 0;  // int8 code v is the u8 code v + 128
  const uint8_t zp = static_cast<uint8_t>(x_zp + shift);
  FilterRows local_rows;
  std::vector<uint32_t> init;
  const FilterRows* rows = int8_filter_rows_and_start(w, s, s.c_in, wzc, w_zp, packed, zp, &local_rows, &init);
  if (rows == nullptr) return false;
  const int32_t* const wq = rows->words.data();
  const bool fold_bias = fold_bias_into(sink.bits, bias, &init);
  const int64_t depth = s.c_in * s.kh * s.kw;
  // Bands of output rows: as few as give each thread the same number, of at most ~4096 outputs
  // per channel. Each band's call sets up its slot weights and controls again: with bands of
  // ~1024 outputs (13 of 9 rows) MobileNetV2's first conv took 39.6-39.7 us on one thread, with
  // 4 bands of 28 rows 38.1-38.4; 4 bands of 36, 36, 36 and 4 rows cost 2 threads ~1.5 us.
  const int64_t threads = kernel_threads(), most = std::max<int64_t>(1, std::min<int64_t>(oh, 4096 / ow));
  const int64_t even = std::min(oh, ((oh + most - 1) / most + threads - 1) / threads * threads);
  const int64_t band = (oh + even - 1) / even;
  const int64_t bands = (oh + band - 1) / band;
  // Each task fills the padded rows its band of output rows reads, of every channel, into its
  // own thread's buffer (the padding x_zp) and runs the kernel on them as rows 0..: output row
  // oy0 + r reads padded row oy0 * stride_h + (r * stride_h + ky * dilation_h). Filled by the
  // tasks that read them, the rows stay in the core that computes with them; with the planes of
  // the whole input filled first (split over channels), MobileNetV2's first conv ran its bands
  // ~70% slower on 2 threads than on 1 (each band read rows another core had written).
  auto band_rows = [&](int64_t rows) { return (rows - 1) * p.stride_h + (s.kh - 1) * p.dilation_h + 1; };
  const int64_t band_plane = band_rows(band) * row_len;
  const SmallDepthU8Geometry g{row_len, band_plane, ow, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w,
                               s.c_in, s.kh, groups, s.c_out};
  // the planes of image n's padded rows [oy0 * stride_h, + band_rows(oy1 - oy0)), in the thread's
  // buffer. `whole`: the task's first band, the buffer set to x_zp first; a later band of the
  // task finds the padding columns of every row still x_zp (the rows' input bytes go to the same
  // columns) and sets only its padding rows (memset of the whole band each time: ~1 us of a
  // first conv 3 -> 32 s2 @224's 41).
  auto fill_band = [&](int64_t n, int64_t oy0, int64_t oy1, bool whole) {
    uint8_t* const local = static_cast<uint8_t*>(thread_scratch(ScratchSlot::kTaskPacked, s.c_in * band_plane));
    const int64_t r0 = oy0 * p.stride_h, rows = band_rows(oy1 - oy0);
    if (whole) std::memset(local, zp, static_cast<size_t>(s.c_in * band_plane));
    // the band's rows above and below the input's: [0, top) and [bottom, rows)
    const int64_t top = std::clamp<int64_t>(p.pad_top - r0, 0, rows);
    const int64_t bottom = std::clamp<int64_t>(p.pad_top + s.h - r0, top, rows);
    for (int64_t ic = 0; ic < s.c_in; ++ic) {
      uint8_t* const plane = local + ic * band_plane;
      if (!whole) {
        std::memset(plane, zp, static_cast<size_t>(top * row_len));
        std::memset(plane + bottom * row_len, zp, static_cast<size_t>((rows - bottom) * row_len));
      }
      copy_padded_rows(kernels, p, s, x + (n * s.c_in + ic) * s.h * s.w, r0, rows, plane, row_len);
    }
    return local;
  };
  const int64_t band_work = s.c_out * band * ow * depth;
  std::vector<RegisterCodes> rq;
  if (kernels.small_depth_u8s8_codes != nullptr && fold_bias == (bias != nullptr) && all_register_codes(sink, s.c_out, &rq)) {
    // each band's codes straight from the registers (nothing rejected: the register forms take every int32)
    uint8_t* codes = reinterpret_cast<uint8_t*>(direct_codes(sink));
    const SmallDepthRequant plan = small_depth_requant(rq.data(), s.c_out);
    parallel_tasks(s.n * bands, band_work, [&](int64_t t0, int64_t t1) -> int64_t {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t n = t / bands, oy0 = t % bands * band, oy1 = std::min(oh, oy0 + band);
        kernels.small_depth_u8s8_codes(fill_band(n, oy0, oy1, t == t0), g, wq, init.data(), 0, oy1 - oy0, plan,
                                       codes + (n * s.c_out * oh + oy0) * ow, oh * ow);
      }
      return -1;
    });
    *first_rejected = -1;
    return true;
  }
  if (uint32_t* sums = direct_sums(sink); sums != nullptr && fold_bias == (bias != nullptr)) {
    // each band's sums straight into the int32 output (no band buffer, no sink pass)
    parallel_tasks(s.n * bands, band_work, [&](int64_t t0, int64_t t1) -> int64_t {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t n = t / bands, oy0 = t % bands * band, oy1 = std::min(oh, oy0 + band);
        kernels.small_depth_u8s8(fill_band(n, oy0, oy1, t == t0), g, wq, init.data(), 0, oy1 - oy0,
                                 sums + (n * s.c_out * oh + oy0) * ow, oh * ow);
      }
      return -1;
    });
    *first_rejected = -1;
    return true;
  }
  *first_rejected = parallel_tasks(s.n * bands, band_work, [&](int64_t t0, int64_t t1) -> int64_t {
    std::vector<uint32_t> acc(static_cast<size_t>(s.c_out * band * ow));
    int64_t first = -1;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n = t / bands, oy0 = t % bands * band, oy1 = std::min(oh, oy0 + band);
      const int64_t count = (oy1 - oy0) * ow;
      kernels.small_depth_u8s8(fill_band(n, oy0, oy1, t == t0), g, wq, init.data(), 0, oy1 - oy0, acc.data(), count);
      for (int64_t oc = 0; oc < s.c_out; ++oc) {
        first = lower_bad(first, sink.wrapped(acc.data() + oc * count, bias != nullptr && !fold_bias ? bias[oc] : 0, oc,
                                              ((n * s.c_out + oc) * oh + oy0) * ow, count));
      }
    }
    return first;
  });
  return true;
}

}  // namespace

bool depthwise_conv2d_applies(const Conv2DParams& p, const Conv2DShape& s, int64_t oh, int64_t ow) {
  if (p.groups != s.c_in || active_direct_conv_kernels() == nullptr) return false;
  // One input channel with a multiplier is a conv of one input channel: the small-depth kernel
  // (windows built once for every output channel) or the GEMM take it faster than a plane per
  // output channel (VNNI, 1 thread, us, depthwise / small-depth or GEMM: 1 -> 32 3x3 @112 51 / 45,
  // 1 -> 32 3x3 s2 @224 57 / 46, 1 -> 8 3x3 @28 7.8 / 7.2, a keyword-spotting 1 -> 64 10x4 s2 on
  // 49 x 10 30 / 20 and at stride 1 40 / 36; 1 -> 16 5x5 @64 16.6 / 17.3).
  if (s.c_in == 1 && s.c_out > 1) return false;
  const double multiplier = double(s.c_out / s.c_in);
  return buffers_fit(p, s, ow, multiplier * double(oh) * double(ow), 2.0);  // the interleaved plane: 2 x int16
}

bool small_depth_conv2d_applies(const Conv2DParams& p, const Conv2DShape& s, int64_t oh, int64_t ow) {
  (void)oh;
  if (p.groups != 1 || s.c_in * s.kh * s.kw > kSmallConvDepth) return false;  // each < 2^31: no overflow
  // A pointwise conv is a plain GEMM over the pixels: the tiled GEMM path (conv2d.cc conv_dot4)
  // ran MobileNetV2's small-C_in 1x1 layers 2.5-3.6x faster than this kernel (VNNI, 1 thread,
  // GMAC/s, small-depth / GEMM: 24 -> 144 @56 34 / 110, 16 -> 96 @112 36 / 89, 32 -> 192 @28
  // 31 / 113, 8 -> 48 @56 24 / 48, 16 -> 16 stride 2 @56 15 / 32; avx512bw 21 / 60, 22 / 52,
  // 22 / 61, 16 / 34, 12 / 20; avx2 19 / 36, 19 / 27, 18 / 41, 14 / 16, and only the strided
  // 16 -> 16 slower, 10 / 8), while the 3x3 and 5x5 layers of a small depth were as fast or
  // faster here (VNNI 3 -> 32 stride 2 @224 85 / 63).
  if (s.kh == 1 && s.kw == 1) return false;
  if (active_direct_conv_kernels() == nullptr) return false;
  // a band holds at most ow + 1024 outputs per channel
  return buffers_fit(p, s, ow, double(s.c_out) * (double(ow) + 1024.0), double(s.n) * double(s.c_in));
}

// Tasks are input channels (n, ic): each fills its interleaved plane once (fill_paired) and
// computes the depth multiplier's output channels ic * M + m from it, the whole plane
// at once, then one sink call per channel.
template <typename X, typename W, class Sink>
int64_t depthwise_conv2d_wrap8(const Conv2DParams& p, const Conv2DShape& s, int64_t oh, int64_t ow, const X* x,
                               int32_t x_zp, const W* w, int64_t wzc, const int32_t* w_zp,
                               const PackedConvWeights* packed, const int64_t* bias, const Sink& sink) {
  const DirectConvTable& kernels = *active_direct_conv_kernels();  // non-null: *_applies
  int64_t rejected = -1;
  if (depthwise_u8s8(kernels, p, s, oh, ow, x, x_zp, w, wzc, w_zp, packed, bias, sink, &rejected)) return rejected;
  const PlaneLayout lay = plane_layout(p, s, ow);
  const int64_t pairs = (s.kh + 1) / 2 * s.kw;
  const int64_t below = s.kh > 1 ? p.dilation_h : 0;  // rows; KH == 1: the partner's weight is 0
  const int64_t mult = s.c_out / s.c_in, outputs = oh * ow;
  const std::vector<int32_t> wp = vertical_weight_pairs(w, s, wzc, w_zp);
  const std::vector<int64_t> koff = vertical_pair_offsets(p, s, lay);
  const Runs runs = output_runs(p, lay, ow, 0, oh);
  const int64_t units = static_cast<int64_t>(runs.src.size());
  const DirectConvPairsFn conv = kernels.direct_conv_paired_u32;
  const std::vector<PhaseRun> phases = phase_runs(p, s, lay);
  return parallel_tasks(s.n * s.c_in, mult * outputs * s.kh * s.kw, [&](int64_t t0, int64_t t1) -> int64_t {
    std::vector<int32_t> paired(static_cast<size_t>(lay.plane), 0);  // the padding stays 0
    std::vector<uint32_t> acc(static_cast<size_t>(mult * outputs));
    int64_t first = -1;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n = t / s.c_in, ic = t % s.c_in;
      fill_paired(kernels, p, s, lay, phases, below, x + t * s.h * s.w, x_zp, paired.data());
      conv(wp.data() + ic * mult * pairs, pairs, mult, paired.data(), koff.data(), runs.src.data(), runs.dst.data(),
           runs.width.data(), units, acc.data(), outputs);
      for (int64_t m = 0; m < mult; ++m) {
        const int64_t oc = ic * mult + m;
        first = lower_bad(first, sink.wrapped(acc.data() + m * outputs, bias != nullptr ? bias[oc] : 0, oc,
                                              (n * s.c_out + oc) * outputs, outputs));
      }
    }
    return first;
  });
}

// The planes of the whole batch are filled first (split over channels); then tasks are bands of
// output rows of one image, each computing every output channel of the band and handing each
// channel's band (consecutive outputs) to the sink in one call.
template <typename X, typename W, class Sink>
int64_t small_depth_conv2d_wrap8(const Conv2DParams& p, const Conv2DShape& s, int64_t oh, int64_t ow, const X* x,
                                 int32_t x_zp, const W* w, int64_t wzc, const int32_t* w_zp,
                                 const PackedConvWeights* packed, const int64_t* bias, const Sink& sink) {
  const DirectConvTable& kernels = *active_direct_conv_kernels();  // non-null: *_applies
  int64_t rejected = -1;
  if (small_depth_u8s8(kernels, p, s, oh, ow, x, x_zp, w, wzc, w_zp, packed, bias, sink, &rejected)) return rejected;
  const PlaneLayout lay = plane_layout(p, s, ow);
  const int64_t depth = s.c_in * s.kh * s.kw, pairs = (depth + 1) / 2;
  const std::vector<int32_t> wp = weight_pairs(w, s.c_out, depth, wzc, w_zp);
  const std::vector<int64_t> koff = tap_offsets(p, s, lay, s.c_in);
  const std::vector<PhaseRun> phases = phase_runs(p, s, lay);
  std::vector<int16_t> planes(static_cast<size_t>(s.n * s.c_in * lay.plane), 0);
  parallel_tasks(s.n * s.c_in, lay.plane, [&](int64_t c0, int64_t c1) -> int64_t {
    for (int64_t nc = c0; nc < c1; ++nc) fill_plane(kernels, p, s, lay, phases, x + nc * s.h * s.w, x_zp, planes.data() + nc * lay.plane);
    return -1;
  });
  // about 1024 outputs per channel per band: one requantization tile, a few L2-sized buffers
  const int64_t band = std::max<int64_t>(1, std::min<int64_t>(oh, 1024 / ow));
  const int64_t bands = (oh + band - 1) / band;
  const DirectConvFn conv = kernels.direct_conv_u32;
  return parallel_tasks(s.n * bands, s.c_out * band * ow * depth, [&](int64_t t0, int64_t t1) -> int64_t {
    std::vector<uint32_t> acc(static_cast<size_t>(s.c_out * band * ow));
    int64_t first = -1;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n = t / bands, oy0 = t % bands * band, oy1 = std::min(oh, oy0 + band);
      const Runs runs = output_runs(p, lay, ow, oy0, oy1);
      const int64_t count = (oy1 - oy0) * ow;
      conv(wp.data(), pairs, s.c_out, planes.data() + n * s.c_in * lay.plane, koff.data(), runs.src.data(),
           runs.dst.data(), runs.width.data(), static_cast<int64_t>(runs.src.size()), acc.data(), count);
      for (int64_t oc = 0; oc < s.c_out; ++oc) {
        first = lower_bad(first, sink.wrapped(acc.data() + oc * count, bias != nullptr ? bias[oc] : 0, oc,
                                              ((n * s.c_out + oc) * oh + oy0) * ow, count));
      }
    }
    return first;
  });
}

#define FXSIM_DIRECT_CONV_INSTANTIATE(X, W, SINK)                                                                   \
  template int64_t depthwise_conv2d_wrap8<X, W, SINK>(const Conv2DParams&, const Conv2DShape&, int64_t, int64_t, \
                                                      const X*, int32_t, const W*, int64_t, const int32_t*,       \
                                                      const PackedConvWeights*, const int64_t*, const SINK&);    \
  template int64_t small_depth_conv2d_wrap8<X, W, SINK>(const Conv2DParams&, const Conv2DShape&, int64_t,        \
                                                        int64_t, const X*, int32_t, const W*, int64_t,            \
                                                        const int32_t*, const PackedConvWeights*, const int64_t*, \
                                                        const SINK&);
#define FXSIM_DIRECT_CONV_INSTANTIATE_SINKS(X, W)                  \
  FXSIM_DIRECT_CONV_INSTANTIATE(X, W, AccumulatorSink<int32_t>) \
  FXSIM_DIRECT_CONV_INSTANTIATE(X, W, AccumulatorSink<int64_t>) \
  FXSIM_DIRECT_CONV_INSTANTIATE(X, W, RequantizeSink)
FXSIM_DIRECT_CONV_INSTANTIATE_SINKS(uint8_t, int8_t)
FXSIM_DIRECT_CONV_INSTANTIATE_SINKS(uint8_t, uint8_t)
FXSIM_DIRECT_CONV_INSTANTIATE_SINKS(int8_t, int8_t)
FXSIM_DIRECT_CONV_INSTANTIATE_SINKS(int8_t, uint8_t)

bool epilogue_clamps_in_codes(const Dot4Epilogue& e, int64_t channels, bool* has_add) {
  *has_add = true;
  if (e.out_bytes != 1 || e.scale == nullptr || e.multiplier != nullptr) return false;
  RequantizePlan::RegisterLoop loop{};
  loop.form = RequantizePlan::RegisterForm::kFp32HalfEven;
  loop.scale = e.scale, loop.add = e.add, loop.lo = e.lo, loop.hi = e.hi, loop.zero_point = e.zp;
  const int64_t n = e.per_channel ? channels : 1;
  if (!register_codes_hold(loop, n, has_add)) return false;
  int bad = 0;  // an int reduction (vectorized)
  for (int64_t c = 0; c < n; ++c) bad |= !fp32_clamp_in_codes(e.scale[c], e.add[c]);
  return bad == 0;
}

}  // namespace fxsim
