#pragma once

#include "engines/engine.hpp"

namespace secrethub::engines::postgresql {

/// Default renewal: move the database-side expiry.
extern const char* const default_renewal_statements;

/// Default revocation: no more logins, end sessions, hand owned objects to
/// the admin, drop privileges, drop the user.
extern const char* const default_revocation_statements;

/// A PostgreSQL engine bound to `role`; connects lazily on first use.
std::unique_ptr<engine> make_engine(const role_config& role);

}  // namespace secrethub::engines::postgresql
