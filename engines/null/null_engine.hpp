#pragma once

#include "engines/engine.hpp"

namespace secrethub::engines::null {

/// An engine that touches no database and always succeeds. Exists only to
/// measure the lease machinery (bench `scale`) and for tests.
std::unique_ptr<engine> make_engine(const role_config& role);

}  // namespace secrethub::engines::null
