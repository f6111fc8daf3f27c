#pragma once

// Removing secrets from error messages before they leave an engine. Database
// servers quote what they choke on: PostgreSQL names the token of a statement
// it could not parse ("syntax error at or near …", "invalid input syntax for
// type integer: …", a LINE excerpt cut around the error), and Redis quotes a
// failing ACL SETUSER modifier. The statement may hold a generated password,
// its SCRAM verifier or hash, or the role's admin password, whole or cut.
//
// The rules, for each secret of at least min_secret_length characters:
// 1. Every whole occurrence is replaced by redaction_marker.
// 2. So is every run of at least min_fragment_length characters that also
//    occurs in the secret (the longest run starting at each position), so a
//    cut-off piece of a secret never passes either.
// 3. Except one case, where such a run is ordinary text: once separators at
//    its ends (anything but ASCII letters and digits) are set aside, it is a
//    single word of ASCII letters in one case (all lower or all upper) that
//    stands alone in the message and stands alone in the secret (no letter
//    or digit before or after it in either), and it is at most half as long
//    as the secret (and so are the runs that start inside that word and end
//    within it, such as "assword"). A password "not-the-admin-password" leaves
//    "FATAL: password authentication failed" alone, while "admin-password",
//    "batterystaple" out of "correcthorsebatterystaple", or any run of a
//    generated password (mixed case and digits) is still removed. What can
//    pass is one dictionary-like word that the secret spells out on its own,
//    never more than half of it.
//
// Shorter secrets are not searched for: a 1–3 character secret would blank
// ordinary letters everywhere (and is no secret worth the name). Matching is
// byte-wise and case-sensitive; ASCII is all the classification looks at.

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace secrethub {

/// What replaces a secret or a piece of one.
inline constexpr std::string_view redaction_marker = "<redacted>";
/// Secrets shorter than this are not searched for.
inline constexpr std::size_t min_secret_length = 4;
/// Shorter runs shared with a secret are left alone (unless the whole secret).
inline constexpr std::size_t min_fragment_length = 8;

/// The secrets of one operation, copied (the set may outlive its sources,
/// e.g. across retries). Empty and too-short ones are dropped.
class secret_set {
 public:
  secret_set(std::initializer_list<std::string_view> secrets);

  /// `message` with the secrets removed as the rules above say.
  std::string redact(std::string_view message) const;

 private:
  std::vector<std::string> secrets_;
};

/// One-off form of secret_set{secrets}.redact(message).
std::string redact_secrets(std::string_view message,
                           std::initializer_list<std::string_view> secrets);

}  // namespace secrethub
