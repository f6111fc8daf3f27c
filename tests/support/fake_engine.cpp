#include "tests/support/fake_engine.hpp"

namespace secrethub::testing {

bool fake_database::has_user(const std::string& name) const {
  std::lock_guard<std::mutex> g{mutex_};
  return users_.count(name) > 0;
}

size_t fake_database::user_count() const {
  std::lock_guard<std::mutex> g{mutex_};
  return users_.size();
}

std::string fake_database::expiration_of(const std::string& name) const {
  std::lock_guard<std::mutex> g{mutex_};
  auto i = users_.find(name);
  return i == users_.end() ? std::string{} : i->second;
}

std::string fake_database::revoked_with(const std::string& name) const {
  std::lock_guard<std::mutex> g{mutex_};
  auto i = revoked_with_.find(name);
  return i == revoked_with_.end() ? std::string{} : i->second;
}

void fake_database::set_reachable(bool reachable) {
  std::lock_guard<std::mutex> g{mutex_};
  reachable_ = reachable;
}

void fake_database::fail_next_creates_with_exists(int n) {
  std::lock_guard<std::mutex> g{mutex_};
  exists_failures_ = n;
}

void fake_database::drop_user(const std::string& name) {
  std::lock_guard<std::mutex> g{mutex_};
  users_.erase(name);
}

void fake_database::create_user_for_test(fake_database& db, const std::string& name) {
  std::lock_guard<std::mutex> g{db.mutex_};
  db.users_[name] = "restored";
}

int fake_database::creates() const {
  std::lock_guard<std::mutex> g{mutex_};
  return creates_;
}

int fake_database::renews() const {
  std::lock_guard<std::mutex> g{mutex_};
  return renews_;
}

std::vector<size_t> fake_database::revoke_batches() const {
  std::lock_guard<std::mutex> g{mutex_};
  return revoke_batches_;
}

int fake_database::revokes() const {
  std::lock_guard<std::mutex> g{mutex_};
  return revokes_;
}

class fake_engine final : public engines::engine {
 public:
  fake_engine(std::shared_ptr<fake_database> db, const role_config& role)
      : db_(std::move(db)), role_(role) {}

  std::string_view type() const override { return "fake"; }

  expected<engines::create_user_response> generate_credentials(
      const engines::create_user_request& req) override {
    std::lock_guard<std::mutex> g{db_->mutex_};
    if (!db_->reachable_) {
      return error{errc::unavailable, "fake database unreachable"};
    }
    if (db_->exists_failures_ > 0) {
      --db_->exists_failures_;
      return error{errc::already_exists, "role \"" + req.username + "\" already exists"};
    }
    if (db_->users_.count(req.username) > 0) {
      return error{errc::already_exists, "role \"" + req.username + "\" already exists"};
    }
    ++db_->creates_;
    db_->users_[req.username] = req.expiration;
    return engines::create_user_response{role_.host, role_.port, role_.database};
  }

  expected<engines::renew_user_response> renew_lease(
      const engines::renew_user_request& req) override {
    std::lock_guard<std::mutex> g{db_->mutex_};
    if (!db_->reachable_) {
      return error{errc::unavailable, "fake database unreachable"};
    }
    auto i = db_->users_.find(req.username);
    if (i == db_->users_.end()) {
      return error{errc::database_error, "role \"" + req.username + "\" does not exist"};
    }
    ++db_->renews_;
    i->second = req.expiration;
    return engines::renew_user_response{};
  }

  expected<bool> user_exists(const std::string& username) override {
    std::lock_guard<std::mutex> g{db_->mutex_};
    if (!db_->reachable_) {
      return error{errc::unavailable, "fake database unreachable"};
    }
    return db_->users_.count(username) > 0;
  }

  expected<engines::revoke_user_response> revoke_credentials(
      const engines::revoke_user_request& req) override {
    std::lock_guard<std::mutex> g{db_->mutex_};
    if (!db_->reachable_) {
      return error{errc::unavailable, "fake database unreachable"};
    }
    ++db_->revokes_;
    engines::revoke_user_response resp;
    resp.already_gone = db_->users_.erase(req.username) == 0;
    db_->revoked_with_[req.username] = req.revocation_statements;
    return resp;
  }

  std::vector<expected<engines::revoke_user_response>> revoke_many(
      const std::vector<engines::revoke_user_request>& reqs) override {
    {
      std::lock_guard<std::mutex> g{db_->mutex_};
      db_->revoke_batches_.push_back(reqs.size());
    }
    return engine::revoke_many(reqs);
  }

  expected<connection_test_report> test_connection(const engines::test_request&) override {
    std::lock_guard<std::mutex> g{db_->mutex_};
    connection_test_report report;
    report.ok = db_->reachable_;
    if (!report.ok) {
      report.failed_step = "connect";
      report.error = "fake database unreachable";
    }
    return report;
  }

 private:
  std::shared_ptr<fake_database> db_;
  role_config role_;
};

std::shared_ptr<engines::engine_registry> fake_engine_registry(std::shared_ptr<fake_database> db) {
  auto reg = engines::engine_registry::with_builtin_engines();
  reg->add("fake", [db](const role_config& role) -> std::unique_ptr<engines::engine> {
    return std::make_unique<fake_engine>(db, role);
  });
  return reg;
}

role_config fake_role(const std::string& name) {
  role_config r;
  r.name = name;
  r.engine = "fake";
  r.host = "db.example";
  r.port = 5432;
  r.database = "app";
  r.username = "admin";
  r.password = "admin-secret";
  r.creation_statements = "CREATE ROLE \"{{username}}\" LOGIN PASSWORD '{{password}}' "
                          "VALID UNTIL '{{expiration}}' IN ROLE readers;";
  r.revocation_statements = "DROP ROLE \"{{username}}\";";
  r.default_ttl = 60;
  r.max_ttl = 300;
  r.pool_size = 2;
  return r;
}

}  // namespace secrethub::testing
