#pragma once

#include <secrethub/types.hpp>

#include <atomic>
#include <memory>

namespace secrethub {

/// Source of wall-clock time. Injected everywhere lease time is computed so
/// tests control it.
class clock {
 public:
  virtual ~clock() = default;
  virtual time_point now() const = 0;
};

/// The real wall clock.
class system_clock final : public clock {
 public:
  time_point now() const override { return wall_clock::now(); }
};

/// A clock that moves only when told. Thread-safe.
class manual_clock final : public clock {
 public:
  explicit manual_clock(time_point start);
  time_point now() const override;
  void set(time_point t);
  void advance(wall_clock::duration d);

 private:
  std::atomic<wall_clock::duration::rep> ticks_;
};

/// A shared system_clock.
std::shared_ptr<const clock> default_clock();

}  // namespace secrethub
