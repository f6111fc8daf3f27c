#include "actors/caf_types.hpp"

#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace secrethub {

caf::error make_caf_error(errc code, std::string message) {
  return caf::make_error(code, std::move(message));
}

caf::error to_caf_error(const error& e) {
  return make_caf_error(e.code, e.message);
}

error from_caf_error(const caf::error& e) {
  if (!e) {
    return error{errc::internal, "unexpected empty error"};
  }
  if (e.category() == caf::atom("secrethub")) {
    std::string message;
    const auto& ctx = e.context();
    if (ctx.size() == 1 && ctx.match_element<std::string>(0)) {
      message = ctx.get_as<std::string>(0);
    }
    return error{static_cast<errc>(e.code()), std::move(message)};
  }
  if (e.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(e.code())) {
      case caf::sec::request_timeout:
        return error{errc::timeout, "the operation did not finish in time"};
      case caf::sec::request_receiver_down:
        // A lease or role that finished between being looked up and being
        // asked: from the caller's side it is gone.
        return error{errc::not_found, "it no longer exists (revoked or deleted meanwhile)"};
      default:
        break;
    }
  }
  return error{errc::internal, "internal error: " + caf::to_string(e)};
}

lease_view make_view(const lease_record& r, time_point now) {
  lease_view v;
  v.lease_id = r.lease_id();
  v.role = r.role();
  v.username = r.username;
  v.issued_at = r.terms.issued_at;
  v.expires_at = r.terms.expires_at;
  auto left = std::chrono::ceil<std::chrono::seconds>(r.terms.expires_at - now).count();
  v.ttl = left > 0 && r.state != lease_state::revoked ? left : 0;
  v.renewable = r.terms.renewable && r.state == lease_state::active && left > 0;
  v.state = r.state;
  v.last_error = r.last_error;
  v.revoke_attempts = r.revoke_attempts;
  v.revoked_with_fallback = r.revoked_with_fallback;
  v.metadata = r.metadata;
  v.owner = r.owner;
  return v;
}

}  // namespace secrethub
