#pragma once
// Element types. Masks from comparisons are u8 (0/1).
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/core/error.h"

namespace gantry {

enum class DType : uint8_t { f32, f64, i64, u8 };

inline size_t itemsize(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i64: return 8;
    case DType::u8: return 1;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::i64: return "int64";
    case DType::u8: return "uint8";
  }
  return "?";
}

inline bool is_floating(DType t) { return t == DType::f32 || t == DType::f64; }

template <typename T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::f64; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::i64; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::u8; };

template <typename T> struct type_tag { using type = T; };

// Calls fn(type_tag<T>{}) for the C++ type of `t`. `op` names the caller in the error for a dtype
// the caller does not support.
template <typename F>
decltype(auto) dispatch_floating(DType t, const char* op, F&& fn) {
  switch (t) {
    case DType::f32: return fn(type_tag<float>{});
    case DType::f64: return fn(type_tag<double>{});
    default: GANTRY_FAIL(op, ": expected a floating dtype (float32 or float64), got ", dtype_name(t));
  }
}

template <typename F>
decltype(auto) dispatch_all(DType t, const char* op, F&& fn) {
  switch (t) {
    case DType::f32: return fn(type_tag<float>{});
    case DType::f64: return fn(type_tag<double>{});
    case DType::i64: return fn(type_tag<int64_t>{});
    case DType::u8: return fn(type_tag<uint8_t>{});
  }
  GANTRY_FAIL(op, ": unknown dtype");
}

}  // namespace gantry
