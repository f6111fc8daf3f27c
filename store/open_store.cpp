#include "store/store.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <vector>

namespace secrethub::store {

namespace {

bool has_prefix_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = s[i];
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != prefix[i]) {
      return false;
    }
  }
  return true;
}

// Creates the missing parent directories of `file`, owner-only (0700): they
// hold the store and nothing else of ours.
expected<void> create_parents(const std::string& file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path parent = fs::path{file}.parent_path();
  if (parent.empty() || fs::exists(parent, ec)) {
    return {};
  }
  std::vector<fs::path> missing;
  for (fs::path p = parent; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) {
      break;
    }
  }
  for (auto i = missing.rbegin(); i != missing.rend(); ++i) {
    if (::mkdir(i->c_str(), 0700) != 0 && errno != EEXIST) {
      const int e = errno;
      return error{errc::unavailable, "sqlite store '" + file + "': cannot create directory '" +
                                          i->string() + "': " + std::strerror(e)};
    }
  }
  return {};
}

}  // namespace

expected<std::unique_ptr<store>> open_store(const std::string& location) {
  try {
    if (location.empty()) {
      return error{errc::invalid_argument, "store location is empty"};
    }
    if (has_prefix_nocase(location, "postgresql://") ||
        has_prefix_nocase(location, "postgres://")) {
      return open_postgresql_store(location);
    }
    if (auto r = create_parents(location); !r) {
      return r.error();
    }
    return open_sqlite_store(location);
  } catch (const std::exception& e) {
    // The location may be a URL with a password: not echoed here.
    return error{errc::internal, std::string{"opening the store: unexpected failure: "} + e.what()};
  }
}

}  // namespace secrethub::store
