#include "http/server.hpp"

#include "http/json_codec.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <memory>

namespace secrethub::http {

namespace {

std::string bearer_token(const httplib::Request& req) {
  if (auto t = req.get_header_value("X-Agent-Token"); !t.empty()) {
    return t;
  }
  auto auth = req.get_header_value("Authorization");
  constexpr std::string_view prefix = "Bearer ";
  if (auth.size() > prefix.size() && auth.compare(0, prefix.size(), prefix) == 0) {
    return auth.substr(prefix.size());
  }
  return {};
}

std::string status_text(int status) {
  switch (status) {
    case 400:
      // What httplib refuses before routing; most often a POST without a
      // body or Content-Length (curl -X POST without -d).
      return "malformed HTTP request (a POST needs a body or Content-Length: 0, e.g. curl -d '{}')";
    case 404:
      return "not found";
    case 405:
      return "method not allowed";
    case 408:
      return "request timed out";
    case 413:
      return "request body too large";
    case 414:
      return "request URI too long";
    case 415:
      return "unsupported media type";
    default:
      return "HTTP error " + std::to_string(status);
  }
}

}  // namespace

struct http_server::impl {
  const api& handler;
  http_server_options options;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  bool bound = false;
  bool stopped = false;

  impl(const api& h, http_server_options o) : handler(h), options(std::move(o)) {}

  void serve(const httplib::Request& in, httplib::Response& out) {
    api_request req;
    req.method = in.method;
    req.path = in.path;
    for (auto& [k, v] : in.params) {
      req.query.emplace(k, v);
    }
    req.body = in.body;
    req.content_type = in.get_header_value("Content-Type");
    req.token = bearer_token(in);
    auto res = handler.handle(req);
    out.status = res.status;
    for (auto& [k, v] : res.headers) {
      out.set_header(k, v);
    }
    if (!out.has_header("Cache-Control")) {
      out.set_header("Cache-Control", "no-store");  // the api's data is never cached
    }
    out.set_content(res.body, res.content_type.c_str());
  }
};

http_server::http_server(const api& handler, http_server_options options)
    : impl_(std::make_unique<impl>(handler, std::move(options))) {}

http_server::~http_server() {
  stop();
}

bool http_server::tls() const {
  return !impl_->options.tls_cert_file.empty();
}

expected<uint16_t> http_server::bind() {
  auto& o = impl_->options;
  if (tls()) {
    auto ssl =
        std::make_unique<httplib::SSLServer>(o.tls_cert_file.c_str(), o.tls_key_file.c_str());
    if (!ssl->is_valid()) {
      return error{errc::invalid_argument, "cannot load the TLS certificate '" + o.tls_cert_file +
                                               "' or key '" + o.tls_key_file + "'"};
    }
    impl_->server = std::move(ssl);
  } else {
    impl_->server = std::make_unique<httplib::Server>();
  }
  auto& svr = *impl_->server;
  auto threads = static_cast<size_t>(o.threads > 0 ? o.threads : 8);
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_tcp_nodelay(true);
  svr.set_read_timeout(o.read_timeout_s, 0);
  svr.set_write_timeout(o.write_timeout_s, 0);
  svr.set_payload_max_length(o.max_body_bytes);
  svr.set_keep_alive_timeout(5);
  // httplib closes a kept-alive connection after 5 requests by default, so
  // agents and the CLI reconnected every few calls (bench `http` counted a
  // new TCP connection per ~5 requests). 1,000 is nginx's default.
  svr.set_keep_alive_max_count(1000);

  auto serve = [this](const httplib::Request& req, httplib::Response& res) {
    impl_->serve(req, res);
  };
  // Every method of every path goes to the api, which answers 404/405 itself.
  svr.Get(".*", serve);
  svr.Post(".*", serve);
  svr.Put(".*", serve);
  svr.Patch(".*", serve);
  svr.Delete(".*", serve);
  svr.Options(".*", serve);
  // What httplib answers on its own (oversized body, bad request line) gets
  // the same JSON error shape.
  svr.set_error_handler(httplib::Server::HandlerWithResponse{
      [limit = o.max_body_bytes](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) {
          return httplib::Server::HandlerResponse::Unhandled;  // the api's own answer
        }
        std::string msg = status_text(res.status);
        if (res.status == 413) {
          msg = "request body too large (the limit is " + std::to_string(limit) + " bytes)";
        }
        res.set_content(errors_json({msg}).dump(), "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }});
  svr.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content(errors_json({"internal error"}).dump(), "application/json");
      });

  // cpp-httplib 0.11 (Debian's) listens with a backlog of 5, compiled into
  // its library: when many clients connect at once (agents after a restart,
  // a load test) the kernel drops their handshakes and each waits for a SYN
  // retransmit (1 s and more), or fails. Keep the listening socket's fd to
  // listen again on it with the system's maximum backlog once bound.
  auto listening_fd = std::make_shared<int>(-1);
  svr.set_socket_options([listening_fd](socket_t sock) {
    httplib::default_socket_options(sock);
    *listening_fd = static_cast<int>(sock);
  });
  int port = 0;
  if (o.port == 0) {
    port = svr.bind_to_any_port(o.host);
    if (port <= 0) {
      return error{errc::invalid_argument, "cannot listen on " + o.host};
    }
  } else {
    if (!svr.bind_to_port(o.host, o.port)) {
      return error{errc::invalid_argument, "cannot listen on " + o.host + ":" +
                                               std::to_string(o.port) +
                                               " (address in use or not available)"};
    }
    port = o.port;
  }
  if (*listening_fd >= 0) {
    ::listen(*listening_fd, SOMAXCONN);  // on failure the backlog stays 5: still serving
  }
  svr.set_socket_options(httplib::default_socket_options);
  impl_->bound = true;
  return static_cast<uint16_t>(port);
}

void http_server::start() {
  if (!impl_->bound) {
    return;
  }
  impl_->thread = std::thread{[this] { impl_->server->listen_after_bind(); }};
}

void http_server::stop() {
  if (impl_->stopped || !impl_->server) {
    return;
  }
  impl_->stopped = true;
  impl_->server->stop();
  if (impl_->thread.joinable()) {
    impl_->thread.join();
  }
}

}  // namespace secrethub::http
