#include "audit/audit_log.hpp"

#include "core/time_format.hpp"

#include <nlohmann/json.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace secrethub::audit {

namespace {

using json = nlohmann::json;

std::string hex(const unsigned char* data, size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0xf];
  }
  return out;
}

int open_append(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

}  // namespace

expected<std::unique_ptr<audit_log>> audit_log::open(std::string path, std::string hmac_key,
                                                     bool fail_closed) {
  if (hmac_key.size() < 16) {
    return error{errc::invalid_argument, "the audit HMAC key is too short"};
  }
  int fd = open_append(path);
  if (fd < 0) {
    return error{errc::unavailable,
                 "cannot open the audit file '" + path + "': " + std::strerror(errno)};
  }
  return std::unique_ptr<audit_log>{
    new audit_log(std::move(path), std::move(hmac_key), fail_closed, fd)};
}

audit_log::audit_log(std::string path, std::string key, bool fail_closed, int fd)
    : path_(std::move(path)), key_(std::move(key)), fail_closed_(fail_closed), fd_(fd) {
  writer_ = std::thread{[this] { writer_loop(); }};
}

audit_log::~audit_log() {
  {
    std::lock_guard<std::mutex> g{mutex_};
    stop_ = true;
  }
  wake_.notify_all();
  writer_.join();
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::string audit_log::generate_key() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    std::abort();  // no randomness: nothing safe to do
  }
  unsigned char b64[64];
  int n = EVP_EncodeBlock(b64, raw, sizeof raw);
  return std::string{reinterpret_cast<char*>(b64), static_cast<size_t>(n)};
}

std::string audit_log::hmac(std::string_view value) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(value.data()), value.size(), mac, &len);
  return "hmac-sha256:" + hex(mac, len);
}

std::string audit_log::render(const event& e) const {
  json line = json::object();
  line["time"] = format_rfc3339(wall_clock::now());
  auto put = [&line](const char* key, const std::string& v) {
    if (!v.empty()) {
      line[key] = v;
    }
  };
  put("request_id", e.request_id);
  put("actor", e.actor);
  put("operation", e.operation);
  put("role", e.role);
  put("lease_id", e.lease_id);
  put("username", e.username);
  line["result"] = e.result;
  put("error", e.error);
  if (e.status != 0) {
    line["status"] = e.status;
  }
  for (auto& [name, clear] : e.secrets) {
    line[name + "_hmac"] = hmac(clear);
  }
  return line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

void audit_log::writer_loop() {
  std::unique_lock<std::mutex> lock{mutex_};
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_) {
      return;
    }
    std::string batch;
    uint64_t count = 0;
    while (!queue_.empty()) {
      batch += queue_.front();
      queue_.pop_front();
      ++count;
    }
    int fd = fd_;
    lock.unlock();
    // One write and one fsync for everything that queued up meanwhile.
    std::string err;
    size_t off = 0;
    while (off < batch.size()) {
      auto n = ::write(fd, batch.data() + off, batch.size() - off);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        err = std::strerror(errno);
        break;
      }
      off += static_cast<size_t>(n);
    }
    if (err.empty() && ::fsync(fd) != 0) {
      err = std::strerror(errno);
    }
    lock.lock();
    uint64_t first = written_ + 1;
    written_ += count;
    if (!err.empty()) {
      last_error_ = err;
      failures_.emplace_back(first, written_);
      if (failures_.size() > 64) {
        failures_.erase(failures_.begin());
      }
    }
    done_.notify_all();
  }
}

expected<void> audit_log::record(const event& e) {
  auto line = render(e);
  std::unique_lock<std::mutex> lock{mutex_};
  queue_.push_back(std::move(line));
  uint64_t mine = ++enqueued_;
  wake_.notify_one();
  done_.wait(lock, [this, mine] { return written_ >= mine; });
  for (auto& [first, last] : failures_) {
    if (mine >= first && mine <= last && fail_closed_) {
      return error{errc::unavailable, "the audit log cannot be written (" + last_error_ +
                                        "): the operation was refused"};
    }
  }
  return {};
}

void audit_log::record_async(const event& e) {
  auto line = render(e);
  std::lock_guard<std::mutex> g{mutex_};
  queue_.push_back(std::move(line));
  ++enqueued_;
  wake_.notify_one();
}

expected<void> audit_log::reopen() {
  int fd = open_append(path_);
  if (fd < 0) {
    return error{errc::unavailable,
                 "cannot reopen the audit file '" + path_ + "': " + std::strerror(errno)};
  }
  std::lock_guard<std::mutex> g{mutex_};
  // The writer reads fd_ under the lock per batch; the old one closes here.
  std::swap(fd_, fd);
  ::close(fd);
  return {};
}

expected<page> audit_log::read(const query& q) const {
  std::ifstream in{path_};
  if (!in) {
    return error{errc::unavailable, "cannot read the audit file '" + path_ + "'"};
  }
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) {
    all.push_back(std::move(line));
  }
  std::string since = q.since ? format_rfc3339(*q.since) : std::string{};
  page out;
  uint64_t start = q.before == 0 || q.before > all.size() ? all.size() : q.before - 1;
  auto limit = std::max<uint32_t>(1, std::min<uint32_t>(q.limit, 1000));
  for (uint64_t i = start; i > 0; --i) {
    auto parsed = json::parse(all[i - 1], nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      continue;
    }
    auto field = [&parsed](const char* key) {
      auto it = parsed.find(key);
      return it != parsed.end() && it->is_string() ? it->get<std::string>() : std::string{};
    };
    if (!since.empty() && field("time") < since) {
      break;  // lines are in time order: nothing older matches
    }
    if ((!q.lease_id.empty() && field("lease_id") != q.lease_id) ||
        (!q.role.empty() && field("role") != q.role) ||
        (!q.operation.empty() && field("operation") != q.operation)) {
      continue;
    }
    if (out.lines.size() == limit) {
      out.next_before = i + 1;
      break;
    }
    parsed["seq"] = i;
    out.lines.push_back(parsed.dump());
  }
  return out;
}

}  // namespace secrethub::audit
