#include "core/clock.hpp"

namespace secrethub {

manual_clock::manual_clock(time_point start) : ticks_(start.time_since_epoch().count()) {}

time_point manual_clock::now() const {
  return time_point{wall_clock::duration{ticks_.load()}};
}

void manual_clock::set(time_point t) { ticks_.store(t.time_since_epoch().count()); }

void manual_clock::advance(wall_clock::duration d) { ticks_.fetch_add(d.count()); }

std::shared_ptr<const clock> default_clock() {
  static const std::shared_ptr<const clock> instance = std::make_shared<system_clock>();
  return instance;
}

}  // namespace secrethub
