#pragma once

#include <string>
#include <string_view>

namespace secrethub {

/// A SCRAM-SHA-256 verifier in PostgreSQL's pg_authid format
/// `SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>`
/// (RFC 5802/7677), computed with OpenSSL, random 16-byte salt. PostgreSQL
/// stores a verifier passed as a password as-is, so the clear password never
/// reaches the server. REQUIRES: iterations >= 1; `password` is ASCII (no
/// SASLprep needed for our generated alphabet).
std::string scram_sha256_verifier(std::string_view password, int iterations);

/// Same with a given raw salt; deterministic, for tests.
std::string scram_sha256_verifier(std::string_view password, int iterations,
                                  std::string_view raw_salt);

}  // namespace secrethub
