#pragma once

#include <secrethub/types.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace secrethub::http {

/// The Prometheus text exposition format (version 0.0.4) of the engine's
/// metrics and the API's request counts (route pattern, status → count).
/// Names follow Prometheus conventions: `secrethub_` prefix, `_total` for
/// counters, base units (seconds) for histograms.
std::string render_prometheus(const metrics_snapshot& m,
                              const std::map<std::pair<std::string, int>, uint64_t>& requests);

}  // namespace secrethub::http
