#pragma once

#include <secrethub/errc.hpp>

namespace secrethub::http {

/// The one table from error codes to HTTP statuses:
/// invalid_argument 400, lease_not_renewable 400, unauthorized 401,
/// forbidden 403, not_found 404, already_exists 409, conflict 409,
/// overloaded 503 (with Retry-After), unavailable 502, database_error 502,
/// transient_database_error 503, revoke_failed 502, timeout 504,
/// shutting_down 503, internal and anything else 500.
int http_status(errc code);

}  // namespace secrethub::http
