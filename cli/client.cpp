#include "cli/client.hpp"

#include <httplib.h>

#include <charconv>
#include <chrono>
#include <utility>

namespace secrethub::cli {

namespace {

constexpr auto connect_timeout = std::chrono::seconds{5};
/// Writing a role runs its dry run against the target database and issuing
/// may wait for a pool connection: leave the server time to answer.
constexpr auto read_timeout = std::chrono::seconds{120};
constexpr auto write_timeout = std::chrono::seconds{30};

bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string why_unanswered(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return "could not connect (is the server running there?)";
    case httplib::Error::ConnectionTimeout:
      return "the connection timed out";
    case httplib::Error::Read:
      return "no answer (the connection broke or the read timed out)";
    case httplib::Error::Write:
      return "the request could not be sent";
    case httplib::Error::SSLConnection:
      return "the TLS handshake failed (is it an https:// server?)";
    case httplib::Error::SSLLoadingCerts:
      return "the CA certificates could not be loaded (check --ca-cert)";
    case httplib::Error::SSLServerVerification:
      return "the server's TLS certificate could not be verified (for a private CA pass "
             "--ca-cert FILE)";
    default:
      return "request failed (" + httplib::to_string(error) + ")";
  }
}

}  // namespace

std::string server_address::text() const {
  const bool v6 = host.find(':') != std::string::npos;
  return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<server_address> parse_address(std::string_view text, std::string& error) {
  const std::string shown = "'" + std::string{text.substr(0, 200)} + "'";
  server_address out;
  if (text.starts_with("http://")) {
    out.scheme = "http";
    out.port = 80;
    text.remove_prefix(7);
  } else if (text.starts_with("https://")) {
    out.scheme = "https";
    out.port = 443;
    text.remove_prefix(8);
  } else {
    error = "address " + shown + " must start with http:// or https://";
    return std::nullopt;
  }
  if (text.ends_with("/")) {
    text.remove_suffix(1);
  }
  std::string_view port_text;
  if (text.starts_with("[")) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      error = "address " + shown + " has an unclosed '['";
      return std::nullopt;
    }
    out.host = std::string{text.substr(1, close - 1)};
    text.remove_prefix(close + 1);
    if (text.starts_with(":")) {
      port_text = text.substr(1);
    } else if (!text.empty()) {
      error = "address " + shown + " must be scheme://host[:port] with no path";
      return std::nullopt;
    }
  } else {
    const auto colon = text.find(':');
    out.host = std::string{text.substr(0, colon)};
    if (colon != std::string_view::npos) {
      port_text = text.substr(colon + 1);
    }
  }
  if (out.host.empty() || out.host.find_first_of("/?#@ ") != std::string::npos) {
    error = "address " + shown + " must be scheme://host[:port] with no path";
    return std::nullopt;
  }
  if (!port_text.empty() || text.ends_with(":")) {
    unsigned value = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
        value == 0 || value > 65535) {
      error = "address " + shown + " has an invalid port (expected 1..65535, no path)";
      return std::nullopt;
    }
    out.port = static_cast<uint16_t>(value);
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (is_unreserved(c)) {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += hex[byte >> 4];
      out += hex[byte & 0x0f];
    }
  }
  return out;
}

api_client::api_client(server_address address, std::string token, std::string ca_cert)
    : address_(std::move(address)), token_(std::move(token)) {
  http_ = std::make_unique<httplib::Client>(address_.text());
  http_->set_tcp_nodelay(true);
  http_->set_connection_timeout(connect_timeout);
  http_->set_read_timeout(read_timeout);
  http_->set_write_timeout(write_timeout);
  // Targets are encoded here (percent_encode); httplib must not touch them.
  http_->set_url_encode(false);
  if (address_.scheme == "https") {
    http_->enable_server_certificate_verification(true);
    if (!ca_cert.empty()) {
      http_->set_ca_cert_path(ca_cert);
    }
  }
}

api_client::~api_client() = default;

template <class Call>
http_result api_client::run(Call&& call) noexcept {
  http_result out;
  try {
    httplib::Result res = call();
    if (!res) {
      out.failure = why_unanswered(res.error());
      return out;
    }
    out.reached = true;
    out.status = res->status;
    out.body = std::move(res->body);
  } catch (const std::exception& e) {
    out.failure = e.what();
  } catch (...) {
    out.failure = "unexpected failure";
  }
  return out;
}

http_result api_client::get(const std::string& target, bool send_token) {
  httplib::Headers headers;
  if (send_token && !token_.empty()) {
    headers.emplace("X-Agent-Token", token_);
  }
  return run([&] { return http_->Get(target, headers); });
}

http_result api_client::post(const std::string& target, const std::string& json_body) {
  httplib::Headers headers;
  if (!token_.empty()) {
    headers.emplace("X-Agent-Token", token_);
  }
  return run([&] { return http_->Post(target, headers, json_body, "application/json"); });
}

http_result api_client::del(const std::string& target) {
  httplib::Headers headers;
  if (!token_.empty()) {
    headers.emplace("X-Agent-Token", token_);
  }
  return run([&] { return http_->Delete(target, headers); });
}

}  // namespace secrethub::cli
