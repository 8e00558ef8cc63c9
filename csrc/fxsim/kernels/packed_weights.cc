// pack_conv_weights / pack_matmul_weights (packed_weights.h).
#include "fxsim/kernels/packed_weights.h"

#include <algorithm>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>

#include "fxsim/fixedpoint/intn.h"
#include "fxsim/kernels/accumulate_entry.h"
#include "fxsim/kernels/gemm_kernels.h"

namespace fxsim {

namespace {

// A code in the packed (s8) domain: itself for int8, minus 128 for uint8.
template <typename W>
inline int32_t packed_value(W v) {
  return std::is_signed<W>::value ? static_cast<int32_t>(v) : static_cast<int32_t>(v) - 128;
}

inline uint32_t byte_at(int32_t s8, int i) { return (static_cast<uint32_t>(s8) & 0xFFu) << (8 * i); }

template <typename W>
PackedOffsets offsets_of(const char* kernel, int64_t channels, int64_t zp_count, const int32_t* zp) {
  check_zero_point_count(kernel, zp_count, channels);
  for (int64_t i = 0; i < zp_count; ++i) check_zero_point_in<W>(kernel, "w_zero_point", zp[i]);
  PackedOffsets o;
  o.w_unsigned = !std::is_signed<W>::value;
  o.zero_point.assign(zp, zp + zp_count);
  o.sum.assign(static_cast<size_t>(channels), 0u);
  o.zp_packed.resize(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    o.zp_packed[c] = zp[zp_count == 1 ? 0 : c] - (o.w_unsigned ? 128 : 0);
    o.any_zp = o.any_zp || o.zp_packed[c] != 0;
  }
  return o;
}

// The pair words of `count` dot4 words (gemm_kernels.h Dot2Fn): word i's bytes (0, 1) and (2, 3)
// as int16 pairs, s8 bytes sign-extended; pair word h of word i goes to out[at(i, h)].
template <class At>
void split_pairs(const uint32_t* words, int64_t count, uint32_t* out, At at) {
  for (int64_t i = 0; i < count; ++i) {
    for (int h = 0; h < 2; ++h) {
      const int32_t lo = static_cast<int8_t>(static_cast<uint8_t>(words[i] >> (16 * h)));
      const int32_t hi = static_cast<int8_t>(static_cast<uint8_t>(words[i] >> (16 * h + 8)));
      out[at(i, h)] = (static_cast<uint32_t>(lo) & 0xFFFFu) | static_cast<uint32_t>(hi) << 16;
    }
  }
}

template <typename W>
std::vector<uint8_t> code_bytes(const W* w, int64_t count) {
  std::vector<uint8_t> out(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<uint8_t>(w[i]);  // modular: int8 -> its byte
  return out;
}

// Each dimension in [1, 2^31) and their product (the element count) below 2^40.
void check_dims(const char* kernel, std::initializer_list<std::pair<const char*, int64_t>> dims) {
  int64_t count = 1;
  for (const auto& d : dims) {
    check_positive(kernel, d.first, d.second);
    if (d.second >= (int64_t(1) << 31)) throw_invalid(kernel, std::string(d.first) + " is >= 2^31");
    count *= d.second;  // < 2^40 * 2^31: no overflow
    if (count >= (int64_t(1) << 40)) throw_invalid(kernel, "the weights have 2^40 or more elements");
  }
}

}  // namespace

template <typename W>
PackedConvWeights pack_conv_weights(const W* w, int64_t c_out, int64_t cig, int64_t kh, int64_t kw,
                                    int64_t w_zero_point_count, const int32_t* w_zero_point, bool keep_codes) {
  constexpr const char* kName = "PackedConvWeights";
  check_dims(kName, {{"C_out", c_out}, {"C_in / groups", cig}, {"KH", kh}, {"KW", kw}});
  PackedConvWeights p;
  p.c_out = c_out, p.cig = cig, p.kh = kh, p.kw = kw;
  p.cq = (cig + 3) / 4;
  p.groups4 = kh * kw * p.cq;
  p.offsets = offsets_of<W>(kName, c_out, w_zero_point_count, w_zero_point);
  if (keep_codes) p.codes = code_bytes(w, c_out * p.depth());
  p.words.assign(static_cast<size_t>(c_out * p.groups4), 0u);
  p.ones.assign(static_cast<size_t>(p.groups4), 0u);
  for (int64_t oc = 0; oc < c_out; ++oc) {
    uint32_t* row = p.words.data() + oc * p.groups4;
    uint32_t sum = 0;
    for (int64_t ic = 0; ic < cig; ++ic) {
      for (int64_t ky = 0; ky < kh; ++ky) {
        for (int64_t kx = 0; kx < kw; ++kx) {
          const int32_t v = packed_value(w[((oc * cig + ic) * kh + ky) * kw + kx]);
          row[(ky * kw + kx) * p.cq + ic / 4] |= byte_at(v, static_cast<int>(ic % 4));
          sum += static_cast<uint32_t>(v);
        }
      }
    }
    p.offsets.sum[oc] = sum;
  }
  for (int64_t ic = 0; ic < cig; ++ic) {
    for (int64_t t = 0; t < kh * kw; ++t) p.ones[t * p.cq + ic / 4] |= byte_at(1, static_cast<int>(ic % 4));
  }
  return p;
}

template <typename B>
PackedMatMulWeights pack_matmul_weights(const B* b, int64_t k, int64_t n, int64_t b_zero_point_count,
                                        const int32_t* b_zero_point, bool keep_codes) {
  constexpr const char* kName = "PackedMatMulWeights";
  check_dims(kName, {{"K", k}, {"N", n}});
  PackedMatMulWeights p;
  p.k = k, p.n = n;
  p.groups4 = (k + 3) / 4;
  p.tiles = (n + kDot4TileCols - 1) / kDot4TileCols;
  p.offsets = offsets_of<B>(kName, n, b_zero_point_count, b_zero_point);
  if (keep_codes) p.codes = code_bytes(b, k * n);
  p.words.assign(static_cast<size_t>(p.tiles * p.groups4 * kDot4TileCols), 0u);
  for (int64_t kk = 0; kk < k; ++kk) {
    const B* src = b + kk * n;
    for (int64_t j = 0; j < n; ++j) p.offsets.sum[j] += static_cast<uint32_t>(packed_value(src[j]));
  }
  // word j of (tile t, group g): the packed bytes of rows 4g..4g+3 (rows past K: 0) at column 64t + j,
  // interleaved by the active ISA's loop (a u8 code's packed byte is its byte ^ 0x80: v - 128)
  const Interleave4Fn interleave4 = active_gemm_kernels().interleave4;
  const std::vector<uint8_t> zero_row(static_cast<size_t>(std::min(kDot4TileCols, n)), 0);
  for (int64_t t = 0; t < p.tiles; ++t) {
    const int64_t j0 = t * kDot4TileCols, cols = std::min(kDot4TileCols, n - j0);
    for (int64_t g = 0; g < p.groups4; ++g) {
      const uint8_t* rows[4];
      uint32_t flip = 0;
      for (int i = 0; i < 4; ++i) {
        const bool real = 4 * g + i < k;
        rows[i] = real ? reinterpret_cast<const uint8_t*>(b + (4 * g + i) * n + j0) : zero_row.data();
        if (real && p.offsets.w_unsigned) flip |= 0x80u << (8 * i);
      }
      interleave4(rows[0], rows[1], rows[2], rows[3], cols, flip,
                  p.words.data() + (t * p.groups4 + g) * kDot4TileCols);
    }
  }
  return p;
}

template <typename W>
FilterRows int8_filter_rows(const W* w, int64_t c_out, int64_t cig, int64_t kh, int64_t kw,
                            int64_t w_zero_point_count, const int32_t* w_zero_point) {
  FilterRows f;
  const int64_t depth = cig * kh * kw, groups = (kw + 3) / 4;
  for (int64_t oc = 0; oc < c_out; ++oc) {
    const int32_t wz = w_zero_point[w_zero_point_count == 1 ? 0 : oc];
    for (int64_t k = 0; k < depth; ++k) {
      const int32_t v = static_cast<int32_t>(w[oc * depth + k]) - wz;
      if (v < -128 || v > 127) return f;
    }
  }
  f.fits = true;
  f.words.assign(static_cast<size_t>(c_out * cig * kh * groups), 0);
  f.sum.assign(static_cast<size_t>(c_out), 0);
  for (int64_t oc = 0; oc < c_out; ++oc) {
    const int32_t wz = w_zero_point[w_zero_point_count == 1 ? 0 : oc];
    int64_t sum = 0;
    for (int64_t row = 0; row < cig * kh; ++row) {  // row = ic * KH + ky
      for (int64_t q = 0; q < groups; ++q) {
        uint32_t packed = 0;
        for (int64_t b = 0; b < 4; ++b) {
          const int64_t kx = 4 * q + b;
          const int32_t v = kx < kw ? static_cast<int32_t>(w[oc * depth + row * kw + kx]) - wz : 0;
          sum += v;
          packed |= static_cast<uint32_t>(static_cast<uint8_t>(v)) << (8 * b);  // the int8 byte
        }
        f.words[static_cast<size_t>((oc * cig * kh + row) * groups + q)] = static_cast<int32_t>(packed);  // modular (gcc; C++20)
      }
    }
    f.sum[static_cast<size_t>(oc)] = sum;
  }
  const int64_t per_channel = cig * kh * groups;
  f.words_by_channel.resize(f.words.size());
  for (int64_t oc = 0; oc < c_out; ++oc) {
    for (int64_t i = 0; i < per_channel; ++i) {
      f.words_by_channel[static_cast<size_t>(i * c_out + oc)] = f.words[static_cast<size_t>(oc * per_channel + i)];
    }
  }
  return f;
}

template FilterRows int8_filter_rows<int8_t>(const int8_t*, int64_t, int64_t, int64_t, int64_t, int64_t, const int32_t*);
template FilterRows int8_filter_rows<uint8_t>(const uint8_t*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                              const int32_t*);

const FilterRows& PackedConvWeights::filter_rows() const {
  FilterRowsOnce& made = *filter_rows_once;
  std::call_once(made.made, [&] {
    const int64_t zp_count = static_cast<int64_t>(offsets.zero_point.size());
    made.rows = offsets.w_unsigned
                    ? int8_filter_rows(codes.data(), c_out, cig, kh, kw, zp_count, offsets.zero_point.data())
                    : int8_filter_rows(reinterpret_cast<const int8_t*>(codes.data()), c_out, cig, kh, kw, zp_count,
                                       offsets.zero_point.data());
  });
  return made.rows;
}

const PackedMatMulWeights& PackedConvWeights::as_matmul() const {
  MatMulWeightsOnce& made = *matmul_once;
  std::call_once(made.made, [&] {
    const int64_t k = kh * kw * cig, zp_count = static_cast<int64_t>(offsets.zero_point.size());
    std::vector<uint8_t> b(static_cast<size_t>(k * c_out));
    for (int64_t oc = 0; oc < c_out; ++oc) {
      for (int64_t ic = 0; ic < cig; ++ic) {
        for (int64_t t = 0; t < kh * kw; ++t) b[(t * cig + ic) * c_out + oc] = codes[(oc * cig + ic) * kh * kw + t];
      }
    }
    made.weights = offsets.w_unsigned ? pack_matmul_weights(b.data(), k, c_out, zp_count, offsets.zero_point.data())
                                      : pack_matmul_weights(reinterpret_cast<const int8_t*>(b.data()), k, c_out,
                                                            zp_count, offsets.zero_point.data());
  });
  return made.weights;
}

const PairWords& PackedConvWeights::pairs() const {
  PairWords& made = *pair_words;
  std::call_once(made.made, [&] {
    // word i of a row -> pair words 2i, 2i + 1 of the same row
    made.words.resize(2 * words.size());
    split_pairs(words.data(), static_cast<int64_t>(words.size()), made.words.data(),
                [](int64_t i, int h) { return 2 * i + h; });
    made.ones.resize(2 * ones.size());
    split_pairs(ones.data(), static_cast<int64_t>(ones.size()), made.ones.data(),
                [](int64_t i, int h) { return 2 * i + h; });
  });
  return made;
}

const PairWords& PackedMatMulWeights::pairs() const {
  PairWords& made = *pair_words;
  std::call_once(made.made, [&] {
    // word (t, g, j) -> pair words (t, 2g + h, j)
    made.words.resize(2 * words.size());
    split_pairs(words.data(), static_cast<int64_t>(words.size()), made.words.data(), [&](int64_t i, int h) {
      const int64_t j = i % kDot4TileCols, g = i / kDot4TileCols % groups4, t = i / (kDot4TileCols * groups4);
      return ((t * groups4 + g) * 2 + h) * kDot4TileCols + j;
    });
  });
  return made;
}

namespace {

// The codes of `count` 4-bit values, unpacked into T (intn.h), after checking the byte count.
template <typename T>
std::vector<T> unpacked_int4(const char* kernel, const uint8_t* packed, int64_t bytes, bool is_signed,
                             bool per_channel, int64_t count, int64_t channels) {
  const int64_t want = per_channel ? packed_int4_per_channel_bytes(count, channels) : packed_int4_bytes(count);
  if (bytes != want) {
    throw_invalid(kernel, "packed 4-bit weights have " + std::to_string(bytes) + " bytes, the shape needs " +
                              std::to_string(want) + (per_channel ? " (per-channel layout)" : " (dense layout)"));
  }
  std::vector<T> out(static_cast<size_t>(count));
  if (per_channel) {
    unpack_int4_per_channel(packed, count, channels, is_signed, out.data());
  } else {
    unpack_int4(packed, count, is_signed, out.data());
  }
  return out;
}

}  // namespace

PackedConvWeights pack_conv_weights_int4(const uint8_t* packed, int64_t bytes, bool is_signed, bool per_channel,
                                         int64_t c_out, int64_t cig, int64_t kh, int64_t kw,
                                         int64_t w_zero_point_count, const int32_t* w_zero_point) {
  constexpr const char* kName = "PackedConvWeights";
  check_dims(kName, {{"C_out", c_out}, {"C_in / groups", cig}, {"KH", kh}, {"KW", kw}});
  const int64_t count = c_out * cig * kh * kw;
  if (is_signed) {
    const std::vector<int8_t> w = unpacked_int4<int8_t>(kName, packed, bytes, true, per_channel, count, c_out);
    return pack_conv_weights(w.data(), c_out, cig, kh, kw, w_zero_point_count, w_zero_point);
  }
  const std::vector<uint8_t> w = unpacked_int4<uint8_t>(kName, packed, bytes, false, per_channel, count, c_out);
  return pack_conv_weights(w.data(), c_out, cig, kh, kw, w_zero_point_count, w_zero_point);
}

PackedMatMulWeights pack_matmul_weights_int4(const uint8_t* packed, int64_t bytes, bool is_signed, int64_t k,
                                             int64_t n, int64_t b_zero_point_count, const int32_t* b_zero_point) {
  constexpr const char* kName = "PackedMatMulWeights";
  check_dims(kName, {{"K", k}, {"N", n}});
  if (is_signed) {
    const std::vector<int8_t> b = unpacked_int4<int8_t>(kName, packed, bytes, true, false, k * n, n);
    return pack_matmul_weights(b.data(), k, n, b_zero_point_count, b_zero_point);
  }
  const std::vector<uint8_t> b = unpacked_int4<uint8_t>(kName, packed, bytes, false, false, k * n, n);
  return pack_matmul_weights(b.data(), k, n, b_zero_point_count, b_zero_point);
}

template PackedConvWeights pack_conv_weights<int8_t>(const int8_t*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                                     const int32_t*, bool);
template PackedConvWeights pack_conv_weights<uint8_t>(const uint8_t*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                                      const int32_t*, bool);
template PackedMatMulWeights pack_matmul_weights<int8_t>(const int8_t*, int64_t, int64_t, int64_t, const int32_t*,
                                                         bool);
template PackedMatMulWeights pack_matmul_weights<uint8_t>(const uint8_t*, int64_t, int64_t, int64_t, const int32_t*,
                                                          bool);

}  // namespace fxsim
