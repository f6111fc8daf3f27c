#pragma once

// Stream operators so Boost.Test can print our enums in failure messages.

#include <secrethub/errc.hpp>
#include <secrethub/types.hpp>

#include "store/store.hpp"

#include <ostream>

namespace secrethub {

inline std::ostream& operator<<(std::ostream& os, errc code) {
  return os << to_string(code);
}

inline std::ostream& operator<<(std::ostream& os, lease_state s) {
  return os << to_string(s);
}

namespace store {
inline std::ostream& operator<<(std::ostream& os, stored_state s) {
  return os << static_cast<int>(s);
}
}  // namespace store

}  // namespace secrethub
