#pragma once

// An in-memory stand-in for a database, for actor unit tests only (never for
// integration tests). Registered as engine type "fake".

#include "engines/engine.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace secrethub::testing {

/// Shared, thread-safe state of the fake database.
class fake_database {
 public:
  bool has_user(const std::string& name) const;
  size_t user_count() const;
  /// The expiration last set for `name` (creation or renewal), "" if none.
  std::string expiration_of(const std::string& name) const;
  /// The revocation statements the last revoke of `name` ran with.
  std::string revoked_with(const std::string& name) const;

  /// While unreachable every operation fails with errc::unavailable.
  void set_reachable(bool reachable);
  /// The next `n` creations report that the username exists.
  void fail_next_creates_with_exists(int n);
  /// Drops a user behind the engine's back (e.g. an admin did it).
  void drop_user(const std::string& name);

  int creates() const;
  /// Puts a user in place directly, as one left behind by a crash.
  static void create_user_for_test(fake_database& db, const std::string& name);
  int renews() const;
  int revokes() const;
  /// Sizes of the revoke_many calls, in order (revoke_credentials alone is
  /// not one).
  std::vector<size_t> revoke_batches() const;

 private:
  friend class fake_engine;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> users_;  // name -> expiration
  std::map<std::string, std::string> revoked_with_;
  bool reachable_ = true;
  int exists_failures_ = 0;
  int creates_ = 0;
  int renews_ = 0;
  int revokes_ = 0;
  std::vector<size_t> revoke_batches_;
};

/// A registry holding "fake" (bound to `db`) and the builtin engines.
std::shared_ptr<engines::engine_registry> fake_engine_registry(std::shared_ptr<fake_database> db);

/// A valid role using the fake engine.
role_config fake_role(const std::string& name);

}  // namespace secrethub::testing
