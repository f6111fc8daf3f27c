#include "actors/pool.hpp"

#include <caf/local_actor.hpp>
#include <caf/spawn_options.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace secrethub {

namespace {

/// Calls `fn` on the worker's engine and turns its expected<T> into a reply.
template <class T, class Fn>
caf::result<T> with_engine(db_worker_state& st, Fn fn) {
  if (!st.engine) {
    return make_caf_error(errc::internal, "no engine of this type");
  }
  expected<T> x = fn(*st.engine);
  if (!x) {
    return to_caf_error(x.error());
  }
  return std::move(*x);
}

}  // namespace

db_worker_actor::behavior_type db_worker(
    db_worker_actor::stateful_pointer<db_worker_state> self, runtime_ptr rt,
    role_config role) {
  self->state.engine = rt->engines->make(role);
  return {
    [self](db_create_atom, const engines::create_user_request& req)
      -> caf::result<engines::create_user_response> {
      return with_engine<engines::create_user_response>(
        self->state, [&](engines::engine& e) { return e.generate_credentials(req); });
    },
    [self](db_renew_atom, const engines::renew_user_request& req)
      -> caf::result<engines::renew_user_response> {
      return with_engine<engines::renew_user_response>(
        self->state, [&](engines::engine& e) { return e.renew_lease(req); });
    },
    [self](db_revoke_atom, const engines::revoke_user_request& req)
      -> caf::result<engines::revoke_user_response> {
      return with_engine<engines::revoke_user_response>(
        self->state, [&](engines::engine& e) { return e.revoke_credentials(req); });
    },
    [self](db_revoke_many_atom, const revoke_requests& reqs) -> caf::result<revoke_outcomes> {
      if (!self->state.engine) {
        return make_caf_error(errc::internal, "no engine of this type");
      }
      return self->state.engine->revoke_many(reqs);
    },
    [self](db_exists_atom, const std::string& username) -> caf::result<bool> {
      return with_engine<bool>(self->state,
                               [&](engines::engine& e) { return e.user_exists(username); });
    },
    [self](db_test_atom, const engines::test_request& req)
      -> caf::result<connection_test_report> {
      return with_engine<connection_test_report>(
        self->state, [&](engines::engine& e) { return e.test_connection(req); });
    },
  };
}

db_worker_actor spawn_db_worker(caf::local_actor* parent, const runtime_ptr& rt,
                                const role_config& role) {
  if (rt->detached_workers) {
    return parent->spawn<caf::detached>(db_worker, rt, role);
  }
  return parent->spawn(db_worker, rt, role);
}

}  // namespace secrethub
