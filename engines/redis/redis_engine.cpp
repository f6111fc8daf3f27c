#include "engines/redis/redis_engine.hpp"

#include "core/credentials.hpp"
#include "core/redact.hpp"
#include "core/sql_template.hpp"
#include "engines/redis/acl_rules.hpp"
#include "engines/redis/redis_connection.hpp"
#include "engines/retry_policy.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <utility>
#include <variant>

namespace secrethub::engines::redis {

namespace {

using namespace std::chrono_literals;

// Same retry shape as the PostgreSQL engine: engines/retry_policy.hpp.

/// A failure worth another try: a transient error reply or a lost
/// connection (then the engine reconnects first).
struct retryable {
  std::string message;
  bool connection_lost = false;
};

template <class T>
using attempt_result = std::variant<T, error, retryable>;

struct retry_state {
  int attempt = 1;
  /// The previous attempt lost its connection mid-flight: its commands may
  /// or may not have run.
  bool after_connection_loss = false;
};

/// Redis answers these while it cannot serve yet or is busy; they pass.
bool is_transient(const redis_reply& r) {
  const std::string code = r.error_code();
  return code == "LOADING" || code == "BUSY" || code == "TRYAGAIN" || code == "MASTERDOWN";
}

/// The "passwords" field of an ACL GETUSER reply (a flat key/value array).
std::vector<std::string> passwords_of(const redis_reply& getuser) {
  std::vector<std::string> out;
  const auto& e = getuser.elements;
  for (std::size_t i = 0; i + 1 < e.size(); i += 2) {
    if (e[i].text == "passwords") {
      for (const auto& p : e[i + 1].elements) {
        out.push_back(p.text);
      }
    }
  }
  return out;
}

std::string reply_text(const redis_reply& r) {
  switch (r.type) {
    case redis_reply::kind::integer:
      return std::to_string(r.integer);
    case redis_reply::kind::nil:
      return "(nil)";
    case redis_reply::kind::array:
      return "(array)";
    default:
      return r.text;
  }
}

/// The result of one pipelined call: replies, or why to retry.
using replies_or_retry = std::variant<std::vector<redis_reply>, retryable>;

replies_or_retry run(redis_connection& c, const std::vector<std::vector<std::string>>& commands) {
  auto r = c.pipeline(commands);
  if (auto* io = std::get_if<redis_io_failure>(&r)) {
    return retryable{io->message, true};
  }
  auto& replies = std::get<0>(r);
  for (const auto& reply : replies) {
    if (is_transient(reply)) {
      return retryable{reply.text, false};
    }
  }
  return std::move(replies);
}

class redis_engine final : public engine {
 public:
  explicit redis_engine(role_config role) : role_(std::move(role)) {}

  std::string_view type() const override { return "redis"; }

  expected<create_user_response> generate_credentials(const create_user_request& req) override {
    const std::string hash = password_hash(req.password);
    const std::string password_rule =
        role_.password_format == "plain" ? ">" + req.password : "#" + hash;
    std::vector<std::string> setuser{"ACL", "SETUSER", req.username, "on", password_rule};
    for (auto& rule : split_acl_rules(render(req.creation_statements, {req.username, "", ""}))) {
      setuser.push_back(std::move(rule));
    }
    const create_user_response response{role_.host, role_.port, role_.database};
    const std::initializer_list<std::string_view> secrets{role_.password, req.password, hash};

    return with_retries<create_user_response>(
        "creating Redis user " + req.username, secrets,
        [&](redis_connection& c, const retry_state& st) -> attempt_result<create_user_response> {
          // ACL SETUSER on an existing user would modify it: check first.
          auto existing = run(c, {{"ACL", "GETUSER", req.username}});
          if (auto* again = std::get_if<retryable>(&existing)) {
            return *again;
          }
          const redis_reply& found = std::get<0>(existing).front();
          if (found.is_error()) {
            return error{errc::database_error, "ACL GETUSER failed: " + found.text};
          }
          if (!found.is_nil()) {
            const auto passwords = passwords_of(found);
            if (st.after_connection_loss &&
                std::find(passwords.begin(), passwords.end(), hash) != passwords.end()) {
              return response;  // our own SETUSER went through before the loss
            }
            return error{errc::already_exists, "Redis user " + req.username + " already exists"};
          }
          auto created = run(c, {setuser});
          if (auto* again = std::get_if<retryable>(&created)) {
            return *again;
          }
          const redis_reply& reply = std::get<0>(created).front();
          if (reply.is_error()) {
            return error{errc::database_error, "ACL SETUSER failed: " + reply.text};
          }
          return response;
        });
  }

  expected<renew_user_response> renew_lease(const renew_user_request& req) override {
    // Nothing to move: Redis ACL users have no expiry. Only confirm the user
    // is still there, so a renewal never pretends for a removed user.
    return with_retries<renew_user_response>(
        "renewing Redis user " + req.username, {role_.password},
        [&](redis_connection& c, const retry_state&) -> attempt_result<renew_user_response> {
          auto r = run(c, {{"ACL", "GETUSER", req.username}});
          if (auto* again = std::get_if<retryable>(&r)) {
            return *again;
          }
          const redis_reply& found = std::get<0>(r).front();
          if (found.is_error()) {
            return error{errc::database_error, "ACL GETUSER failed: " + found.text};
          }
          if (found.is_nil()) {
            return error{errc::not_found, "Redis user " + req.username + " does not exist"};
          }
          return renew_user_response{};
        });
  }

  expected<bool> user_exists(const std::string& username) override {
    return with_retries<bool>(
        "looking up Redis user " + username, {role_.password},
        [&](redis_connection& c, const retry_state&) -> attempt_result<bool> {
          auto r = run(c, {{"ACL", "GETUSER", username}});
          if (auto* again = std::get_if<retryable>(&r)) {
            return *again;
          }
          const redis_reply& found = std::get<0>(r).front();
          if (found.is_error()) {
            return error{errc::database_error, "ACL GETUSER failed: " + found.text};
          }
          return !found.is_nil();
        });
  }

  expected<revoke_user_response> revoke_credentials(const revoke_user_request& req) override {
    return with_retries<revoke_user_response>(
        "revoking Redis user " + req.username, {role_.password},
        [&](redis_connection& c, const retry_state&) -> attempt_result<revoke_user_response> {
          return revoke_once(c, req.username);
        });
  }

  expected<connection_test_report> test_connection(const test_request& req) override {
    connection_test_report report;
    // An operator asked: connect now, whatever the backoff window says.
    if (!conn_.healthy()) {
      auto c = connect_now();
      if (!c) {
        report.failed_step = "connect";
        report.error = c.error().message;
        return report;
      }
    }
    const std::string password =
        make_password(static_cast<std::size_t>(std::clamp(role_.password_length, 16, 128)));
    const std::string hash = password_hash(password);
    std::string step = "connect";
    auto result = with_retries<connection_test_report>(
        "testing the role", {role_.password, password, hash},
        [&](redis_connection& c, const retry_state&) -> attempt_result<connection_test_report> {
          return test_once(c, req, hash, step);
        });
    if (!result) {
      report.failed_step = result.error().code == errc::unavailable ? "connect" : step;
      report.error = result.error().message;
      return report;
    }
    return std::move(*result);
  }

 private:
  // -- connection --------------------------------------------------------------

  expected<redis_connection*> connection() {
    if (conn_.healthy()) {
      return &conn_;
    }
    if (auto refusal = backoff_.refusal(); !refusal.empty()) {
      return error{errc::unavailable, std::move(refusal)};
    }
    return connect_now();
  }

  expected<redis_connection*> connect_now() {
    if (auto err = conn_.open(role_)) {
      backoff_.failed("cannot connect to Redis at " + role_.host + ":" +
                      std::to_string(role_.port) + " as " + role_.username + ": " +
                      redact_secrets(*err, {role_.password}));
      return error{errc::unavailable, backoff_.last_error()};
    }
    backoff_.succeeded();
    return &conn_;
  }

  /// Runs `attempt` until it returns a value or a final error, retrying
  /// transient failures and reconnecting after lost connections. Every error
  /// message leaving here is redacted of `secrets` (core/redact.hpp).
  template <class T, class F>
  expected<T> with_retries(const std::string& what, std::initializer_list<std::string_view> secrets,
                           F&& attempt) {
    retry_state st;
    retryable last;
    for (st.attempt = 1; st.attempt <= max_attempts; ++st.attempt) {
      if (st.attempt > 1) {
        sleeper_.sleep_before_retry(st.attempt - 1);
      }
      auto c = connection();
      if (!c) {
        return error{errc::unavailable, redact_secrets(what + ": " + c.error().message, secrets)};
      }
      attempt_result<T> r = attempt(**c, st);
      if (auto* v = std::get_if<0>(&r)) {
        return std::move(*v);
      }
      if (auto* e = std::get_if<error>(&r)) {
        return error{e->code, redact_secrets(what + ": " + e->message, secrets)};
      }
      last = std::get<retryable>(std::move(r));
      st.after_connection_loss = last.connection_lost;
      if (last.connection_lost) {
        conn_.close();  // the next attempt reconnects
      }
    }
    return error{errc::transient_database_error,
                 redact_secrets(what + ": still failing after " + std::to_string(max_attempts) +
                           " attempts: " + last.message,
                       secrets)};
  }

  // -- operations --------------------------------------------------------------

  /// End the user's connections, delete it, confirm it is gone: one round
  /// trip. Safe to repeat.
  static attempt_result<revoke_user_response> revoke_once(redis_connection& c,
                                                          const std::string& username) {
    auto r = run(c, {{"CLIENT", "KILL", "USER", username},
                     {"ACL", "DELUSER", username},
                     {"ACL", "GETUSER", username}});
    if (auto* again = std::get_if<retryable>(&r)) {
      return *again;
    }
    const auto& replies = std::get<0>(r);
    const redis_reply& killed = replies[0];
    const redis_reply& deleted = replies[1];
    const redis_reply& remaining = replies[2];
    if (remaining.is_error()) {
      return error{errc::database_error, "ACL GETUSER failed: " + remaining.text};
    }
    if (!remaining.is_nil()) {
      std::string why = deleted.is_error() ? deleted.text : "it is still listed";
      return error{errc::database_error, "ACL DELUSER failed: " + why + "; the user still exists"};
    }
    revoke_user_response out;
    out.already_gone = deleted.type == redis_reply::kind::integer && deleted.integer == 0;
    // A CLIENT KILL refused (say, NOPERM) is not a failure: ACL DELUSER also
    // disconnects the deleted user's clients, and the user is gone.
    if (killed.type == redis_reply::kind::integer) {
      out.sessions_terminated = static_cast<int>(killed.integer);
    }
    return out;
  }

  /// The dry run of test_connection. `step` names the step in progress.
  attempt_result<connection_test_report> test_once(redis_connection& c, const test_request& req,
                                                   const std::string& hash, std::string& step) {
    connection_test_report report;
    const std::string admin = role_.username.empty() ? "default" : role_.username;
    auto fail = [&](std::string error_text, std::string statement = {}) {
      report.failed_step = step;
      report.failed_statement = std::move(statement);
      report.error = redact_secrets(error_text, {role_.password, hash});
      return report;
    };

    // -- privileges: ACL DRYRUN (Redis 7) asks the server what the admin may run.
    step = "privileges";
    const std::string probe = "shub_permission_probe";
    auto checked = run(c, {{"ACL", "DRYRUN", admin, "ACL", "GETUSER", probe},
                           {"ACL", "DRYRUN", admin, "ACL", "SETUSER", probe},
                           {"ACL", "DRYRUN", admin, "ACL", "DELUSER", probe},
                           {"ACL", "DRYRUN", admin, "CLIENT", "KILL", "USER", probe}});
    if (auto* again = std::get_if<retryable>(&checked)) {
      return *again;
    }
    const auto& verdicts = std::get<0>(checked);
    if (verdicts[0].is_error()) {
      // No +acl|dryrun, or a Redis before 7: the dry run below still finds a
      // missing permission, one command at a time.
      report.warnings.push_back("could not check the admin's permissions up front (ACL DRYRUN: " +
                                verdicts[0].text + "); grant +acl|dryrun to " + admin +
                                " for a complete check");
    } else {
      const char* const names[] = {"acl|getuser", "acl|setuser", "acl|deluser", "client|kill"};
      std::string missing;
      std::string reasons;
      for (std::size_t i = 0; i < 3; ++i) {
        if (verdicts[i].type != redis_reply::kind::status) {
          missing += std::string{missing.empty() ? "" : " "} + "+" + names[i];
          reasons += (reasons.empty() ? "" : "; ") + reply_text(verdicts[i]);
        }
      }
      if (!missing.empty()) {
        return fail("admin user " + admin + " may not manage ACL users (" + reasons +
                    "); run: ACL SETUSER " + admin + " " + missing);
      }
      if (verdicts[3].type != redis_reply::kind::status) {
        report.warnings.push_back(
            "admin user " + admin + " may not run CLIENT KILL (" + reply_text(verdicts[3]) +
            "): revocation still ends the user's connections through ACL DELUSER, but grant it: "
            "ACL SETUSER " +
            admin + " +client|kill");
      }
    }
    for (auto& w : acl_rule_warnings(req.creation_statements)) {
      report.warnings.push_back(std::move(w));
    }

    // -- creation: a disabled throwaway user with the role's rules.
    step = "creation";
    const std::string username = make_username("dryrun", wall_clock::now());
    const auto rules = split_acl_rules(render(req.creation_statements, {username, "", ""}));
    if (rules.empty()) {
      return fail("the creation statements (the user's ACL rules) are empty");
    }
    if (const auto problems = acl_rule_problems(req.creation_statements); !problems.empty()) {
      return fail(problems.front(), req.creation_statements);
    }
    std::vector<std::string> setuser{"ACL", "SETUSER", username, "off", "#" + hash};
    setuser.insert(setuser.end(), rules.begin(), rules.end());
    auto created = run(c, {{"ACL", "GETUSER", username}, setuser});
    if (auto* again = std::get_if<retryable>(&created)) {
      return *again;
    }
    const auto& made = std::get<0>(created);
    if (made[0].is_error() || made[1].is_error()) {
      const redis_reply& bad = made[0].is_error() ? made[0] : made[1];
      if (bad.error_code() == "NOPERM") {
        step = "privileges";
        return fail("admin user " + admin + " may not manage ACL users: " + bad.text);
      }
      return fail(bad.text, req.creation_statements);
    }
    if (!made[0].is_nil()) {
      return fail("a user named " + username + " already exists; run the test again");
    }

    // -- renewal: nothing runs on Redis.
    step = "renewal";
    if (!req.renewal_statements.empty()) {
      revoke_once(c, username);  // best effort: leave no trace
      return fail(
          "renewal statements are not used by the redis engine (Redis users have no expiry); "
          "leave them empty",
          req.renewal_statements);
    }

    // -- revocation: what revoke_credentials runs.
    step = "revocation";
    if (!req.revocation_statements.empty()) {
      revoke_once(c, username);
      return fail(
          "revocation statements are not used by the redis engine (it always runs CLIENT KILL "
          "USER and ACL DELUSER); leave them empty",
          req.revocation_statements);
    }
    auto revoked = revoke_once(c, username);
    if (auto* again = std::get_if<retryable>(&revoked)) {
      return *again;
    }
    if (auto* e = std::get_if<error>(&revoked)) {
      return fail(e->message);
    }
    report.ok = true;
    return report;
  }

  role_config role_;
  redis_connection conn_;
  retry_sleeper sleeper_;
  connect_backoff backoff_;
};

}  // namespace

std::string password_hash(std::string_view password) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(password.data(), password.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0x0f];
  }
  return out;
}

std::unique_ptr<engine> make_engine(const role_config& role) {
  return std::make_unique<redis_engine>(role);
}

}  // namespace secrethub::engines::redis
