#include <secrethub/errc.hpp>
#include <secrethub/types.hpp>

namespace secrethub {

std::string_view to_string(errc code) {
  switch (code) {
    case errc::none: return "none";
    case errc::invalid_argument: return "invalid_argument";
    case errc::not_found: return "not_found";
    case errc::already_exists: return "already_exists";
    case errc::conflict: return "conflict";
    case errc::lease_not_renewable: return "lease_not_renewable";
    case errc::unauthorized: return "unauthorized";
    case errc::forbidden: return "forbidden";
    case errc::overloaded: return "overloaded";
    case errc::unavailable: return "unavailable";
    case errc::database_error: return "database_error";
    case errc::transient_database_error: return "transient_database_error";
    case errc::revoke_failed: return "revoke_failed";
    case errc::timeout: return "timeout";
    case errc::internal: return "internal";
    case errc::shutting_down: return "shutting_down";
  }
  // Values outside the enum can arrive from a peer or a corrupt record.
  return "unknown";
}

std::string to_string(const error& e) {
  std::string result{to_string(e.code)};
  result += ": ";
  result += e.message;
  return result;
}

std::string_view to_string(lease_state s) {
  switch (s) {
    case lease_state::active: return "active";
    case lease_state::revoking: return "revoking";
    case lease_state::revoke_failed: return "revoke_failed";
    case lease_state::revoked: return "revoked";
  }
  return "unknown";
}

}  // namespace secrethub
