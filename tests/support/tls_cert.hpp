#pragma once

#include <filesystem>

namespace secrethub::test {

/// Writes a fresh self-signed certificate for CN=127.0.0.1, valid one hour,
/// to `dir`/cert.pem with its RSA key in `dir`/key.pem.
void make_self_signed(const std::filesystem::path& dir);

}  // namespace secrethub::test
