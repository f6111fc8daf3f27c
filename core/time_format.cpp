#include "core/time_format.hpp"

#include <cstdio>
#include <ctime>

namespace secrethub {

namespace {

using std::chrono::seconds;

/// "YYYY-MM-DDTHH:MM:SS" of whole Unix seconds, UTC, without locale.
std::string format_utc_seconds(int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm parts{};
  if (gmtime_r(&t, &parts) == nullptr) {
    return "invalid-time";  // only for years beyond what struct tm holds
  }
  char buffer[80];  // room for any int fields, so nothing is ever cut
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec);
  return buffer;
}

}  // namespace

int64_t to_unix_seconds(time_point t) {
  return std::chrono::floor<seconds>(t.time_since_epoch()).count();
}

std::string format_iso8601(time_point t) { return format_utc_seconds(to_unix_seconds(t)) + "+00:00"; }

std::string database_expiration(time_point lease_expiry) {
  const auto buffered = lease_expiry + seconds{expiration_buffer_seconds};
  return format_iso8601(std::chrono::ceil<seconds>(buffered));
}

std::string format_rfc3339(time_point t) {
  const auto since_epoch = t.time_since_epoch();
  const auto whole = std::chrono::floor<seconds>(since_epoch);
  const auto millis = std::chrono::floor<std::chrono::milliseconds>(since_epoch - whole).count();
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, ".%03dZ", static_cast<int>(millis));
  return format_utc_seconds(whole.count()) + fraction;
}

}  // namespace secrethub
