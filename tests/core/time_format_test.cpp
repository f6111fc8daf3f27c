#define BOOST_TEST_MODULE core_time_format
#include <boost/test/unit_test.hpp>

#include "core/time_format.hpp"

#include <clocale>
#include <cstdlib>
#include <ctime>
#include <string>

using namespace secrethub;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

namespace {

// 2026-11-28T19:35:23Z
const time_point instant{seconds{1795894523}};

}  // namespace

BOOST_AUTO_TEST_CASE(iso8601_is_utc_with_explicit_offset) {
  BOOST_TEST(format_iso8601(instant) == "2026-11-28T19:35:23+00:00");
  BOOST_TEST(format_iso8601(time_point{}) == "1970-01-01T00:00:00+00:00");
  BOOST_TEST(format_iso8601(time_point{seconds{1709251199}}) == "2024-02-29T23:59:59+00:00");
}

BOOST_AUTO_TEST_CASE(iso8601_truncates_fractions) {
  BOOST_TEST(format_iso8601(instant + milliseconds{999}) == "2026-11-28T19:35:23+00:00");
  BOOST_TEST(format_iso8601(time_point{seconds{1767225599}} + nanoseconds{999'999'999})
             == "2025-12-31T23:59:59+00:00");
}

BOOST_AUTO_TEST_CASE(instants_before_the_epoch_round_down) {
  BOOST_TEST(format_iso8601(time_point{} - nanoseconds{1}) == "1969-12-31T23:59:59+00:00");
  BOOST_TEST(to_unix_seconds(time_point{} - nanoseconds{1}) == -1);
  BOOST_TEST(format_rfc3339(time_point{} - milliseconds{1}) == "1969-12-31T23:59:59.999Z");
}

BOOST_AUTO_TEST_CASE(database_expiration_adds_five_seconds) {
  BOOST_TEST(database_expiration(instant) == "2026-11-28T19:35:28+00:00");
}

BOOST_AUTO_TEST_CASE(database_expiration_rounds_fractions_up) {
  BOOST_TEST(database_expiration(instant + nanoseconds{1}) == "2026-11-28T19:35:29+00:00");
  BOOST_TEST(database_expiration(instant + milliseconds{999}) == "2026-11-28T19:35:29+00:00");
  // Crossing a year boundary.
  BOOST_TEST(database_expiration(time_point{seconds{1767225599}})
             == "2026-01-01T00:00:04+00:00");
}

BOOST_AUTO_TEST_CASE(rfc3339_has_truncated_milliseconds_and_z) {
  BOOST_TEST(format_rfc3339(instant) == "2026-11-28T19:35:23.000Z");
  BOOST_TEST(format_rfc3339(instant + milliseconds{123}) == "2026-11-28T19:35:23.123Z");
  BOOST_TEST(format_rfc3339(instant + nanoseconds{123'999'999}) == "2026-11-28T19:35:23.123Z");
  BOOST_TEST(format_rfc3339(instant + milliseconds{7}) == "2026-11-28T19:35:23.007Z");
}

BOOST_AUTO_TEST_CASE(unix_seconds_floor) {
  BOOST_TEST(to_unix_seconds(instant) == 1795894523);
  BOOST_TEST(to_unix_seconds(instant + milliseconds{999}) == 1795894523);
}

BOOST_AUTO_TEST_CASE(formatting_ignores_the_local_time_zone_and_locale) {
  const char* old_tz = std::getenv("TZ");
  const std::string saved = old_tz ? old_tz : "";
  // A POSIX zone string needs no tzdata: five hours west of UTC.
  setenv("TZ", "XST+05", 1);
  tzset();
  std::setlocale(LC_ALL, "");
  BOOST_TEST(format_iso8601(instant) == "2026-11-28T19:35:23+00:00");
  BOOST_TEST(format_rfc3339(instant) == "2026-11-28T19:35:23.000Z");
  if (old_tz) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
  std::setlocale(LC_ALL, "C");
}
