#include "core/redact.hpp"

#include <algorithm>

namespace secrethub {

namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool all_of_range(std::string_view text, char low, char high) {
  return std::all_of(text.begin(), text.end(), [=](char c) { return c >= low && c <= high; });
}

/// True when text[begin, end) has no letter or digit right before or after it.
bool stands_alone(std::string_view text, std::size_t begin, std::size_t end) {
  const bool open_left = begin == 0 || !is_alnum(text[begin - 1]);
  const bool open_right = end >= text.size() || !is_alnum(text[end]);
  return open_left && open_right;
}

/// Rule 3 of the header: the run msg[pos, pos + length), which equals
/// secret[start, start + length), is ordinary text.
bool is_ordinary_word(std::string_view msg, std::size_t pos, std::string_view secret,
                      std::size_t start, std::size_t length) {
  std::size_t first = 0;
  std::size_t last = length;  // one past
  while (first < last && !is_alnum(msg[pos + first])) {
    ++first;
  }
  while (last > first && !is_alnum(msg[pos + last - 1])) {
    --last;
  }
  const std::string_view word = msg.substr(pos + first, last - first);
  if (word.empty() || word.size() * 2 > secret.size()) {
    return false;
  }
  if (!all_of_range(word, 'a', 'z') && !all_of_range(word, 'A', 'Z')) {
    return false;  // digits, mixed case, or inner separators: not one word
  }
  return stands_alone(msg, pos + first, pos + last) &&
         stands_alone(secret, start + first, start + last);
}

/// The longest run from msg[pos] on that also occurs in `secret`, as far as
/// the rules care: length 0 when it is neither the whole secret nor at
/// least min_fragment_length long.
struct shared_run {
  std::size_t length = 0;
  bool ordinary = false;  ///< rule 3: an ordinary word, to be left alone
};

shared_run shared_run_at(std::string_view msg, std::size_t pos, std::string_view secret) {
  std::size_t best = 0;
  std::size_t best_start = 0;
  for (std::size_t start = 0; start < secret.size(); ++start) {
    std::size_t n = 0;
    while (pos + n < msg.size() && start + n < secret.size() && msg[pos + n] == secret[start + n]) {
      ++n;
    }
    if (n > best) {
      best = n;
      best_start = start;
    }
  }
  if (best == secret.size()) {
    return {best, false};
  }
  if (best < min_fragment_length) {
    return {};
  }
  return {best, is_ordinary_word(msg, pos, secret, best_start, best)};
}

}  // namespace

secret_set::secret_set(std::initializer_list<std::string_view> secrets) {
  for (const std::string_view s : secrets) {
    if (s.size() >= min_secret_length) {
      secrets_.emplace_back(s);
    }
  }
}

std::string secret_set::redact(std::string_view message) const {
  std::string out;
  out.reserve(message.size());
  // Per secret, where the last run judged an ordinary word ends: the runs
  // starting inside it ("uthentication" after "authentication") are pieces
  // of that word, unless they reach past it.
  std::vector<std::size_t> ordinary_until(secrets_.size(), 0);
  std::size_t i = 0;
  while (i < message.size()) {
    std::size_t longest = 0;
    for (std::size_t k = 0; k < secrets_.size(); ++k) {
      const shared_run run = shared_run_at(message, i, secrets_[k]);
      if (run.ordinary) {
        ordinary_until[k] = std::max(ordinary_until[k], i + run.length);
      } else if (i + run.length > ordinary_until[k]) {
        longest = std::max(longest, run.length);
      }
    }
    if (longest > 0) {
      out += redaction_marker;
      i += longest;
    } else {
      out += message[i];
      ++i;
    }
  }
  return out;
}

std::string redact_secrets(std::string_view message,
                           std::initializer_list<std::string_view> secrets) {
  return secret_set{secrets}.redact(message);
}

}  // namespace secrethub
