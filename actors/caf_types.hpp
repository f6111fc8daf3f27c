#pragma once

// Atoms, message types and typed actor interfaces of the actor layer.
// Included only by actors/*.cpp and actor tests: CAF stays out of the public
// headers and out of core/ and engines/.

#include <secrethub/errc.hpp>
#include <secrethub/expected.hpp>
#include <secrethub/types.hpp>

#include "actors/lease_record.hpp"
#include "engines/engine.hpp"
#include "store/store.hpp"

#include <caf/error.hpp>
#include <caf/meta/omittable.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

#include <string>
#include <vector>

// -- stats events -------------------------------------------------------------

namespace secrethub {

/// What a lease tells the registry for its counters.
enum class lease_event_kind : uint8_t {
  renewed,
  renewal_failed,
  revoked,           ///< revoked on request
  expired_revoked,   ///< revoked by its expiry timer
  revocation_failed, ///< one failed attempt
  failing_started,   ///< entered revoke_failed
  failing_ended,     ///< left revoke_failed (revoked, or the lease died)
  issue_failed,      ///< a role could not issue credentials
  issued,            ///< a role issued credentials (latency only)
};

struct lease_event {
  lease_event_kind kind = lease_event_kind::renewed;
  double latency_ms = 0;
};

}  // namespace secrethub

CAF_ERROR_CODE_ENUM(secrethub::errc, "secrethub")

// -- type IDs and atoms ---------------------------------------------------------

CAF_BEGIN_TYPE_ID_BLOCK(secrethub, caf::first_custom_type_id)
  CAF_ADD_ATOM(secrethub, secrethub, issue_atom, "issue")
  CAF_ADD_ATOM(secrethub, secrethub, renew_atom, "renew")
  CAF_ADD_ATOM(secrethub, secrethub, revoke_atom, "revoke")
  CAF_ADD_ATOM(secrethub, secrethub, revoke_all_atom, "revoke_all")
  CAF_ADD_ATOM(secrethub, secrethub, lookup_atom, "lookup")
  CAF_ADD_ATOM(secrethub, secrethub, list_atom, "list")
  CAF_ADD_ATOM(secrethub, secrethub, stats_atom, "stats")
  CAF_ADD_ATOM(secrethub, secrethub, expire_atom, "expire")
  CAF_ADD_ATOM(secrethub, secrethub, retry_atom, "retry")
  CAF_ADD_ATOM(secrethub, secrethub, role_put_atom, "role_put")
  CAF_ADD_ATOM(secrethub, secrethub, role_get_atom, "role_get")
  CAF_ADD_ATOM(secrethub, secrethub, role_del_atom, "role_del")
  CAF_ADD_ATOM(secrethub, secrethub, role_list_atom, "role_list")
  CAF_ADD_ATOM(secrethub, secrethub, test_atom, "test")
  CAF_ADD_ATOM(secrethub, secrethub, lease_up_atom, "lease_up")
  CAF_ADD_ATOM(secrethub, secrethub, lease_down_atom, "lease_down")
  CAF_ADD_ATOM(secrethub, secrethub, event_atom, "event")
  CAF_ADD_ATOM(secrethub, secrethub, count_atom, "count")
  CAF_ADD_ATOM(secrethub, secrethub, db_create_atom, "db_create")
  CAF_ADD_ATOM(secrethub, secrethub, db_renew_atom, "db_renew")
  CAF_ADD_ATOM(secrethub, secrethub, db_revoke_atom, "db_revoke")
  CAF_ADD_ATOM(secrethub, secrethub, db_test_atom, "db_test")
  CAF_ADD_ATOM(secrethub, secrethub, commit_atom, "commit")
  CAF_ADD_ATOM(secrethub, secrethub, write_atom, "write")
  CAF_ADD_ATOM(secrethub, secrethub, restore_atom, "restore")
  CAF_ADD_ATOM(secrethub, secrethub, metrics_atom, "metrics")
  CAF_ADD_ATOM(secrethub, secrethub, pool_atom, "pool")
  CAF_ADD_ATOM(secrethub, secrethub, arm_atom, "arm")
  CAF_ADD_ATOM(secrethub, secrethub, wake_atom, "wake")
  CAF_ADD_ATOM(secrethub, secrethub, db_exists_atom, "db_exists")
  CAF_ADD_ATOM(secrethub, secrethub, db_revoke_many_atom, "db_revokes")
CAF_END_TYPE_ID_BLOCK(secrethub)

namespace secrethub {
/// Changes that ride one store transaction.
using store_batch = std::vector<store::change>;
/// Leases read back from the store, handed to their role for restore.
using lease_rows = std::vector<store::lease_row>;
/// Users revoked together (engine::revoke_many) and their outcomes, in order.
using revoke_requests = std::vector<engines::revoke_user_request>;
using revoke_outcomes = std::vector<expected<engines::revoke_user_response>>;
}  // namespace secrethub

// Opaque to CAF's serialization: only ever sent between local actors.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(secrethub::lease_record_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(secrethub::store_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(secrethub::lease_rows)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(secrethub::revoke_requests)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(secrethub::revoke_outcomes)

namespace secrethub {

// -- inspect overloads (printing and local messaging) ---------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, role_config& x) {
  return f(caf::meta::type_name("role_config"), x.name, x.engine, x.host, x.port,
           x.database, x.username, x.password, x.sslmode, x.connect_timeout,
           x.default_ttl, x.max_ttl, x.creation_statements, x.renewal_statements,
           x.revocation_statements, x.password_format, x.scram_iterations,
           x.password_length, x.pool_size, x.queue_limit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, role_view& x) {
  return f(caf::meta::type_name("role_view"), x.config, x.has_password,
           x.active_leases);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, role_write_result& x) {
  return f(caf::meta::type_name("role_write_result"), x.created, x.warnings);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connection_test_report& x) {
  return f(caf::meta::type_name("connection_test_report"), x.ok, x.failed_step,
           x.failed_statement, x.error, x.warnings);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_view& x) {
  return f(caf::meta::type_name("lease_view"), x.lease_id, x.role, x.username,
           x.issued_at, x.expires_at, x.ttl, x.renewable, x.state, x.last_error,
           x.revoke_attempts, x.revoked_with_fallback, x.metadata, x.owner);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, issue_request& x) {
  return f(caf::meta::type_name("issue_request"), x.role, x.ttl, x.metadata, x.owner);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, issued_lease& x) {
  // The password is deliberately hidden from CAF's printing.
  return f(caf::meta::type_name("issued_lease"), x.lease_id, x.username,
           caf::meta::omittable(), x.password, x.host, x.port, x.database,
           x.lease_duration, x.renewable, x.expires_at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, renewal_result& x) {
  return f(caf::meta::type_name("renewal_result"), x.lease_id, x.lease_duration,
           x.expires_at, x.renewable, x.capped);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, revoke_role_result& x) {
  return f(caf::meta::type_name("revoke_role_result"), x.revoked, x.failed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_filter& x) {
  return f(caf::meta::type_name("lease_filter"), x.role, x.owner, x.after, x.limit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_page& x) {
  return f(caf::meta::type_name("lease_page"), x.leases, x.next_after);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_stats& x) {
  return f(caf::meta::type_name("lease_stats"), x.active, x.created_total,
           x.renewed_total, x.renewal_failures_total, x.revoked_total,
           x.expired_total, x.revocation_failures_total, x.revoke_failing,
           x.issue_failures_total, x.creation_rate_per_s, x.renewal_success_rate,
           x.renewal_latency_p50_ms, x.renewal_latency_p95_ms,
           x.renewal_latency_p99_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, histogram& x) {
  return f(caf::meta::type_name("histogram"), x.counts, x.sum, x.count);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, role_metrics& x) {
  return f(caf::meta::type_name("role_metrics"), x.role, x.active, x.pool_in_use, x.pool_queued,
           x.pool_size);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, metrics_snapshot& x) {
  return f(caf::meta::type_name("metrics_snapshot"), x.stats, x.roles, x.issue_latency,
           x.renew_latency, x.revoke_latency, x.store_commit_latency);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_event& x) {
  return f(caf::meta::type_name("lease_event"), x.kind, x.latency_ms);
}

}  // namespace secrethub

namespace secrethub::engines {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, create_user_request& x) {
  return f(caf::meta::type_name("create_user_request"), x.username,
           caf::meta::omittable(), x.password, x.expiration, x.creation_statements);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, create_user_response& x) {
  return f(caf::meta::type_name("create_user_response"), x.host, x.port, x.database);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, renew_user_request& x) {
  return f(caf::meta::type_name("renew_user_request"), x.username, x.expiration,
           x.renewal_statements);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, renew_user_response&) {
  return f(caf::meta::type_name("renew_user_response"));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, revoke_user_request& x) {
  return f(caf::meta::type_name("revoke_user_request"), x.username,
           x.revocation_statements);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, revoke_user_response& x) {
  return f(caf::meta::type_name("revoke_user_response"), x.already_gone,
           x.used_fallback, x.sessions_terminated);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, test_request& x) {
  return f(caf::meta::type_name("test_request"), x.creation_statements,
           x.renewal_statements, x.revocation_statements);
}

}  // namespace secrethub::engines

// -- typed interfaces -----------------------------------------------------------

namespace secrethub {

/// The durable journal. Commits batches in order; concurrent commits ride one
/// store transaction (group commit). Replies once the batch is durable.
using journal_actor =
  caf::typed_actor<caf::replies_to<commit_atom, store_batch>::with<bool>,
                   /// Nobody waits: rides the next commit, or is written
                   /// after a short delay when none comes.
                   caf::reacts_to<write_atom, store_batch>,
                   caf::reacts_to<wake_atom, uint64_t>,
                   caf::replies_to<stats_atom>::with<histogram>>;

/// The one thread that talks to the store (it blocks).
using journal_writer_actor =
  caf::typed_actor<caf::replies_to<write_atom, store_batch>::with<bool>>;

/// One database connection in a role's pool. Runs detached: it blocks.
using db_worker_actor = caf::typed_actor<
  caf::replies_to<db_create_atom, engines::create_user_request>::with<
    engines::create_user_response>,
  caf::replies_to<db_renew_atom, engines::renew_user_request>::with<
    engines::renew_user_response>,
  caf::replies_to<db_revoke_atom, engines::revoke_user_request>::with<
    engines::revoke_user_response>,
  /// engine::revoke_many: revocations that queued up, in one go.
  caf::replies_to<db_revoke_many_atom, revoke_requests>::with<revoke_outcomes>,
  caf::replies_to<db_test_atom, engines::test_request>::with<connection_test_report>,
  /// engine::user_exists
  caf::replies_to<db_exists_atom, std::string>::with<bool>>;

/// One lease: its timers, renewal and revocation.
using lease_actor = caf::typed_actor<
  caf::replies_to<lookup_atom>::with<lease_view>,
  caf::replies_to<renew_atom, int64_t>::with<renewal_result>,
  /// Revokes now (idempotent while revoking). Replies with the final view,
  /// or an error after a failed attempt (the lease keeps retrying).
  caf::replies_to<revoke_atom>::with<lease_view>,
  caf::reacts_to<expire_atom, uint64_t>,
  caf::reacts_to<retry_atom, uint64_t>>;

/// One role: its config, its connection pool, its leases.
using role_actor = caf::typed_actor<
  caf::replies_to<issue_atom, issue_request>::with<issued_lease>,
  caf::replies_to<db_renew_atom, engines::renew_user_request>::with<
    engines::renew_user_response>,
  caf::replies_to<db_revoke_atom, engines::revoke_user_request>::with<
    engines::revoke_user_response>,
  caf::replies_to<db_exists_atom, std::string>::with<bool>,
  /// Replaces the config; existing leases keep their statements.
  caf::reacts_to<role_put_atom, role_config>,
  caf::replies_to<revoke_all_atom>::with<revoke_role_result>,
  caf::replies_to<count_atom>::with<uint64_t>,
  caf::replies_to<pool_atom>::with<role_metrics>,
  /// Restores stored leases of this role; replies with how many were taken.
  caf::replies_to<restore_atom, lease_rows>::with<uint64_t>,
  /// A lease's expiry alarm: at `due` (wall clock, nanoseconds since the
  /// epoch) the role sends `expire_atom(generation)` back to the sending
  /// lease actor, if it still lives. See role_state::expiries.
  caf::reacts_to<arm_atom, int64_t, uint64_t>,
  /// The role's own alarm clock (generation-marked like every timer here).
  caf::reacts_to<wake_atom, uint64_t>>;

/// Roles by name, leases by id, stats. The service facade talks only to it.
using registry_actor = caf::typed_actor<
  caf::replies_to<role_put_atom, role_config>::with<role_write_result>,
  caf::replies_to<role_get_atom, std::string>::with<role_view>,
  caf::replies_to<role_list_atom>::with<std::vector<role_view>>,
  caf::replies_to<role_del_atom, std::string, bool>::with<revoke_role_result>,
  caf::replies_to<test_atom, role_config>::with<connection_test_report>,
  caf::replies_to<issue_atom, issue_request>::with<issued_lease>,
  caf::replies_to<renew_atom, std::string, int64_t>::with<renewal_result>,
  caf::replies_to<revoke_atom, std::string>::with<lease_view>,
  caf::replies_to<revoke_all_atom, std::string>::with<revoke_role_result>,
  caf::replies_to<lookup_atom, std::string>::with<lease_view>,
  caf::replies_to<list_atom, lease_filter>::with<lease_page>,
  caf::replies_to<stats_atom>::with<lease_stats>,
  caf::replies_to<metrics_atom>::with<metrics_snapshot>,
  /// Start-up: roles from the store (passwords opened), then their leases.
  caf::replies_to<restore_atom, std::vector<role_config>>::with<uint64_t>,
  caf::replies_to<restore_atom, std::string, lease_rows>::with<uint64_t>,
  caf::reacts_to<lease_up_atom, std::string, std::string, std::string, lease_actor, bool>,
  caf::reacts_to<lease_down_atom, std::string, std::string>,
  caf::reacts_to<event_atom, lease_event>>;

// -- error conversion -------------------------------------------------------------

/// `e` as a CAF error in the "secrethub" category, message kept as context.
caf::error to_caf_error(const error& e);
caf::error make_caf_error(errc code, std::string message);

/// Any CAF error as ours: our category keeps code and message; CAF's own
/// errors (timeouts, dead receivers) map to timeout/shutting_down/internal.
error from_caf_error(const caf::error& e);

/// View of a lease record as lookup returns it, with ttl relative to `now`.
lease_view make_view(const lease_record& r, time_point now);

}  // namespace secrethub
