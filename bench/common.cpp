#include "bench/common.hpp"

#include <libpq-fe.h>
#include <malloc.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace secrethub::bench {

double seconds_since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

// -- console ------------------------------------------------------------------

namespace {

std::mutex console_mutex;
// The progress line currently on screen ("" when none), redrawn after a note.
std::string shown_progress;

void clear_line_locked() {
  if (!shown_progress.empty()) {
    std::fputs("\r\033[K", stderr);
  }
}

}  // namespace

bool stderr_is_tty() {
  static const bool tty = ::isatty(STDERR_FILENO) == 1;
  return tty;
}

void note(const std::string& line) {
  std::lock_guard<std::mutex> guard{console_mutex};
  clear_line_locked();
  std::fprintf(stderr, "%s\n", line.c_str());
  if (!shown_progress.empty()) {
    std::fputs(shown_progress.c_str(), stderr);
  }
  std::fflush(stderr);
}

progress::progress(std::string label, uint64_t total)
    : label_(std::move(label)), total_(total), started_(steady::now()), active_(stderr_is_tty()) {}

progress::~progress() {
  finish();
}

void progress::update(uint64_t done) {
  if (!active_) {
    return;
  }
  const auto now = steady::now();
  if (now - last_draw_ < std::chrono::milliseconds{100} && done < total_) {
    return;
  }
  last_draw_ = now;
  const double secs = std::chrono::duration<double>(now - started_).count();
  const double pct = total_ == 0 ? 100.0 : 100.0 * static_cast<double>(done) /
                                               static_cast<double>(total_);
  char buf[256];
  std::snprintf(buf, sizeof buf, "\r\033[K%s: %llu/%llu (%.0f%%) %.1f s", label_.c_str(),
                static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
                pct, secs);
  std::lock_guard<std::mutex> guard{console_mutex};
  shown_progress = buf;
  std::fputs(buf, stderr);
  std::fflush(stderr);
}

void progress::finish() {
  if (!active_) {
    return;
  }
  active_ = false;
  std::lock_guard<std::mutex> guard{console_mutex};
  clear_line_locked();
  shown_progress.clear();
  std::fflush(stderr);
}

// -- measurements ---------------------------------------------------------------

namespace {

uint64_t status_kb(std::string_view field) {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0 && line.size() > field.size() && line[field.size()] == ':') {
      return std::strtoull(line.c_str() + field.size() + 1, nullptr, 10);
    }
  }
  return 0;
}

}  // namespace

uint64_t rss_bytes() {
  return status_kb("VmRSS") * 1024;
}

uint64_t peak_rss_bytes() {
  return status_kb("VmHWM") * 1024;
}

void trim_heap() {
  ::malloc_trim(0);
}

latency_summary summarize(std::vector<double>& samples_ms) {
  latency_summary out;
  if (samples_ms.empty()) {
    return out;
  }
  std::sort(samples_ms.begin(), samples_ms.end());
  // Nearest rank: the smallest sample with at least q of all at or below it.
  auto rank = [&](double q) {
    const auto n = samples_ms.size();
    auto i = static_cast<size_t>(std::ceil(q * static_cast<double>(n)));
    return samples_ms[std::clamp<size_t>(i, 1, n) - 1];
  };
  out.p50_ms = rank(0.50);
  out.p95_ms = rank(0.95);
  out.p99_ms = rank(0.99);
  out.max_ms = samples_ms.back();
  return out;
}

// -- reports --------------------------------------------------------------------

void variant_result::add(std::string label, std::string key, double value, int decimals) {
  metrics.push_back(metric{std::move(label), std::move(key), value, decimals});
}

std::string format_number(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  // Thousands separators: 100,000 reads faster than 100000. Built by
  // appending (GCC 12 misreports string::insert here, -Wrestrict).
  const std::string_view s{buf};
  const auto dot = s.find('.');
  const size_t int_end = dot == std::string_view::npos ? s.size() : dot;
  const size_t first_digit = (!s.empty() && s[0] == '-') ? 1 : 0;
  std::string out{s.substr(0, first_digit)};
  for (size_t i = first_digit; i < int_end; ++i) {
    if (i > first_digit && (int_end - i) % 3 == 0) {
      out += ',';
    }
    out += s[i];
  }
  out += s.substr(int_end);
  return out;
}

namespace {

std::string cpu_model() {
  std::ifstream in{"/proc/cpuinfo"};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        auto v = line.substr(colon + 1);
        v.erase(0, v.find_first_not_of(' '));
        return v;
      }
    }
  }
  return "unknown";
}

nlohmann::json machine_json() {
  nlohmann::json m;
  m["cpus"] = std::thread::hardware_concurrency();
  m["cpu_model"] = cpu_model();
  struct utsname u {};
  if (::uname(&u) == 0) {
    m["kernel"] = std::string{u.sysname} + " " + u.release;
  }
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page_size > 0) {
    m["memory_bytes"] = static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
  }
  return m;
}

}  // namespace

void print_table(const report& r) {
  // Rows in the order the first variant that has them lists them.
  std::vector<std::string> labels;
  for (const auto& v : r.variants) {
    for (const auto& m : v.metrics) {
      if (std::find(labels.begin(), labels.end(), m.label) == labels.end()) {
        labels.push_back(m.label);
      }
    }
  }
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header{"metric"};
  for (const auto& v : r.variants) {
    header.push_back(v.ok ? v.name : v.name + " (INCOMPLETE)");
  }
  rows.push_back(header);
  for (const auto& label : labels) {
    std::vector<std::string> row{label};
    for (const auto& v : r.variants) {
      auto i = std::find_if(v.metrics.begin(), v.metrics.end(),
                            [&](const metric& m) { return m.label == label; });
      row.push_back(i == v.metrics.end() ? "–" : format_number(i->value, i->decimals));
    }
    rows.push_back(std::move(row));
  }
  // Display width in code points: labels may hold "≥" or "µ".
  auto width = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) {
      n += (c & 0xC0) != 0x80 ? 1 : 0;
    }
    return n;
  };
  std::vector<size_t> widths(header.size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], width(row[c]));
    }
  }
  std::printf("\n### %s\n\n", r.title.c_str());
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string line = "|";
    for (size_t c = 0; c < rows[i].size(); ++c) {
      const auto pad = std::string(widths[c] - width(rows[i][c]), ' ');
      // Numbers right-aligned, labels left-aligned.
      line += " " + (c == 0 ? rows[i][c] + pad : pad + rows[i][c]) + " |";
    }
    std::printf("%s\n", line.c_str());
    if (i == 0) {
      line = "|";
      for (size_t c = 0; c < widths.size(); ++c) {
        line += (c == 0 ? " :" : " ") + std::string(widths[c] - 1, '-') + (c == 0 ? " |" : ": |");
      }
      std::printf("%s\n", line.c_str());
    }
  }
  for (const auto& v : r.variants) {
    for (const auto& n : v.notes) {
      std::printf("\n- %s: %s", v.name.c_str(), n.c_str());
    }
  }
  std::printf("\n");
  std::fflush(stdout);
}

nlohmann::json to_json(const report& r) {
  nlohmann::json j;
  j["scenario"] = r.scenario;
  j["title"] = r.title;
  j["machine"] = machine_json();
  j["variants"] = nlohmann::json::array();
  for (const auto& v : r.variants) {
    nlohmann::json jv;
    jv["name"] = v.name;
    jv["ok"] = v.ok;
    jv["params"] = v.params;
    nlohmann::json results = nlohmann::json::object();
    for (const auto& m : v.metrics) {
      results[m.key] = m.value;
    }
    jv["results"] = std::move(results);
    jv["notes"] = v.notes;
    j["variants"].push_back(std::move(jv));
  }
  return j;
}

expected<void> write_json(const std::string& path, const std::vector<report>& reports) {
  nlohmann::json j;
  if (reports.size() == 1) {
    j = to_json(reports.front());
  } else {
    j = nlohmann::json::array();
    for (const auto& r : reports) {
      j.push_back(to_json(r));
    }
  }
  std::string text;
  try {
    text = j.dump(2);
  } catch (const nlohmann::json::exception& e) {
    return error{errc::internal, std::string{"JSON: "} + e.what()};
  }
  std::ofstream out{path, std::ios::trunc};
  out << text << "\n";
  out.flush();
  if (!out) {
    return error{errc::unavailable, "cannot write " + path};
  }
  return {};
}

namespace {

nlohmann::json variant_to_json(const variant_result& v) {
  nlohmann::json j;
  j["name"] = v.name;
  j["ok"] = v.ok;
  j["params"] = v.params;
  j["notes"] = v.notes;
  j["metrics"] = nlohmann::json::array();
  for (const auto& m : v.metrics) {
    j["metrics"].push_back({{"label", m.label}, {"key", m.key}, {"value", m.value},
                            {"decimals", m.decimals}});
  }
  return j;
}

variant_result variant_from_json(const nlohmann::json& j) {
  variant_result v;
  v.name = j.at("name").get<std::string>();
  v.ok = j.at("ok").get<bool>();
  v.params = j.at("params");
  v.notes = j.at("notes").get<std::vector<std::string>>();
  for (const auto& m : j.at("metrics")) {
    v.metrics.push_back(metric{m.at("label").get<std::string>(), m.at("key").get<std::string>(),
                               m.at("value").get<double>(), m.at("decimals").get<int>()});
  }
  return v;
}

variant_result failed_variant(const std::string& name, const std::string& why) {
  variant_result v;
  v.name = name;
  v.ok = false;
  v.notes.push_back(why);
  note(name + ": " + why);
  return v;
}

}  // namespace

variant_result run_isolated(const std::string& name, const std::function<variant_result()>& fn) {
  // Profilers that preload into the process (heaptrack) see only the parent:
  // SECRETHUB_BENCH_NO_FORK=1 runs the variant here instead.
  if (const char* no_fork = std::getenv("SECRETHUB_BENCH_NO_FORK");
      no_fork != nullptr && std::string_view{no_fork} == "1") {
    return fn();
  }
  int fds[2];
  if (::pipe(fds) != 0) {
    note(name + ": no pipe, running in this process (RSS figures may carry earlier variants)");
    return fn();
  }
  std::fflush(nullptr);  // nothing buffered may be written twice
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    note(name + ": no fork, running in this process (RSS figures may carry earlier variants)");
    return fn();
  }
  if (child == 0) {
    ::close(fds[0]);
    int code = 0;
    try {
      const std::string text = variant_to_json(fn()).dump();
      for (size_t off = 0; off < text.size();) {
        const auto n = ::write(fds[1], text.data() + off, text.size() - off);
        if (n <= 0) {
          code = 3;
          break;
        }
        off += static_cast<size_t>(n);
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "secrethub-bench: %s: unexpected failure: %s\n", name.c_str(),
                   e.what());
      code = 2;
    } catch (...) {
      code = 2;
    }
    ::close(fds[1]);
    std::fflush(nullptr);
    // _exit: the parent's atexit handlers and static destructors are not ours
    // to run.
    ::_exit(code);
  }
  ::close(fds[1]);
  std::string text;
  char buf[4096];
  for (;;) {
    const auto n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    return failed_variant(name, "the run crashed (signal " + std::to_string(WTERMSIG(status)) + ")");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || text.empty()) {
    return failed_variant(name, "the run failed (exit status " +
                                  std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                                  ")");
  }
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return failed_variant(name, "the run's result could not be read");
  }
  try {
    return variant_from_json(j);
  } catch (const nlohmann::json::exception&) {
    return failed_variant(name, "the run's result could not be read");
  }
}

// -- where stores live ------------------------------------------------------------

std::string random_suffix() {
  unsigned char bytes[6];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // Names only need to differ between runs; the clock is good enough here.
    const auto t = static_cast<uint64_t>(steady::now().time_since_epoch().count());
    for (size_t i = 0; i < sizeof bytes; ++i) {
      bytes[i] = static_cast<unsigned char>(t >> (8 * i));
    }
  }
  constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 0x0f];
  }
  return out;
}

expected<temp_dir> temp_dir::create(const std::string& parent) {
  std::error_code ec;
  std::filesystem::path base =
    parent.empty() ? std::filesystem::temp_directory_path(ec) : std::filesystem::path{parent};
  if (ec) {
    return error{errc::unavailable, "no temporary directory: " + ec.message()};
  }
  std::string tmpl = (base / "secrethub-bench.XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return error{errc::unavailable, "cannot create a directory under " + base.string()};
  }
  return temp_dir{std::filesystem::path{tmpl}};
}

temp_dir::temp_dir(temp_dir&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

temp_dir::~temp_dir() {
  if (!path_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
}

namespace {

struct conn_closer {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct result_clearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
struct options_freer {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};

void ignore_notice(void*, const char*) {}

std::string percent_encode(std::string_view s) {
  constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0x0f];
    }
  }
  return out;
}

std::string getenv_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string{v} : std::string{};
}

}  // namespace

expected<pg_target> pg_target::resolve(const std::string& dsn) {
  pg_target t;
  t.dsn = dsn.empty() ? getenv_or_empty("SECRETHUB_TEST_PG_DSN") : dsn;
  if (t.dsn.empty()) {
    return error{errc::invalid_argument,
                 "no PostgreSQL: pass --pg DSN or source the env.sh of scripts/pg-throwaway.sh "
                 "(SECRETHUB_TEST_PG_DSN)"};
  }
  char* err = nullptr;
  std::unique_ptr<PQconninfoOption, options_freer> opts{PQconninfoParse(t.dsn.c_str(), &err)};
  if (!opts) {
    std::string why = err != nullptr ? err : "unparsable";
    PQfreemem(err);
    // The DSN may carry a password: not echoed.
    return error{errc::invalid_argument, "--pg: not a valid connection string: " + why};
  }
  std::map<std::string, std::string> kv;
  for (auto* o = opts.get(); o->keyword != nullptr; ++o) {
    if (o->val != nullptr) {
      kv[o->keyword] = o->val;
    }
  }
  t.host = kv.count("host") != 0 ? kv["host"] : "127.0.0.1";
  if (kv.count("port") != 0) {
    t.port = static_cast<uint16_t>(std::strtoul(kv["port"].c_str(), nullptr, 10));
  }
  t.user = kv.count("user") != 0 ? kv["user"] : getenv_or_empty("USER");
  t.password = kv["password"];
  return t;
}

std::string pg_target::url_for(const std::string& dbname) const {
  std::string url = "postgresql://" + percent_encode(user);
  if (!password.empty()) {
    url += ":" + percent_encode(password);
  }
  return url + "@" + percent_encode(host) + ":" + std::to_string(port) + "/" +
         percent_encode(dbname);
}

expected<std::string> pg_target::exec(const std::string& sql, const std::string& dbname) const {
  std::unique_ptr<PGconn, conn_closer> conn{PQconnectdb(url_for(dbname).c_str())};
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    return error{errc::unavailable, std::string{"connecting to PostgreSQL: "} +
                                      (conn ? PQerrorMessage(conn.get()) : "out of memory")};
  }
  PQsetNoticeProcessor(conn.get(), &ignore_notice, nullptr);
  std::unique_ptr<PGresult, result_clearer> res{PQexec(conn.get(), sql.c_str())};
  const auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return error{errc::unavailable,
                 sql.substr(0, 60) + ": " + PQerrorMessage(conn.get())};
  }
  if (status == PGRES_TUPLES_OK && PQntuples(res.get()) > 0 && PQnfields(res.get()) > 0) {
    return std::string{PQgetvalue(res.get(), 0, 0)};
  }
  return std::string{};
}

scratch_database::scratch_database(pg_target target, std::string name)
    : target_(std::move(target)), name_(std::move(name)), url_(target_.url_for(name_)) {}

expected<scratch_database> scratch_database::create(const pg_target& target) {
  auto name = "secrethub_bench_" + random_suffix();
  if (auto r = target.exec("CREATE DATABASE " + name); !r) {
    return r.error();
  }
  return scratch_database{target, name};
}

scratch_database::scratch_database(scratch_database&& other) noexcept
    : target_(std::move(other.target_)),
      name_(std::move(other.name_)),
      url_(std::move(other.url_)) {
  other.name_.clear();
}

scratch_database::~scratch_database() {
  if (!name_.empty()) {
    // FORCE: a store connection that outlived its service must not block it.
    if (auto r = target_.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)"); !r) {
      note("could not drop scratch database " + name_ + ": " + r.error().message);
    }
  }
}

expected<store_place> store_place::make(const std::string& kind, const std::string& data_dir,
                                        const std::string& pg_dsn) {
  store_place p;
  p.kind = kind;
  if (kind == "none") {
    return p;
  }
  if (kind == "sqlite") {
    auto d = temp_dir::create(data_dir);
    if (!d) {
      return d.error();
    }
    p.location = (d->path() / "secrethub.db").string();
    p.dir.emplace(std::move(*d));
    return p;
  }
  if (kind == "postgresql") {
    auto target = pg_target::resolve(pg_dsn);
    if (!target) {
      return target.error();
    }
    auto db = scratch_database::create(*target);
    if (!db) {
      return db.error();
    }
    p.location = db->url();
    p.database.emplace(std::move(*db));
    return p;
  }
  return error{errc::invalid_argument, "unknown store '" + kind + "'"};
}

}  // namespace secrethub::bench
