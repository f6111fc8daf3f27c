#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace secrethub {

/// Values substituted into statement templates.
struct template_values {
  std::string_view username;
  std::string_view password;    ///< clear password or SCRAM verifier
  std::string_view expiration;  ///< ISO 8601 with offset
};

/// Every `{{…}}` token in `text` that is not exactly {{username}},
/// {{password}} or {{expiration}}, in order of appearance, without
/// duplicates, spelled as written (e.g. "{{user}}", "{{ username }}").
std::vector<std::string> unknown_placeholders(std::string_view text);

/// True when `text` contains the placeholder `{{name}}`.
bool has_placeholder(std::string_view text, std::string_view name);

/// `text` with every known placeholder replaced. Unknown tokens are left as
/// they are (validation rejects them before this is ever called).
std::string render(std::string_view text, const template_values& values);

/// Splits SQL text into statements at top-level semicolons. Respects
/// 'string literals' (with '' escapes and E'' backslash escapes),
/// "quoted identifiers", $tag$dollar quotes$tag$, -- line comments and
/// /* nested block comments */. Returns trimmed statements without the
/// terminating semicolon; statements that are empty or only comments are
/// dropped.
std::vector<std::string> split_statements(std::string_view sql);

/// True when `creation_statements` grant privileges directly to the user on
/// ALL TABLES / ALL SEQUENCES IN SCHEMA (the guide's pattern that stops at
/// ~2,435 live users and conflicts under concurrency). Case-insensitive.
bool grants_per_user_on_all_tables(std::string_view creation_statements);

}  // namespace secrethub
