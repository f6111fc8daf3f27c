#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace secrethub {

/// A latency histogram with fixed bucket bounds (seconds), as Prometheus
/// exposes them: cumulative counts are derived when rendering.
struct histogram {
  static constexpr std::array<double, 13> bounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
  /// counts[i]: observations <= bounds[i] and > bounds[i-1]; the last slot
  /// holds those above every bound (+Inf).
  std::array<uint64_t, bounds.size() + 1> counts{};
  double sum = 0;
  uint64_t count = 0;

  void observe(double seconds) {
    std::size_t i = 0;
    while (i < bounds.size() && seconds > bounds[i]) {
      ++i;
    }
    ++counts[i];
    sum += seconds;
    ++count;
  }
};

}  // namespace secrethub
