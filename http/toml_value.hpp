#pragma once

// TOML role files (server config [[roles]], `secrethub role write --file`)
// become the REST API's JSON role body through this one conversion.

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include <optional>

namespace secrethub::http {

/// A role field's TOML value as JSON: string, integer, boolean, or array of
/// strings. nullopt for anything else (tables, floats, dates, mixed arrays).
std::optional<nlohmann::json> role_field_json(const toml::node& node);

}  // namespace secrethub::http
