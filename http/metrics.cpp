#include "http/metrics.hpp"

#include <cstdio>
#include <sstream>

namespace secrethub::http {

namespace {

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void header(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << '\n' << "# TYPE " << name << ' ' << type << '\n';
}

void counter(std::ostringstream& out, const char* name, const char* help, uint64_t v) {
  header(out, name, "counter", help);
  out << name << ' ' << v << '\n';
}

void gauge(std::ostringstream& out, const char* name, const char* help, double v) {
  header(out, name, "gauge", help);
  out << name << ' ' << number(v) << '\n';
}

void histo(std::ostringstream& out, const char* name, const char* help, const histogram& h) {
  header(out, name, "histogram", help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < histogram::bounds.size(); ++i) {
    cumulative += h.counts[i];
    out << name << "_bucket{le=\"" << number(histogram::bounds[i]) << "\"} " << cumulative << '\n';
  }
  cumulative += h.counts.back();
  out << name << "_bucket{le=\"+Inf\"} " << cumulative << '\n';
  out << name << "_sum " << number(h.sum) << '\n';
  out << name << "_count " << h.count << '\n';
}

}  // namespace

std::string render_prometheus(const metrics_snapshot& m,
                              const std::map<std::pair<std::string, int>, uint64_t>& requests) {
  std::ostringstream out;
  const auto& s = m.stats;
  header(out, "secrethub_leases_active", "gauge", "Leases not yet revoked, by role.");
  for (auto& r : m.roles) {
    out << "secrethub_leases_active{role=\"" << escape_label(r.role) << "\"} " << r.active << '\n';
  }
  counter(out, "secrethub_leases_created_total", "Leases issued.", s.created_total);
  counter(out, "secrethub_leases_renewed_total", "Successful renewals.", s.renewed_total);
  counter(out, "secrethub_leases_revoked_total",
          "Leases whose database user was removed (on request or at expiry).", s.revoked_total);
  counter(out, "secrethub_leases_expired_total", "Leases revoked by their own expiry timer.",
          s.expired_total);
  counter(out, "secrethub_lease_renewal_failures_total", "Renewals refused or failed.",
          s.renewal_failures_total);
  counter(out, "secrethub_lease_revocation_failures_total",
          "Failed revocation attempts (each is retried).", s.revocation_failures_total);
  counter(out, "secrethub_lease_issue_failures_total", "Requests for credentials that failed.",
          s.issue_failures_total);
  gauge(out, "secrethub_leases_revoke_failed", "Leases whose revocation is failing right now.",
        static_cast<double>(s.revoke_failing));
  histo(out, "secrethub_issue_duration_seconds",
        "Time to create a database user and store its lease.", m.issue_latency);
  histo(out, "secrethub_renew_duration_seconds", "Time to renew a lease.", m.renew_latency);
  histo(out, "secrethub_revoke_duration_seconds", "Time to revoke a lease.", m.revoke_latency);
  histo(out, "secrethub_store_commit_duration_seconds",
        "Time of one durable store commit (a group of changes).", m.store_commit_latency);
  header(out, "secrethub_pool_connections_in_use", "gauge",
         "Database connections of a role's pool running an operation.");
  for (auto& r : m.roles) {
    out << "secrethub_pool_connections_in_use{role=\"" << escape_label(r.role) << "\"} "
        << r.pool_in_use << '\n';
  }
  header(out, "secrethub_pool_queued", "gauge",
         "Operations of a role waiting for a database connection.");
  for (auto& r : m.roles) {
    out << "secrethub_pool_queued{role=\"" << escape_label(r.role) << "\"} " << r.pool_queued
        << '\n';
  }
  header(out, "secrethub_http_requests_total", "counter",
         "HTTP requests answered, by route pattern and status.");
  for (auto& [key, n] : requests) {
    out << "secrethub_http_requests_total{route=\"" << escape_label(key.first) << "\",status=\""
        << key.second << "\"} " << n << '\n';
  }
  return out.str();
}

}  // namespace secrethub::http
