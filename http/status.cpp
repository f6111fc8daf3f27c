#include "http/status.hpp"

namespace secrethub::http {

int http_status(errc code) {
  switch (code) {
    case errc::invalid_argument:
      return 400;
    case errc::lease_not_renewable:
      return 400;
    case errc::unauthorized:
      return 401;
    case errc::forbidden:
      return 403;
    case errc::not_found:
      return 404;
    case errc::already_exists:
      return 409;
    case errc::conflict:
      return 409;
    case errc::overloaded:
      return 503;
    case errc::unavailable:
      return 502;
    case errc::database_error:
      return 502;
    case errc::transient_database_error:
      return 503;
    case errc::revoke_failed:
      return 502;
    case errc::timeout:
      return 504;
    case errc::shutting_down:
      return 503;
    case errc::internal:
      return 500;
    // `none` reaching here is a bug in the caller: it is not a success status.
    case errc::none:
      return 500;
  }
  // Values outside the enum (a peer or a corrupt record).
  return 500;
}

}  // namespace secrethub::http
