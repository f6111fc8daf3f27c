#include "engines/null/null_engine.hpp"

namespace secrethub::engines::null {

namespace {

class null_engine final : public engine {
 public:
  explicit null_engine(const role_config& role)
      : host_(role.host), port_(role.port), database_(role.database) {}

  std::string_view type() const override { return "null"; }

  expected<create_user_response> generate_credentials(const create_user_request&) override {
    return create_user_response{host_, port_, database_};
  }

  expected<renew_user_response> renew_lease(const renew_user_request&) override {
    return renew_user_response{};
  }

  /// Every user "exists": creations always succeed and nothing is kept.
  expected<bool> user_exists(const std::string&) override { return true; }

  expected<revoke_user_response> revoke_credentials(const revoke_user_request&) override {
    return revoke_user_response{};
  }

  expected<connection_test_report> test_connection(const test_request&) override {
    connection_test_report report;
    report.ok = true;
    return report;
  }

 private:
  std::string host_;
  uint16_t port_;
  std::string database_;
};

}  // namespace

std::unique_ptr<engine> make_engine(const role_config& role) {
  return std::make_unique<null_engine>(role);
}

}  // namespace secrethub::engines::null
