#pragma once

// The retry shape every engine shares: transient failures are retried with
// jittered exponential backoff (5 ms → 200 ms, 8 tries in all, about half a
// second of sleeping at most), and after a failed connect calls fail fast for
// 100 ms, doubling up to 5 s, so an unreachable server is not hammered by
// every queued operation. Used by one engine instance (one thread) at a time.

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <thread>

namespace secrethub::engines {

inline constexpr int max_attempts = 8;

/// Sleeps between the attempts of one operation.
class retry_sleeper {
 public:
  retry_sleeper() : rng_(std::random_device{}()) {}

  /// Before retry number `retry` (1 for the second attempt): a random delay
  /// in [base/2, base], base = 5 ms · 2^(retry-1), at most 200 ms.
  void sleep_before_retry(int retry) {
    using namespace std::chrono_literals;
    constexpr std::chrono::microseconds first = 5ms;
    constexpr std::chrono::microseconds most = 200ms;
    auto base = std::min(first * (1 << std::min(retry - 1, 10)), most);
    std::uniform_int_distribution<long long> jitter(base.count() / 2, base.count());
    std::this_thread::sleep_for(std::chrono::microseconds{jitter(rng_)});
  }

 private:
  std::mt19937_64 rng_;
};

/// The fail-fast window after failed connects.
class connect_backoff {
 public:
  using steady = std::chrono::steady_clock;

  /// The refusal to answer instead of connecting: non-empty while inside the
  /// window after a failed connect (the last connect error, and how long).
  std::string refusal() const {
    if (!failed_ || steady::now() >= retry_at_) {
      return {};
    }
    return last_error_ + " (not retrying for up to " + std::to_string(window_.count()) + " ms)";
  }

  /// A connect failed with `message` (already free of secrets): the window
  /// opens at 100 ms, or doubles up to 5 s after an earlier failure.
  void failed(std::string message) {
    using namespace std::chrono_literals;
    window_ = failed_ ? std::min<std::chrono::milliseconds>(window_ * 2, 5s) : 100ms;
    failed_ = true;
    retry_at_ = steady::now() + window_;
    last_error_ = std::move(message);
  }

  void succeeded() {
    failed_ = false;
    window_ = std::chrono::milliseconds{0};
  }

  const std::string& last_error() const { return last_error_; }

 private:
  bool failed_ = false;
  steady::time_point retry_at_{};
  std::chrono::milliseconds window_{0};
  std::string last_error_;
};

}  // namespace secrethub::engines
