#pragma once

// The audit trail: one JSON line per request outcome that touches roles,
// leases or tokens, and per automatic event (expiry, revocation retries).
// Secrets never appear in clear: passwords and tokens are recorded only as
// HMAC-SHA256 under a per-installation key, so an auditor holding the key
// can check "was this the password handed out?" without the log revealing it.
//
// Writes are appended by one background thread that fsyncs once per batch
// (group commit). record() waits until its line is durable and reports a
// failure, so callers can fail closed, as Vault does; record_async() is for
// events nobody waits on. SIGHUP handling calls reopen() (logrotate).

#include <secrethub/expected.hpp>
#include <secrethub/types.hpp>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace secrethub::audit {

/// One audited outcome. Empty strings are left out of the line.
struct event {
  std::string request_id;
  /// Token accessor of the caller, "system" for automatic events, "" when
  /// unauthenticated.
  std::string actor;
  /// e.g. "issue", "renew", "revoke", "revoke-role", "expire", "role-write",
  /// "role-delete", "role-test", "token-create", "token-revoke", "lease-list".
  std::string operation;
  std::string role;
  std::string lease_id;
  std::string username;
  /// "ok" or "error".
  std::string result = "ok";
  std::string error;
  /// HTTP status of the answer, 0 for events without one.
  int status = 0;
  /// Secrets to record as HMACs: name → clear value (e.g. "password").
  /// The clear value never reaches the file.
  std::vector<std::pair<std::string, std::string>> secrets;
};

/// What a query selects; lines come back newest first.
struct query {
  std::optional<time_point> since;
  std::string lease_id;
  std::string role;
  std::string operation;
  /// Skip lines numbered >= before (paging backwards); 0: from the end.
  uint64_t before = 0;
  uint32_t limit = 100;
};

struct page {
  /// Parsed lines, newest first, each with its "seq" (line number from 1).
  std::vector<std::string> lines;
  /// Pass as `before` for the next (older) page; 0 when there is none.
  uint64_t next_before = 0;
};

class audit_log {
 public:
  /// Opens (creating, mode 0600) `path` for appending. `hmac_key` is the
  /// per-installation key. With `fail_closed`, record() reports write
  /// failures so the operation can be refused.
  static expected<std::unique_ptr<audit_log>> open(std::string path, std::string hmac_key,
                                                   bool fail_closed = true);
  ~audit_log();
  audit_log(const audit_log&) = delete;
  audit_log& operator=(const audit_log&) = delete;

  /// Appends `e` and waits until it is on disk. An error only when
  /// fail_closed and the write failed.
  expected<void> record(const event& e);
  /// Appends `e` without waiting (automatic events).
  void record_async(const event& e);
  /// Closes and reopens the file (after logrotate moved it).
  expected<void> reopen();

  /// Reads the file back with filters.
  expected<page> read(const query& q) const;

  /// HMAC-SHA256 of `value` under the key, as "hmac-sha256:<hex>".
  std::string hmac(std::string_view value) const;

  /// A new random key, base64.
  static std::string generate_key();

  bool fail_closed() const { return fail_closed_; }

 private:
  audit_log(std::string path, std::string key, bool fail_closed, int fd);
  std::string render(const event& e) const;
  void writer_loop();

  std::string path_;
  std::string key_;
  bool fail_closed_;
  int fd_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::deque<std::string> queue_;
  uint64_t enqueued_ = 0;  ///< lines handed to the writer
  uint64_t written_ = 0;   ///< lines durable (or failed) so far
  /// Line ranges [first, last] of recent batches that failed to write.
  std::vector<std::pair<uint64_t, uint64_t>> failures_;
  std::string last_error_;
  bool stop_ = false;
  std::thread writer_;
};

}  // namespace secrethub::audit
