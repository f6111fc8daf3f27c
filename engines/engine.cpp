#include "engines/engine.hpp"

#include "engines/null/null_engine.hpp"
#include "engines/postgresql/pg_engine.hpp"
#include "engines/redis/redis_engine.hpp"

namespace secrethub::engines {

std::vector<expected<revoke_user_response>> engine::revoke_many(
    const std::vector<revoke_user_request>& reqs) {
  std::vector<expected<revoke_user_response>> out;
  out.reserve(reqs.size());
  for (const auto& req : reqs) {
    out.push_back(revoke_credentials(req));
  }
  return out;
}

std::shared_ptr<engine_registry> engine_registry::with_builtin_engines() {
  auto registry = std::make_shared<engine_registry>();
  registry->add("postgresql", &postgresql::make_engine);
  registry->add("redis", &redis::make_engine);
  registry->add("null", &null::make_engine);
  return registry;
}

void engine_registry::add(std::string type, engine_factory factory) {
  factories_.insert_or_assign(std::move(type), std::move(factory));
}

std::unique_ptr<engine> engine_registry::make(const role_config& role) const {
  auto i = factories_.find(role.engine);
  if (i == factories_.end() || !i->second) {
    return nullptr;
  }
  return i->second(role);
}

bool engine_registry::knows(std::string_view type) const {
  return factories_.find(type) != factories_.end();
}

}  // namespace secrethub::engines
