#include "core/sql_template.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace secrethub {

namespace {

constexpr std::string_view username_token = "{{username}}";
constexpr std::string_view password_token = "{{password}}";
constexpr std::string_view expiration_token = "{{expiration}}";

bool is_known_token(std::string_view token) {
  return token == username_token || token == password_token || token == expiration_token;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/// Characters that may continue an unquoted SQL identifier (PostgreSQL also
/// allows '$' and any non-ASCII byte).
bool is_identifier_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
         || c == '$' || u >= 0x80;
}

/// Characters that may start a dollar-quote tag (not a digit, so `$1` stays a
/// parameter).
bool is_tag_start_char(char c) {
  return is_identifier_char(c) && c != '$' && !(c >= '0' && c <= '9');
}

char to_upper_ascii(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

/// Position of `needle` in `haystack` at or after `from`, ignoring ASCII case.
std::size_t find_ignoring_case(std::string_view haystack, std::string_view needle,
                               std::size_t from = 0) {
  if (needle.size() > haystack.size()) {
    return std::string_view::npos;
  }
  for (std::size_t i = from; i + needle.size() <= haystack.size(); ++i) {
    bool match = true;
    for (std::size_t k = 0; k < needle.size(); ++k) {
      if (to_upper_ascii(haystack[i + k]) != to_upper_ascii(needle[k])) {
        match = false;
        break;
      }
    }
    if (match) {
      return i;
    }
  }
  return std::string_view::npos;
}

/// A lexical walk over SQL text that knows where quotes and comments are.
/// `on_code` gets every byte range that is code (including quoted literals),
/// `on_comment` every comment, `on_semicolon` every top-level ';'.
/// Unterminated quotes and block comments run to the end of the text and are
/// reported as code, so the database, not we, rejects them.
template <class OnCode, class OnComment, class OnSemicolon>
void scan_sql(std::string_view sql, OnCode on_code, OnComment on_comment,
              OnSemicolon on_semicolon) {
  const std::size_t n = sql.size();
  auto at = [&](std::size_t i) { return i < n ? sql[i] : '\0'; };
  std::size_t i = 0;
  while (i < n) {
    const char c = sql[i];
    if (c == ';') {
      on_semicolon(i);
      ++i;
    } else if (c == '-' && at(i + 1) == '-') {
      const std::size_t end = std::min(sql.find('\n', i), n);
      on_comment(i, end);
      i = end;
    } else if (c == '/' && at(i + 1) == '*') {
      std::size_t j = i + 2;
      int depth = 1;
      while (j < n && depth > 0) {
        if (sql[j] == '/' && at(j + 1) == '*') {
          ++depth;
          j += 2;
        } else if (sql[j] == '*' && at(j + 1) == '/') {
          --depth;
          j += 2;
        } else {
          ++j;
        }
      }
      if (depth == 0) {
        on_comment(i, j);
      } else {
        on_code(i, n);
      }
      i = j;
    } else if (c == '\'' || c == '"') {
      // E'…' (not preceded by an identifier) also honours backslash escapes.
      const bool backslash_escapes = c == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e')
                                     && (i < 2 || !is_identifier_char(sql[i - 2]));
      std::size_t j = i + 1;
      while (j < n) {
        if (backslash_escapes && sql[j] == '\\') {
          j += 2;
        } else if (sql[j] == c && at(j + 1) == c) {
          j += 2;  // doubled quote: an escaped quote character
        } else if (sql[j] == c) {
          ++j;
          break;
        } else {
          ++j;
        }
      }
      j = std::min(j, n);
      on_code(i, j);
      i = j;
    } else if (c == '$' && (i == 0 || !is_identifier_char(sql[i - 1]))) {
      std::size_t j = i + 1;
      if (j < n && is_tag_start_char(sql[j])) {
        while (j < n && is_identifier_char(sql[j]) && sql[j] != '$') {
          ++j;
        }
      }
      if (at(j) == '$') {
        const std::string_view delimiter = sql.substr(i, j - i + 1);
        const std::size_t close = sql.find(delimiter, j + 1);
        const std::size_t end = close == std::string_view::npos ? n : close + delimiter.size();
        on_code(i, end);
        i = end;
      } else {
        on_code(i, i + 1);  // `$1` parameter or a lone '$'
        ++i;
      }
    } else {
      if (!is_space(c)) {
        on_code(i, i + 1);
      }
      ++i;
    }
  }
}

/// The statement text with every comment and whitespace run replaced by one
/// space: what keyword matching looks at.
std::string normalize_for_matching(std::string_view statement) {
  std::string out;
  std::size_t copied_to = 0;
  auto append_gap = [&] {
    if (!out.empty() && out.back() != ' ') {
      out += ' ';
    }
  };
  scan_sql(
      statement,
      [&](std::size_t begin, std::size_t end) {
        if (begin > copied_to) {
          append_gap();  // whitespace between code ranges
        }
        out.append(statement.substr(begin, end - begin));
        copied_to = end;
      },
      [&](std::size_t, std::size_t end) {
        append_gap();
        copied_to = end;
      },
      [&](std::size_t pos) {
        if (pos > copied_to) {
          append_gap();
        }
        out += ';';
        copied_to = pos + 1;
      });
  return out;
}

bool grants_on_all_objects_to_user(std::string_view statement) {
  const std::string text = normalize_for_matching(statement);
  if (find_ignoring_case(text, "GRANT ") != 0) {
    return false;
  }
  for (std::string_view objects : {" ON ALL TABLES IN SCHEMA ", " ON ALL SEQUENCES IN SCHEMA "}) {
    const std::size_t on = find_ignoring_case(text, objects);
    if (on == std::string::npos) {
      continue;
    }
    const std::size_t to = find_ignoring_case(text, " TO ", on + objects.size() - 1);
    if (to != std::string::npos && text.find(username_token, to) != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::vector<std::string> unknown_placeholders(std::string_view text) {
  std::vector<std::string> unknown;
  std::size_t open = text.find("{{");
  while (open != std::string_view::npos) {
    const std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      break;
    }
    // "{{ {{username}}": the token is the innermost opening before "}}".
    const std::size_t inner = text.find("{{", open + 2);
    if (inner != std::string_view::npos && inner < close) {
      open = inner;
      continue;
    }
    const std::string_view token = text.substr(open, close + 2 - open);
    if (!is_known_token(token)
        && std::find(unknown.begin(), unknown.end(), token) == unknown.end()) {
      unknown.emplace_back(token);
    }
    open = text.find("{{", close + 2);
  }
  return unknown;
}

bool has_placeholder(std::string_view text, std::string_view name) {
  std::string token;
  token.reserve(name.size() + 4);
  token += "{{";
  token += name;
  token += "}}";
  return text.find(token) != std::string_view::npos;
}

std::string render(std::string_view text, const template_values& values) {
  const std::array<std::pair<std::string_view, std::string_view>, 3> substitutions{{
      {username_token, values.username},
      {password_token, values.password},
      {expiration_token, values.expiration},
  }};
  std::string out;
  out.reserve(text.size() + values.password.size());
  std::size_t i = 0;
  // One left-to-right pass: substituted values are never scanned again.
  while (i < text.size()) {
    bool replaced = false;
    if (text[i] == '{') {
      for (const auto& [token, value] : substitutions) {
        if (text.substr(i, token.size()) == token) {
          out += value;
          i += token.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) {
      out += text[i];
      ++i;
    }
  }
  return out;
}

std::vector<std::string> split_statements(std::string_view sql) {
  std::vector<std::string> statements;
  // A statement runs from its first to its last code byte, so comments and
  // whitespace around it are trimmed and a trailing `--` comment can never
  // swallow whatever a caller appends.
  std::size_t first_code = std::string_view::npos;
  std::size_t end_code = 0;
  auto finish_statement = [&] {
    if (first_code != std::string_view::npos) {
      statements.emplace_back(sql.substr(first_code, end_code - first_code));
    }
    first_code = std::string_view::npos;
  };
  scan_sql(
      sql,
      [&](std::size_t begin, std::size_t end) {
        if (first_code == std::string_view::npos) {
          first_code = begin;
        }
        end_code = end;
      },
      [](std::size_t, std::size_t) {}, [&](std::size_t) { finish_statement(); });
  finish_statement();
  return statements;
}

bool grants_per_user_on_all_tables(std::string_view creation_statements) {
  const std::vector<std::string> statements = split_statements(creation_statements);
  return std::any_of(statements.begin(), statements.end(),
                     [](const std::string& s) { return grants_on_all_objects_to_user(s); });
}

}  // namespace secrethub
