#pragma once

// Redis ACL users as dynamic credentials (Redis 6+; privilege checks use
// ACL DRYRUN from Redis 7).
//
// - generate: ACL GETUSER first (ACL SETUSER would silently modify an
//   existing user, so a taken name is `already_exists`), then
//   `ACL SETUSER <username> on #<sha256 of the password> <rules>`: Redis's
//   hashed form, so the clear password never reaches the server (as our
//   PostgreSQL SCRAM verifiers). password_format "plain" sends
//   `>password` instead; scram_iterations does not apply. The rules are the
//   role's creation_statements (acl_rules.hpp), {{username}} substituted.
// - renew: Redis ACL users have no expiry, so nothing changes on the server
//   (the lease timer carries the expiry); the engine only checks the user
//   still exists (`not_found` when it was removed behind our back, as with
//   PostgreSQL).
// - revoke: `CLIENT KILL USER` (its open connections end), `ACL DELUSER`
//   (which also disconnects any client that authenticated in between), and
//   `ACL GETUSER` to confirm it is gone, pipelined in one round trip.
//   Idempotent; renewal and revocation statements are not used (validation
//   requires them empty for Redis).
// - test_connection: connect + AUTH, the admin's permissions via ACL DRYRUN,
//   then a dry run that creates a throwaway user (disabled: `off`) with the
//   role's rules and deletes it again.
//
// The admin ACL user needs: +acl|setuser +acl|deluser +acl|getuser
// +client|kill, and +acl|dryrun for the up-front permission check. Note that
// ACL SETUSER can grant anything, so the admin user is as powerful as the
// server's own administrator: guard its password accordingly.

#include "engines/engine.hpp"

namespace secrethub::engines::redis {

/// A Redis engine bound to `role`; connects lazily on first use.
std::unique_ptr<engine> make_engine(const role_config& role);

/// Lowercase hex SHA-256 of `password`: what `ACL SETUSER u #<hash>` takes
/// and what ACL GETUSER lists under "passwords".
std::string password_hash(std::string_view password);

}  // namespace secrethub::engines::redis
