#include "engines/postgresql/pg_engine.hpp"

#include "core/credentials.hpp"
#include "core/redact.hpp"
#include "core/scram.hpp"
#include "core/sql_template.hpp"
#include "core/time_format.hpp"
#include "engines/postgresql/pg_connection.hpp"
#include "engines/retry_policy.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <map>
#include <set>
#include <utility>
#include <variant>

namespace secrethub::engines::postgresql {

const char* const default_renewal_statements =
    R"(ALTER ROLE "{{username}}" VALID UNTIL '{{expiration}}';)";

// The GRANT comes first because on PostgreSQL 15 a CREATEROLE admin that is
// not a superuser needs membership in the user for REASSIGN OWNED, DROP OWNED
// and (without pg_signal_backend) pg_terminate_backend; CREATEROLE lets it
// grant that membership to itself. Harmless for a superuser admin.
const char* const default_revocation_statements =
    R"(GRANT "{{username}}" TO CURRENT_USER;
ALTER ROLE "{{username}}" NOLOGIN;
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{username}}';
REASSIGN OWNED BY "{{username}}" TO CURRENT_USER;
DROP OWNED BY "{{username}}";
DROP ROLE IF EXISTS "{{username}}";)";

namespace {

using namespace std::chrono_literals;

// Retries and the connect backoff: engines/retry_policy.hpp.

/// One line: libpq's connect messages span lines ("…\n\tIs the server running…").
std::string one_line(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) {
      out += ' ';
      space = false;
    }
    out += c;
  }
  return out;
}

struct retry_state {
  int attempt = 1;
  /// The previous attempt lost its connection mid-flight: its statements may
  /// or may not have committed.
  bool after_connection_loss = false;
};

/// Outcome of one try: the value, a final error, or a failure worth another
/// try (transient or a lost connection).
template <class T>
using attempt_result = std::variant<T, error, pg_failure>;

bool is_duplicate_role(const pg_failure& f) {
  if (f.sqlstate == "42710") {
    return true;
  }
  // Two sessions creating the same name at once: the unique index notices.
  return f.sqlstate == "23505" && (f.constraint == "pg_authid_rolname_index" ||
                                   f.primary.find("pg_authid_rolname_index") != std::string::npos);
}

bool truthy(const std::optional<std::string>& v) { return v && (*v == "t" || *v == "true"); }

/// Cell (row, col) of result `index` of `b`; nullopt when absent or NULL.
std::optional<std::string> cell(const pg_batch& b, std::size_t index, std::size_t row = 0,
                                std::size_t col = 0) {
  if (index >= b.results.size() || row >= b.results[index].rows.size() ||
      col >= b.results[index].rows[row].size()) {
    return std::nullopt;
  }
  return b.results[index].rows[row][col];
}

int to_int(const std::optional<std::string>& v) {
  int n = 0;
  if (v) {
    std::from_chars(v->data(), v->data() + v->size(), n);
  }
  return n;
}

/// "creation statement 3 failed: SQLSTATE …"; failures of the set as a whole
/// (no SQLSTATE, e.g. an unterminated BEGIN) name no statement.
std::string failure_text(std::string_view step, std::size_t index, const pg_failure& f) {
  if (f.sqlstate.empty()) {
    return std::string{step} + " statements failed: " + describe(f);
  }
  return std::string{step} + " statement " + std::to_string(index + 1) + " failed: " + describe(f);
}

/// Runs a statement set. A set that leaves a transaction block open (BEGIN
/// without COMMIT, or an error inside its own BEGIN) is rolled back and
/// reported: otherwise nothing would commit and the connection would carry
/// the open block into the next operation.
pg_batch run_set(pg_connection& c, const std::string& sql) {
  auto batch = c.run(sql);
  if (c.in_transaction()) {
    c.run("ROLLBACK");
    if (!batch.failure) {
      pg_failure f;
      f.primary =
          "the statements open a transaction (BEGIN) and do not end it; nothing was committed";
      f.statement_index = batch.results.size();
      batch.failure = std::move(f);
    }
  }
  return batch;
}

/// A role's statements for one step, or the engine's default when it has none.
std::string_view or_default(std::string_view statements, const char* default_statements) {
  return statements.empty() ? std::string_view{default_statements} : statements;
}

/// The engine's own way to remove a user: membership first (PostgreSQL 15
/// requires it of a non-superuser CREATEROLE admin for REASSIGN/DROP OWNED and,
/// without pg_signal_backend, for pg_terminate_backend), no more logins, end
/// sessions, hand over owned objects, drop privileges, drop the user.
std::string fallback_drop_sql(const pg_connection& c, const std::string& username) {
  const std::string ident = c.quote_identifier(username);
  return "GRANT " + ident + " TO CURRENT_USER;\nALTER ROLE " + ident +
         " NOLOGIN;\nSELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity "
         "WHERE usename = " +
         c.quote_literal(username) + ";\nREASSIGN OWNED BY " + ident +
         " TO CURRENT_USER;\nDROP OWNED BY " + ident + ";\nDROP ROLE " + ident + ";";
}

class pg_engine final : public engine {
 public:
  explicit pg_engine(role_config role) : role_(std::move(role)) {}

  std::string_view type() const override { return "postgresql"; }

  expected<create_user_response> generate_credentials(const create_user_request& req) override {
    // Only pay for PBKDF2 when the statements actually use the password.
    std::string secret;
    if (has_placeholder(req.creation_statements, "password")) {
      secret = role_.password_format == "plain"
                   ? req.password
                   : scram_sha256_verifier(req.password, std::max(1, role_.scram_iterations));
    }
    const std::string sql = render(req.creation_statements, {req.username, secret, req.expiration});
    const secret_set secrets{role_.password, req.password, secret};
    const create_user_response response{role_.host, role_.port, role_.database};

    return with_retries<create_user_response>(
        "creating database user " + req.username, secrets,
        [&](pg_connection& c, const retry_state& st) -> attempt_result<create_user_response> {
          if (st.after_connection_loss) {
            // The set runs in one transaction: if the user exists, all of it
            // committed before the connection went (usernames are random, so
            // the user is ours).
            auto exists = user_oid(c, req.username);
            if (auto* f = std::get_if<pg_failure>(&exists)) {
              return *f;
            }
            if (auto* e = std::get_if<error>(&exists)) {
              return *e;
            }
            if (std::get<0>(exists)) {
              return response;
            }
          }
          auto batch = run_set(c, sql);
          if (!batch.failure) {
            return response;
          }
          const pg_failure& f = *batch.failure;
          if (classify(f) != failure_class::permanent) {
            return f;
          }
          if (is_duplicate_role(f)) {
            return error{errc::already_exists,
                         "database user " + req.username + " already exists (" + describe(f) + ")"};
          }
          return error{errc::database_error, failure_text("creation", f.statement_index, f)};
        });
  }

  expected<renew_user_response> renew_lease(const renew_user_request& req) override {
    const std::string sql =
        render(or_default(req.renewal_statements, default_renewal_statements),
               {req.username, "", req.expiration});
    const secret_set secrets{role_.password};
    return with_retries<renew_user_response>(
        "renewing database user " + req.username, secrets,
        [&](pg_connection& c, const retry_state&) -> attempt_result<renew_user_response> {
          auto batch = run_set(c, sql);
          if (!batch.failure) {
            return renew_user_response{};
          }
          const pg_failure& f = *batch.failure;
          if (classify(f) != failure_class::permanent) {
            return f;
          }
          if (f.sqlstate == "42704") {
            return error{errc::not_found,
                         "database user " + req.username + " does not exist (" + describe(f) + ")"};
          }
          return error{errc::database_error, failure_text("renewal", f.statement_index, f)};
        });
  }

  expected<bool> user_exists(const std::string& username) override {
    return with_retries<bool>(
        "looking up database user " + username, secret_set{role_.password},
        [&](pg_connection& c, const retry_state&) -> attempt_result<bool> {
          auto batch =
              c.run_params("SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = $1", {username});
          if (batch.failure) {
            if (classify(*batch.failure) != failure_class::permanent) {
              return *batch.failure;
            }
            return error{errc::database_error,
                         "looking up database user " + username + ": " + describe(*batch.failure)};
          }
          return to_int(cell(batch, 0)) > 0;
        });
  }

  expected<revoke_user_response> revoke_credentials(const revoke_user_request& req) override {
    const std::string statements =
        render(or_default(req.revocation_statements, default_revocation_statements),
               {req.username, "", ""});
    const secret_set secrets{role_.password};
    const std::string what = "revoking database user " + req.username;

    auto dropped = with_retries<drop_outcome>(
        what, secrets, [&](pg_connection& c, const retry_state&) -> attempt_result<drop_outcome> {
          return drop_once(c, req.username, statements);
        });
    if (!dropped) {
      return dropped.error();
    }
    drop_outcome out = std::move(*dropped);
    if (out.oid.empty()) {
      return out.response;
    }
    // DROP ROLE leaves live sessions running: end whatever still runs under
    // the old oid (e.g. a login that raced the NOLOGIN). Its own retry loop,
    // so a hiccup here does not re-run the (now idempotent) drop and lose the
    // oid.
    auto terminated = with_retries<int>(
        what + " (ending its sessions)", secrets,
        [&](pg_connection& c, const retry_state&) -> attempt_result<int> {
          auto batch = c.run_params(
              "SELECT count(*) FILTER (WHERE pg_catalog.pg_terminate_backend(pid)) "
              "FROM pg_catalog.pg_stat_activity "
              "WHERE usesysid = $1::oid AND pg_catalog.pg_has_role('pg_signal_backend', 'USAGE')",
              {out.oid});
          if (batch.failure) {
            if (classify(*batch.failure) != failure_class::permanent) {
              return *batch.failure;
            }
            return error{errc::database_error, "user dropped, but ending its sessions failed: " +
                                                   describe(*batch.failure)};
          }
          return to_int(cell(batch, 0));
        });
    if (!terminated) {
      return terminated.error();
    }
    out.response.sessions_terminated = *terminated;
    return out.response;
  }

  /// One transaction for the whole batch: every user's revocation
  /// statements, behind a check that every user exists (one regrole cast
  /// each, so a missing user fails the set at once), then one round trip that
  /// ends the dropped users' sessions and names any user still there. Users
  /// left in place, and every user when the shared transaction fails (a
  /// missing user, dependent objects, a lost connection), go through
  /// revoke_credentials one at a time: its fallback and retries, and it is
  /// idempotent, so a batch that did commit before a failure is harmless.
  std::vector<expected<revoke_user_response>> revoke_many(
      const std::vector<revoke_user_request>& reqs) override {
    if (reqs.size() < 2) {
      return engine::revoke_many(reqs);
    }
    std::vector<std::optional<revoke_user_response>> together = drop_together(reqs);
    std::vector<expected<revoke_user_response>> out;
    out.reserve(reqs.size());
    for (std::size_t i = 0; i < reqs.size(); ++i) {
      if (i < together.size() && together[i]) {
        out.emplace_back(std::move(*together[i]));
      } else {
        out.push_back(revoke_credentials(reqs[i]));
      }
    }
    return out;
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
    const std::string secret =
        role_.password_format == "plain"
            ? password
            : scram_sha256_verifier(password, std::max(1, role_.scram_iterations));
    const secret_set secrets{role_.password, password, secret};
    std::string step = "connect";
    auto result = with_retries<connection_test_report>(
        "testing the role", secrets,
        [&](pg_connection& c, const retry_state&) -> attempt_result<connection_test_report> {
          return test_once(c, req, secret, secrets, step);
        });
    if (!result) {
      report.failed_step = result.error().code == errc::unavailable ? "connect" : step;
      report.error = result.error().message;
      return report;
    }
    return std::move(*result);
  }

 private:
  struct drop_outcome {
    revoke_user_response response;
    /// Oid of the dropped user, to end its remaining sessions; empty when
    /// there is nothing to end (the user was already gone).
    std::string oid;
  };

  // -- connection --------------------------------------------------------------

  /// The open connection, reconnecting if needed; fails fast with the last
  /// connect error while inside the backoff window.
  expected<pg_connection*> connection() {
    if (conn_.healthy()) {
      return &conn_;
    }
    conn_.close();
    if (auto refusal = backoff_.refusal(); !refusal.empty()) {
      return error{errc::unavailable, std::move(refusal)};
    }
    return connect_now();
  }

  expected<pg_connection*> connect_now() {
    if (auto err = conn_.open(role_)) {
      const secret_set secrets{role_.password};
      backoff_.failed("cannot connect to database " + role_.database + " at " + role_.host + ":" +
                      std::to_string(role_.port) + " as " + role_.username + ": " +
                      secrets.redact(one_line(*err)));
      return error{errc::unavailable, backoff_.last_error()};
    }
    backoff_.succeeded();
    return &conn_;
  }

  // -- retries -----------------------------------------------------------------

  /// Runs `attempt` until it returns a value or a final error, retrying
  /// transient failures and reconnecting after lost connections. Every error
  /// message leaving here is redacted of `secrets` (core/redact.hpp).
  template <class T, class F>
  expected<T> with_retries(const std::string& what, const secret_set& secrets, F&& attempt) {
    retry_state st;
    pg_failure last;
    for (st.attempt = 1; st.attempt <= max_attempts; ++st.attempt) {
      if (st.attempt > 1) {
        sleeper_.sleep_before_retry(st.attempt - 1);
      }
      auto c = connection();
      if (!c) {
        return error{errc::unavailable, what + ": " + c.error().message};
      }
      attempt_result<T> r = attempt(**c, st);
      if (auto* v = std::get_if<0>(&r)) {
        return std::move(*v);
      }
      if (auto* e = std::get_if<error>(&r)) {
        return error{e->code, secrets.redact(what + ": " + e->message)};
      }
      last = std::get<pg_failure>(std::move(r));
      st.after_connection_loss = classify(last) == failure_class::connection;
      if (st.after_connection_loss) {
        conn_.close();  // the next attempt reconnects
      }
    }
    return error{errc::transient_database_error,
                 secrets.redact(what + ": still failing after " + std::to_string(max_attempts) +
                               " attempts: " + describe(last))};
  }

  // -- queries -----------------------------------------------------------------

  /// Oid of `username`, or nullopt when no such role exists.
  static attempt_result<std::optional<std::string>> user_oid(pg_connection& c,
                                                             const std::string& username) {
    auto batch = c.run_params("SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1", {username});
    if (batch.failure) {
      if (classify(*batch.failure) != failure_class::permanent) {
        return *batch.failure;
      }
      return error{errc::database_error, "looking up the user failed: " + describe(*batch.failure)};
    }
    return cell(batch, 0);
  }

  /// revoke_many's shared part. One entry per request: the response when the
  /// shared transaction removed that user; nullopt when it did not (still
  /// there, or nothing is known). Empty when the transaction failed.
  std::vector<std::optional<revoke_user_response>> drop_together(
      const std::vector<revoke_user_request>& reqs) {
    auto conn = connection();
    if (!conn) {
      return {};
    }
    pg_connection& c = **conn;
    std::string sql = "SELECT ";
    for (std::size_t i = 0; i < reqs.size(); ++i) {
      sql += (i == 0 ? "" : ", ") + c.quote_literal(c.quote_identifier(reqs[i].username)) +
             "::pg_catalog.regrole::pg_catalog.oid";
    }
    sql += ";\n";
    for (const auto& req : reqs) {
      sql += render(or_default(req.revocation_statements, default_revocation_statements),
                    {req.username, "", ""});
      sql += "\n;\n";
    }
    auto batch = run_set(c, sql);
    if (batch.failure) {
      if (classify(*batch.failure) == failure_class::connection) {
        conn_.close();
      }
      return {};
    }
    // The casts' row: one oid per user, in order.
    std::vector<std::string> oids(reqs.size());
    if (!batch.results.empty() && batch.results[0].rows.size() == 1 &&
        batch.results[0].rows[0].size() == reqs.size()) {
      for (std::size_t i = 0; i < reqs.size(); ++i) {
        oids[i] = batch.results[0].rows[0][i].value_or("");
      }
    }
    // After the commit: no login can start under these users any more, so
    // end what still runs, and find who the statements left in place.
    std::string oid_list;
    for (const auto& oid : oids) {
      if (!oid.empty()) {
        oid_list += (oid_list.empty() ? "" : ", ") + c.quote_literal(oid) + "::pg_catalog.oid";
      }
    }
    std::string name_list;
    for (const auto& req : reqs) {
      name_list += (name_list.empty() ? "" : ", ") + c.quote_literal(req.username);
    }
    const std::string after =
        "SELECT usesysid::pg_catalog.text, "
        "count(*) FILTER (WHERE pg_catalog.pg_terminate_backend(pid)) "
        "FROM pg_catalog.pg_stat_activity WHERE usesysid IN (" +
        (oid_list.empty() ? std::string{"NULL"} : oid_list) +
        ") AND pg_catalog.pg_has_role('pg_signal_backend', 'USAGE') GROUP BY usesysid;\n"
        "SELECT rolname::pg_catalog.text FROM pg_catalog.pg_roles WHERE rolname IN (" +
        name_list + ");";
    auto ended = with_retries<pg_batch>(
        "revoking " + std::to_string(reqs.size()) + " database users (ending their sessions)",
        secret_set{role_.password},
        [&](pg_connection& pc, const retry_state&) -> attempt_result<pg_batch> {
          auto b = pc.run(after);
          if (b.failure) {
            if (classify(*b.failure) != failure_class::permanent) {
              return *b.failure;
            }
            return error{errc::database_error, describe(*b.failure)};
          }
          return b;
        });
    std::vector<std::optional<revoke_user_response>> out(reqs.size());
    if (!ended || ended->results.size() != 2) {
      // Dropped, but their sessions may live on: one at a time ends them
      // (or reports why not).
      return out;
    }
    std::map<std::string, int, std::less<>> terminated;
    for (const auto& row : ended->results[0].rows) {
      if (row.size() == 2 && row[0]) {
        terminated[*row[0]] = to_int(row[1]);
      }
    }
    std::set<std::string, std::less<>> remaining;
    for (const auto& row : ended->results[1].rows) {
      if (!row.empty() && row[0]) {
        remaining.insert(*row[0]);
      }
    }
    for (std::size_t i = 0; i < reqs.size(); ++i) {
      if (oids[i].empty() || remaining.count(reqs[i].username) != 0) {
        continue;
      }
      revoke_user_response r;
      if (auto t = terminated.find(oids[i]); t != terminated.end()) {
        r.sessions_terminated = t->second;
      }
      out[i] = r;
    }
    return out;
  }

  /// One round trip: fail at once if the user is missing (the regrole cast
  /// raises 42704, so nothing else runs), then the revocation statements, then
  /// count what is left. Falls back to REASSIGN/DROP OWNED + DROP ROLE when the
  /// statements hit dependent objects or leave the user in place.
  attempt_result<drop_outcome> drop_once(pg_connection& c, const std::string& username,
                                         const std::string& statements) {
    const std::string ident = c.quote_identifier(username);
    const std::string literal = c.quote_literal(username);
    const std::string check_oid = "SELECT " + c.quote_literal(ident) +
                                  "::pg_catalog.regrole::pg_catalog.oid AS secrethub_oid;\n";
    const std::string sql = check_oid + statements +
                            "\n;\nSELECT count(*) AS secrethub_remaining FROM pg_catalog.pg_roles "
                            "WHERE rolname = " +
                            literal + ";";

    drop_outcome out;
    auto batch = run_set(c, sql);
    out.oid = cell(batch, 0).value_or("");
    bool needs_fallback = false;
    std::string why_fallback;
    if (batch.failure) {
      const pg_failure& f = *batch.failure;
      if (classify(f) != failure_class::permanent) {
        return f;
      }
      if (f.statement_index == 0) {
        if (f.sqlstate == "42704") {
          out.response.already_gone = true;
          out.oid.clear();
          return out;
        }
        return error{errc::database_error, "looking up the user failed: " + describe(f)};
      }
      auto exists = user_oid(c, username);
      if (auto* ef = std::get_if<pg_failure>(&exists)) {
        return *ef;
      }
      if (auto* e = std::get_if<error>(&exists)) {
        return *e;
      }
      if (!std::get<0>(exists)) {
        // Someone else dropped it meanwhile; still end sessions of the oid.
        out.response.already_gone = true;
        return out;
      }
      if (f.sqlstate != "2BP01") {
        return error{errc::database_error, failure_text("revocation", f.statement_index - 1, f) +
                                               "; the user still exists"};
      }
      needs_fallback = true;
      why_fallback = describe(f);
    } else {
      const std::size_t last = batch.results.empty() ? 0 : batch.results.size() - 1;
      if (!batch.results.empty() && batch.results[last].columns.size() == 1 &&
          batch.results[last].columns[0] == "secrethub_remaining" && cell(batch, last)) {
        needs_fallback = to_int(cell(batch, last)) != 0;
      } else {
        // The statements swallowed our check (e.g. an unterminated comment):
        // ask separately.
        auto exists = user_oid(c, username);
        if (auto* ef = std::get_if<pg_failure>(&exists)) {
          return *ef;
        }
        if (auto* e = std::get_if<error>(&exists)) {
          return *e;
        }
        needs_fallback = std::get<0>(exists).has_value();
      }
      why_fallback = "the revocation statements left the user in place";
    }
    if (!needs_fallback) {
      return out;
    }

    // The check first again: someone may have dropped the user meanwhile.
    auto fb = run_set(c, check_oid + fallback_drop_sql(c, username));
    if (fb.failure) {
      const pg_failure& f = *fb.failure;
      if (classify(f) != failure_class::permanent) {
        return f;
      }
      if (f.statement_index == 0 && f.sqlstate == "42704") {
        out.response.already_gone = true;
        return out;
      }
      auto exists = user_oid(c, username);
      if (auto* ef = std::get_if<pg_failure>(&exists)) {
        return *ef;
      }
      if (auto* e = std::get_if<error>(&exists)) {
        return *e;
      }
      if (std::get<0>(exists)) {
        return error{errc::database_error, "revocation failed (" + why_fallback +
                                               ") and so did the fallback (REASSIGN OWNED, "
                                               "DROP OWNED, DROP ROLE): " +
                                               describe(f)};
      }
    }
    out.response.used_fallback = true;
    return out;
  }

  /// The dry run of test_connection. `step` names the step in progress.
  attempt_result<connection_test_report> test_once(pg_connection& c, const test_request& req,
                                                   const std::string& secret,
                                                   const secret_set& secrets, std::string& step) {
    connection_test_report report;
    step = "privileges";
    auto priv = c.run(
        "SELECT rolsuper, rolcreaterole, pg_catalog.pg_has_role('pg_signal_backend', 'USAGE') "
        "FROM pg_catalog.pg_roles WHERE rolname = current_user");
    if (priv.failure) {
      if (classify(*priv.failure) != failure_class::permanent) {
        return *priv.failure;
      }
      report.failed_step = step;
      report.error = secrets.redact(describe(*priv.failure));
      return report;
    }
    const bool super = truthy(cell(priv, 0, 0, 0));
    const bool createrole = truthy(cell(priv, 0, 0, 1));
    const bool can_signal = truthy(cell(priv, 0, 0, 2));
    const std::string admin = c.quote_identifier(role_.username);
    if (!super && !createrole) {
      report.failed_step = step;
      report.error = "admin user " + admin +
                     " has neither CREATEROLE nor SUPERUSER, so it cannot create users; run: "
                     "ALTER ROLE " +
                     admin + " CREATEROLE;";
      return report;
    }
    if (!super && !can_signal) {
      report.warnings.push_back(
          "admin user " + admin +
          " is neither a superuser nor a member of pg_signal_backend, so it cannot end other "
          "users' sessions: sessions of revoked users would survive unless the revocation "
          "statements first make the admin a member of the user (the default revocation does, "
          "with GRANT \"{{username}}\" TO CURRENT_USER). Run: GRANT pg_signal_backend TO " +
          admin + ";");
    }
    if (grants_per_user_on_all_tables(req.creation_statements)) {
      report.warnings.push_back(
          "the creation statements grant privileges to each user directly ON ALL TABLES/"
          "SEQUENCES IN SCHEMA: every such grant adds an entry to every table's ACL, so "
          "PostgreSQL refuses further grants at about 2,435 live users (\"row is too big\"), "
          "concurrent GRANT ... ON ALL TABLES fails with \"tuple concurrently updated\", and "
          "DROP USER fails until the grants are dropped. Grant the privileges once to a group "
          "role and make each user a member: CREATE ROLE \"{{username}}\" WITH LOGIN PASSWORD "
          "'{{password}}' VALID UNTIL '{{expiration}}' IN ROLE <group>;");
    }

    const auto now = wall_clock::now();
    const std::string username = make_username("dryrun", now);
    const std::string created_until =
        database_expiration(now + std::chrono::seconds{std::max<int64_t>(role_.default_ttl, 1)});
    const std::string renewed_until = database_expiration(
        now + std::chrono::seconds{std::max<int64_t>(role_.default_ttl, 1) + 60});

    step = "creation";
    if (auto begin = c.run("BEGIN"); begin.failure) {
      if (classify(*begin.failure) != failure_class::permanent) {
        return *begin.failure;
      }
      report.failed_step = step;
      report.error = secrets.redact(describe(*begin.failure));
      return report;
    }
    // Everything below runs inside BEGIN … ROLLBACK: no trace is left.
    struct rollback_guard {
      pg_connection& c;
      ~rollback_guard() {
        if (c.healthy()) {
          c.run("ROLLBACK");
        }
      }
    } guard{c};

    struct step_def {
      const char* name;
      std::string_view statements;
      std::string_view expiration;
    };
    const std::array<step_def, 3> steps = {{
        {"creation", req.creation_statements, created_until},
        {"renewal", or_default(req.renewal_statements, default_renewal_statements),
         renewed_until},
        {"revocation", or_default(req.revocation_statements, default_revocation_statements), ""},
    }};
    for (const auto& s : steps) {
      step = s.name;
      const auto statements = split_statements(s.statements);
      if (statements.empty() && step == "creation") {
        report.failed_step = step;
        report.error = "the creation statements are empty";
        return report;
      }
      for (const auto& stmt : statements) {
        auto batch = c.run(render(stmt, {username, secret, s.expiration}));
        if (!batch.failure && !c.in_transaction()) {
          // The statement ended our BEGIN (COMMIT, ROLLBACK, END): what ran
          // so far may be committed. Remove the throwaway user, best effort.
          c.run(fallback_drop_sql(c, username));
          report.failed_step = step;
          report.failed_statement = stmt;
          report.error =
              "the statement ends the transaction; each statement set runs as one transaction, "
              "so remove COMMIT/ROLLBACK/BEGIN from the statements";
          return report;
        }
        if (!batch.failure) {
          continue;
        }
        const pg_failure& f = *batch.failure;
        if (classify(f) != failure_class::permanent) {
          return f;
        }
        report.failed_step = step;
        report.failed_statement = stmt;
        report.error = secrets.redact(describe(f));
        if (step == "revocation" && f.sqlstate == "2BP01") {
          report.error +=
              ". The revocation statements cannot drop a user that still holds privileges or "
              "owns objects. Leases of this role would still be revoked, by the engine's "
              "fallback (REASSIGN OWNED, DROP OWNED, DROP ROLE), but fix the statements: put "
              "REASSIGN OWNED BY \"{{username}}\" TO CURRENT_USER; DROP OWNED BY "
              "\"{{username}}\"; before dropping the user, leave them empty for the safe "
              "default, or use a group role";
        }
        return report;
      }
      if (step == "creation" || step == "revocation") {
        auto exists = c.run_params("SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = $1",
                                   {username});
        if (exists.failure) {
          if (classify(*exists.failure) != failure_class::permanent) {
            return *exists.failure;
          }
          report.failed_step = step;
          report.error = secrets.redact(describe(*exists.failure));
          return report;
        }
        const bool found = !exists.results.empty() && !exists.results[0].rows.empty();
        if (step == "creation" && !found) {
          report.failed_step = step;
          report.error =
              "the creation statements ran but did not create the user "
              "\"{{username}}\"";
          return report;
        }
        if (step == "creation" && !truthy(cell(exists, 0))) {
          report.warnings.push_back(
              "the created user cannot log in (NOLOGIN: CREATE ROLE defaults to it); add LOGIN "
              "or use CREATE USER");
        }
        if (step == "revocation" && found) {
          report.failed_step = step;
          report.error =
              "the revocation statements ran but left the user in place. Leases of this role "
              "would still be revoked, by the engine's fallback (REASSIGN OWNED, DROP OWNED, "
              "DROP ROLE), but fix the statements (e.g. end with DROP ROLE \"{{username}}\";)";
          return report;
        }
      }
    }
    report.ok = true;
    return report;
  }

  role_config role_;
  pg_connection conn_;
  retry_sleeper sleeper_;
  connect_backoff backoff_;
};

}  // namespace

std::unique_ptr<engine> make_engine(const role_config& role) {
  return std::make_unique<pg_engine>(role);
}

}  // namespace secrethub::engines::postgresql
