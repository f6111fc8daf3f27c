#include "engines/redis/acl_rules.hpp"

#include "core/sql_template.hpp"

#include <algorithm>
#include <cctype>

namespace secrethub::engines::redis {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string lowercase(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

/// Why `rule` (lowercased) is not for a role to write; empty when it is.
std::string forbidden_reason(std::string_view rule) {
  if (rule == "on" || rule == "off") {
    return "the engine enables the generated user itself";
  }
  if (rule == "nopass") {
    return "it would let anyone log in as the generated user without a password";
  }
  if (rule == "reset" || rule == "resetpass") {
    return "it would remove the generated password";
  }
  if (!rule.empty() && (rule[0] == '>' || rule[0] == '<' || rule[0] == '#' || rule[0] == '!')) {
    return "passwords are the engine's: it sets the generated one";
  }
  return {};
}

}  // namespace

std::vector<std::string> split_acl_rules(std::string_view rules) {
  std::vector<std::string> out;
  std::string current;
  int depth = 0;
  for (const char c : rules) {
    if (c == '(') {
      ++depth;
    } else if (c == ')' && depth > 0) {
      --depth;
    }
    if (is_space(c) && depth == 0) {
      if (!current.empty()) {
        out.push_back(std::move(current));
        current.clear();
      }
      continue;
    }
    current += c;
  }
  if (!current.empty()) {
    out.push_back(std::move(current));
  }
  return out;
}

std::vector<std::string> acl_rule_problems(std::string_view rules) {
  std::vector<std::string> problems;
  int depth = 0;
  bool unbalanced = false;
  for (const char c : rules) {
    if (c == '(') {
      unbalanced = unbalanced || depth > 0;  // Redis selectors do not nest
      ++depth;
    } else if (c == ')') {
      unbalanced = unbalanced || depth == 0;
      depth = std::max(0, depth - 1);
    }
  }
  if (unbalanced || depth != 0) {
    problems.emplace_back(
        "creation_statements: unbalanced or nested parentheses in the ACL rules (a selector is "
        "one level of \"( … )\", e.g. (~cache:* +get))");
  }
  if (has_placeholder(rules, "password")) {
    problems.emplace_back(
        "creation_statements: {{password}} is not allowed in Redis ACL rules; the engine sets "
        "the generated password itself");
  }
  if (has_placeholder(rules, "expiration")) {
    problems.emplace_back(
        "creation_statements: {{expiration}} is not allowed in Redis ACL rules; Redis users have "
        "no expiry, the lease removes the user when it ends");
  }
  for (const std::string& rule : split_acl_rules(rules)) {
    const std::string reason = forbidden_reason(lowercase(rule));
    if (!reason.empty()) {
      problems.push_back("creation_statements: the ACL rule '" +
                         (rule[0] == '>' || rule[0] == '<' || rule[0] == '#' || rule[0] == '!'
                              ? rule.substr(0, 1) + "…"
                              : rule) +
                         "' is not allowed: " + reason);
    }
  }
  return problems;
}

std::vector<std::string> acl_rule_warnings(std::string_view rules) {
  std::vector<std::string> risky;
  for (const std::string& rule : split_acl_rules(rules)) {
    // Inside a selector the same rules apply: look at each of its words.
    std::string inner = rule;
    if (!inner.empty() && inner.front() == '(') {
      inner = inner.substr(1, inner.size() >= 2 ? inner.size() - 2 : 0);
    }
    for (const std::string& word : split_acl_rules(inner)) {
      const std::string w = lowercase(word);
      if (w == "allcommands" || w == "+@all" || w == "+@admin" || w == "+@dangerous" ||
          w == "+acl" || starts_with(w, "+acl|") || w == "+config" || starts_with(w, "+config|") ||
          w == "+module" || starts_with(w, "+module|") || w == "+debug") {
        if (std::find(risky.begin(), risky.end(), word) == risky.end()) {
          risky.push_back(word);
        }
      }
    }
  }
  if (risky.empty()) {
    return {};
  }
  std::string list;
  for (const auto& r : risky) {
    list += (list.empty() ? "" : ", ") + r;
  }
  return {"the ACL rules let the generated user administer the server (" + list +
          "): it could create users of its own (ACL SETUSER) or change the configuration, and "
          "those outlive its lease. Grant only what clients need, e.g. ~analytics:* +@read"};
}

}  // namespace secrethub::engines::redis
