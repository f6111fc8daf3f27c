#pragma once

#include <secrethub/errc.hpp>

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace secrethub {

/// A value of type T or an `error`. No exceptions: callers test with
/// `if (!r)` and read `r.error()`. REQUIRES: `value()` only when `has_value()`.
template <class T>
class expected {
 public:
  expected(T value) : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  expected(secrethub::error err) : data_(std::in_place_index<1>, std::move(err)) {    // NOLINT
    assert(std::get<1>(data_).code != errc::none);
  }
  expected(errc code, std::string message)
      : expected(secrethub::error{code, std::move(message)}) {}

  bool has_value() const { return data_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const secrethub::error& error() const { return std::get<1>(data_); }

 private:
  std::variant<T, secrethub::error> data_;
};

/// Success or an `error`.
template <>
class expected<void> {
 public:
  expected() = default;
  expected(secrethub::error err) : error_(std::move(err)) {}  // NOLINT
  expected(errc code, std::string message) : error_(code, std::move(message)) {}

  bool has_value() const { return error_.code == errc::none; }
  explicit operator bool() const { return has_value(); }
  const secrethub::error& error() const { return error_; }

 private:
  secrethub::error error_;
};

}  // namespace secrethub
