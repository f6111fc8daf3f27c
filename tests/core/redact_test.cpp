// The one rule both engines use to keep secrets out of error messages
// (core/redact.hpp): whole secrets and long pieces go, ordinary words stay.
#define BOOST_TEST_MODULE core_redact
#include <boost/test/unit_test.hpp>

#include "core/credentials.hpp"
#include "core/redact.hpp"
#include "core/scram.hpp"

#include <string>

using namespace secrethub;

namespace {

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(whole_secrets_are_replaced_wherever_they_appear) {
  const std::string password = "qZiEr3p3ehotFhPuSq3VwVzGnT2_1lD6";
  const std::string msg = "ERROR: invalid input syntax for type integer: \"" + password +
                          "\" (again: " + password + ")";
  const std::string out = redact_secrets(msg, {password});
  BOOST_TEST(out ==
             "ERROR: invalid input syntax for type integer: \"<redacted>\" (again: <redacted>)");
}

BOOST_AUTO_TEST_CASE(short_secrets_are_replaced_whole_and_tiny_ones_ignored) {
  // 4..7 characters: only the whole secret (no fragment is long enough).
  BOOST_TEST(redact_secrets("user x, password s3cr3t!", {"s3cr3t!"}) ==
             "user x, password <redacted>");
  BOOST_TEST(redact_secrets("password s3cr3 here", {"s3cr3t!"}) == "password s3cr3 here");
  // Under 4 characters a secret would blank letters everywhere: not searched.
  BOOST_TEST(redact_secrets("abc abc", {"abc"}) == "abc abc");
  BOOST_TEST(redact_secrets("nothing", {""}) == "nothing");
}

BOOST_AUTO_TEST_CASE(a_cut_piece_of_a_generated_password_is_replaced) {
  // PostgreSQL's LINE excerpt cuts the statement around the error.
  const std::string password = "qZiEr3p3ehotFhPuSq3VwVzGnT2_1lD6";
  const std::string head = password.substr(0, 10);
  const std::string tail = password.substr(password.size() - 9);
  const std::string middle = password.substr(11, 8);
  for (const std::string& piece : {head, tail, middle}) {
    const std::string msg = "LINE 1: ...PASSWORD '" + piece + "...";
    const std::string out = redact_secrets(msg, {password});
    BOOST_TEST(!contains(out, piece), out);
    BOOST_TEST(out == "LINE 1: ...PASSWORD '<redacted>...", out);
  }
  // Seven characters are left alone: too short to tell from chance.
  const std::string seven = password.substr(3, 7);
  BOOST_TEST(redact_secrets("near " + seven, {password}) == "near " + seven);
}

BOOST_AUTO_TEST_CASE(a_scram_verifier_whole_or_cut_is_replaced) {
  const std::string password = make_password(32);
  const std::string verifier = scram_sha256_verifier(password, 4096);
  const std::string whole = redact_secrets("near \"'" + verifier + "'\"", {password, verifier});
  BOOST_TEST(!contains(whole, "SCRAM-SHA-256$"), whole);
  BOOST_TEST(!contains(whole, verifier.substr(20, 16)), whole);
  const std::string cut =
      redact_secrets("LINE 1: ..." + verifier.substr(0, 40) + "...", {password, verifier});
  BOOST_TEST(!contains(cut, verifier.substr(0, 40)), cut);
  BOOST_TEST(!contains(cut, verifier.substr(14, 12)), cut);
  BOOST_TEST(contains(cut, "<redacted>"), cut);
}

BOOST_AUTO_TEST_CASE(an_english_word_shared_with_the_password_stays_in_the_text) {
  // The quirk this rule fixes: the 8-character fragment "password" of the
  // admin password blanked the word in PostgreSQL's own message.
  const std::string admin = "not-the-admin-password";
  const std::string msg =
      "FATAL: password authentication failed for user \"secrethub_admin\"";
  BOOST_TEST(redact_secrets(msg, {admin}) == msg);
  // Redis says the same with a hyphen in front.
  const std::string wrongpass = "WRONGPASS invalid username-password pair or user is disabled.";
  BOOST_TEST(redact_secrets(wrongpass, {admin}) == wrongpass);
  // Upper-case words (SQL keywords) too.
  BOOST_TEST(redact_secrets("syntax error at or near PASSWORD", {"MY-DB-PASSWORD-2024"}) ==
             "syntax error at or near PASSWORD");
}

BOOST_AUTO_TEST_CASE(more_than_one_word_of_a_password_is_replaced) {
  const std::string admin = "not-the-admin-password";
  // Two of its words with their separator: a piece of the secret, not a word.
  const std::string two = redact_secrets("LINE 1: ...admin-password'", {admin});
  BOOST_TEST(two == "LINE 1: ...<redacted>'", two);
  // The whole password, of course.
  BOOST_TEST(redact_secrets("PASSWORD 'not-the-admin-password'", {admin}) ==
             "PASSWORD '<redacted>'");
}

BOOST_AUTO_TEST_CASE(a_word_that_is_not_a_word_of_the_secret_is_replaced) {
  // Run together, the secret has no word boundary where the message has one.
  const std::string admin = "correcthorsebatterystaple";
  const std::string out = redact_secrets("LINE 1: ...batterystaple' VALID", {admin});
  BOOST_TEST(out == "LINE 1: ...<redacted>' VALID", out);
  // A word glued to other letters in the message is no standalone word there.
  const std::string glued = redact_secrets("xpasswordx", {"not-the-admin-password"});
  BOOST_TEST(!contains(glued, "password"), glued);
}

BOOST_AUTO_TEST_CASE(a_word_longer_than_half_the_secret_is_replaced) {
  // "authentication" is 14 of the 18 characters: it is most of the secret.
  const std::string admin = "authentication-123";
  const std::string out = redact_secrets("password authentication failed", {admin});
  BOOST_TEST(out == "password <redacted> failed", out);
  // Up to half, it is a word like any other.
  const std::string longer = "secrethub-authentication-2024";
  BOOST_TEST(redact_secrets("password authentication failed", {longer}) ==
             "password authentication failed");
}

BOOST_AUTO_TEST_CASE(mixed_case_or_digits_are_never_taken_for_a_word) {
  // Generated passwords mix case and digits: a run of them is a leak even
  // when it stands alone in both the message and the secret.
  const std::string password = "abcd1234-QwErTyUiOp-5678";
  const std::string out = redact_secrets("near QwErTyUiOp here", {password});
  BOOST_TEST(out == "near <redacted> here", out);
  const std::string digits = redact_secrets("near 12345678 here", {"xx-12345678-yy-zzzzzzzz"});
  BOOST_TEST(digits == "near <redacted> here", digits);
}

BOOST_AUTO_TEST_CASE(every_secret_of_the_set_is_applied_and_the_set_keeps_copies) {
  std::string admin = "Adm1nPassw0rd!!";
  std::string generated = "X2kJ9qLm0PzR4tWv";
  const secret_set set{admin, generated};
  admin.assign(admin.size(), '_');  // the set copied them
  generated.assign(generated.size(), '_');
  const std::string out =
      set.redact("connect as Adm1nPassw0rd!! failed; new user got X2kJ9qLm0PzR4tWv");
  BOOST_TEST(out == "connect as <redacted> failed; new user got <redacted>", out);
  BOOST_TEST(set.redact("") == "");
}
