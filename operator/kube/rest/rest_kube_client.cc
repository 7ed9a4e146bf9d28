#include "operator/kube/rest/rest_kube_client.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <optional>
#include <vector>

#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>
#include <openssl/crypto.h>
#include <pplx/threadpool.h>

#include "operator/kube/rest/tls.h"
#include "operator/kube/rest/token_source.h"
#include "operator/kube/rest/url.h"

namespace bgo::kube::rest {

namespace http = web::http;
namespace client = web::http::client;
using core::Error;
using core::ErrorCode;
using Nanos = std::chrono::nanoseconds;

void initRestRuntime(size_t threads) {
  static std::once_flag once;
  std::call_once(once, [threads] {
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
    try {
      crossplat::threadpool::initialize_with_threads(threads);
    } catch (const std::exception&) {
      // Already started by an earlier request: keep its size.
    }
  });
}

namespace {

// How long a message body may be quoted in an error.
constexpr size_t kSnippet = 300;

std::string snippet(const std::string& s) {
  return s.size() <= kSnippet ? s : s.substr(0, kSnippet) + "...";
}

// Maps a cpprestsdk/transport exception to a typed error.
Error transportError(const std::string& what_request, const std::exception& e, bool cancelled) {
  if (cancelled) return Error::make(ErrorCode::kCancelled, what_request + ": cancelled");
  if (dynamic_cast<const pplx::task_canceled*>(&e)) {
    return Error::make(ErrorCode::kCancelled, what_request + ": cancelled");
  }
  std::string what = e.what();
  int code = 0;
  if (const auto* he = dynamic_cast<const http::http_exception*>(&e)) code = he->error_code().value();
  if (code == ETIMEDOUT || what.find("timed out") != std::string::npos) {
    return Error::make(ErrorCode::kTimeout, what_request + ": " + what);
  }
  if (what.find("SSL") != std::string::npos || what.find("handshake") != std::string::npos) {
    std::string reason = opensslReason(code);
    std::string msg = what_request + ": TLS: " + what;
    if (!reason.empty()) msg += ": " + reason;
    if (reason.find("certificate verify failed") != std::string::npos) {
      msg += " (the server certificate is not signed by the configured CA, or not valid for this host)";
    }
    return Error::make(ErrorCode::kUnavailable, msg);
  }
  std::string detail = what;
  if (code != 0) detail += " (" + std::error_code(code, std::generic_category()).message() + ")";
  return Error::make(ErrorCode::kUnavailable, what_request + ": " + detail);
}

std::optional<std::chrono::seconds> retryAfter(const http::http_headers& headers) {
  auto it = headers.find("Retry-After");
  if (it == headers.end()) return std::nullopt;
  try {
    size_t used = 0;
    long v = std::stol(it->second, &used);
    if (used == it->second.size() && v >= 0) return std::chrono::seconds(v);
  } catch (const std::exception&) {
  }
  return std::nullopt;  // HTTP-date form: the server never sends it; callers back off anyway
}

Error statusError(int code, const std::string& body, const http::http_headers& headers,
                  const std::string& what_request) {
  json status = json::parse(body, nullptr, false);
  if (status.is_discarded() || !status.is_object() || status.value("kind", "") != "Status") {
    status = json{{"message", what_request + ": HTTP " + std::to_string(code) +
                                  (body.empty() ? "" : ": " + snippet(body))}};
  }
  Error e = errorFromStatus(code, status);
  if (!e.retry_after) e.retry_after = retryAfter(headers);
  return e;
}

// Reads the chunked body line by line: read_line hands over each event as it
// arrives (a fixed-size read would wait for the buffer to fill). When the
// connection breaks, cpprestsdk fails the whole body, so events received but
// not yet read are lost with it; the caller resumes from the last event it
// handled and gets them again.
class RestWatchStream final : public WatchStream {
 public:
  RestWatchStream(std::unique_ptr<client::http_client> http, pplx::cancellation_token_source cts,
                  http::http_response response, std::string what_request)
      : http_(std::move(http)),
        cts_(std::move(cts)),
        response_(std::move(response)),
        body_(response_.body()),
        what_request_(std::move(what_request)) {}

  ~RestWatchStream() override {
    // Closes the connection of an unfinished stream instead of leaving it open.
    if (!done_) cts_.cancel();
  }

  Result<std::optional<WatchEvent>> next() override {
    if (failed_) return core::fail(*failed_);
    if (done_) return std::optional<WatchEvent>();
    if (cancelled_) return finish(Error::make(ErrorCode::kCancelled, what_request_ + ": cancelled"));
    for (;;) {
      std::string line;
      try {
        // A byte buffer: the body stream is of bytes, and a char buffer would be mistyped.
        concurrency::streams::container_buffer<std::vector<uint8_t>> buf;
        size_t n = body_.read_line(buf).get();
        if (n == 0 && body_.is_eof()) {
          done_ = true;
          return std::optional<WatchEvent>();
        }
        const std::vector<uint8_t>& bytes = buf.collection();
        line.assign(bytes.begin(), bytes.end());
      } catch (const std::exception& e) {
        return finish(transportError(what_request_, e, cancelled_));
      }
      if (cancelled_) return finish(Error::make(ErrorCode::kCancelled, what_request_ + ": cancelled"));
      auto ev = decodeWatchLine(line, what_request_);
      if (!ev) return finish(ev.error());
      if (!*ev) continue;  // a blank keep-alive line
      return ev;
    }
  }

  void cancel() override {
    cancelled_ = true;
    cts_.cancel();
  }

 private:
  Result<std::optional<WatchEvent>> finish(Error e) {
    failed_ = e;
    if (!cancelled_) cts_.cancel();  // drop the connection after a broken stream
    return core::fail(std::move(e));
  }

  std::unique_ptr<client::http_client> http_;  // a watch's own client: its idle timeout fits the watch
  pplx::cancellation_token_source cts_;
  http::http_response response_;
  concurrency::streams::istream body_;
  std::string what_request_;
  std::atomic<bool> cancelled_{false};
  bool done_ = false;                // next() is called by one thread at a time
  std::optional<Error> failed_;
};

}  // namespace

struct RestKubeClient::Impl {
  ClusterConfig config;
  RestOptions options;
  core::SystemClock system_clock;
  std::unique_ptr<TokenSource> tokens;
  std::shared_ptr<const TlsMaterial> tls;
  std::optional<Error> setup_error;
  std::unique_ptr<client::http_client> http;

  Impl(ClusterConfig c, RestOptions o) : config(std::move(c)), options(std::move(o)) {
    const core::Clock& clock = options.clock ? *options.clock : system_clock;
    tokens = std::make_unique<TokenSource>(config.token, config.token_file, clock);
    auto parsed = TlsMaterial::parse(config);
    if (!parsed) {
      setup_error = parsed.error();
      return;
    }
    tls = *parsed;
    auto made = makeClient(options.request_timeout);
    if (!made) {
      setup_error = made.error();
      return;
    }
    http = std::move(*made);
  }

  Result<std::unique_ptr<client::http_client>> makeClient(std::chrono::seconds timeout) const {
    client::http_client_config cfg;
    cfg.set_timeout(timeout);
    if (config.insecure_skip_tls_verify) {
      cfg.set_validate_certificates(false);
    } else {
      std::shared_ptr<const TlsMaterial> material = tls;
      cfg.set_ssl_context_callback(
          [material](boost::asio::ssl::context& ctx) { material->applyTo(ctx.native_handle()); });
    }
    try {
      return std::make_unique<client::http_client>(web::uri(config.server), cfg);
    } catch (const std::exception& e) {
      return core::fail(ErrorCode::kConfig, config.source + ": server \"" + config.server +
                                                "\": " + e.what());
    }
  }

  Result<http::http_request> buildRequest(const http::method& method, const std::string& target,
                                          const std::string* body, const char* content_type) {
    auto token = tokens->token();
    if (!token) return core::fail(token.error());
    http::http_request req(method);
    try {
      req.set_request_uri(web::uri(target));
    } catch (const std::exception& e) {
      return core::fail(ErrorCode::kBadRequest, "invalid request path " + target + ": " + e.what());
    }
    req.headers().add("Accept", "application/json");
    req.headers().add("User-Agent", options.user_agent);
    if (!token->empty()) req.headers().add("Authorization", "Bearer " + *token);
    if (body) {
      // Bytes, not a string: a string body is read through a mistyped stream
      // buffer (undefined behaviour UBSan reports). The header set first wins.
      req.headers().set_content_type(content_type);
      req.set_body(std::vector<unsigned char>(body->begin(), body->end()));
    }
    return req;
  }

  void observe(std::string_view verb, const Gvr& gvr, int code, std::chrono::steady_clock::time_point t0) {
    if (options.observer) {
      options.observer->onRequest(verb, gvr, code,
                                  std::chrono::duration_cast<Nanos>(std::chrono::steady_clock::now() - t0));
    }
  }

  // One request/response; non-2xx becomes a typed error.
  Result<json> call(std::string_view verb, const Gvr& gvr, const http::method& method,
                    const std::string& target, const json* body = nullptr,
                    const char* content_type = "application/json") {
    if (setup_error) return core::fail(*setup_error);
    const std::string what_request = method + " " + config.server + target;
    std::string body_text;
    try {
      if (body) body_text = body->dump();
    } catch (const json::exception& e) {  // invalid UTF-8 in a string
      return core::fail(ErrorCode::kBadRequest, what_request + ": body cannot be encoded: " + e.what());
    }
    auto t0 = std::chrono::steady_clock::now();
    int code = 0;
    std::string text;
    http::http_headers headers;
    for (int attempt = 0;; ++attempt) {
      auto req = buildRequest(method, target, body ? &body_text : nullptr, content_type);
      if (!req) return core::fail(req.error());
      try {
        http::http_response resp = http->request(*req).get();
        code = resp.status_code();
        headers = resp.headers();
        text = resp.extract_utf8string(true).get();
        break;
      } catch (const std::exception& e) {
        // A pooled keep-alive connection the server closed (e.g. it restarted)
        // fails while the request is written: the server never saw it, so one
        // resend on a fresh connection is safe, for writes too.
        if (attempt == 0 && std::string_view(e.what()).find("Failed to write request") != std::string_view::npos) {
          continue;
        }
        observe(verb, gvr, code, t0);
        return core::fail(transportError(what_request, e, false));
      }
    }
    observe(verb, gvr, code, t0);
    if (code < 200 || code > 299) return core::fail(statusError(code, text, headers, what_request));
    if (text.empty()) return json::object();
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded()) {
      return core::fail(ErrorCode::kInternal, what_request + ": response is not JSON: " + snippet(text));
    }
    return doc;
  }

  Result<std::unique_ptr<WatchStream>> openWatch(const Gvr& gvr, const std::string& ns,
                                                 const WatchOptions& opts) {
    if (setup_error) return core::fail(*setup_error);
    const std::string target = resourcePath(gvr, ns) + watchQuery(opts).str();
    const std::string what_request = "WATCH " + config.server + target;
    auto timeout = std::chrono::seconds(std::max(opts.timeout_seconds, 0)) + options.watch_timeout_margin;
    if (opts.timeout_seconds <= 0) timeout = std::chrono::hours(24);  // server default is up to 30 min
    auto watch_client = makeClient(timeout);
    if (!watch_client) return core::fail(watch_client.error());
    auto req = buildRequest(http::methods::GET, target, nullptr, nullptr);
    if (!req) return core::fail(req.error());

    pplx::cancellation_token_source cts;
    auto t0 = std::chrono::steady_clock::now();
    http::http_response resp;
    try {
      resp = (*watch_client)->request(*req, cts.get_token()).get();
    } catch (const std::exception& e) {
      observe("watch", gvr, 0, t0);
      return core::fail(transportError(what_request, e, false));
    }
    int code = resp.status_code();
    observe("watch", gvr, code, t0);
    if (code < 200 || code > 299) {
      std::string text;
      try {
        text = resp.extract_utf8string(true).get();
      } catch (const std::exception&) {
      }
      return core::fail(statusError(code, text, resp.headers(), what_request));
    }
    return std::unique_ptr<WatchStream>(
        new RestWatchStream(std::move(*watch_client), std::move(cts), std::move(resp), what_request));
  }
};

RestKubeClient::RestKubeClient(ClusterConfig config, RestOptions options)
    : impl_(std::make_shared<Impl>(std::move(config), std::move(options))) {}

RestKubeClient::~RestKubeClient() = default;

core::Result<std::unique_ptr<RestKubeClient>> RestKubeClient::make(ClusterConfig config,
                                                                    RestOptions options) {
  auto c = std::make_unique<RestKubeClient>(std::move(config), std::move(options));
  if (c->impl_->setup_error) return core::fail(*c->impl_->setup_error);
  return c;
}

Result<json> RestKubeClient::get(const Gvr& gvr, const std::string& ns, const std::string& name,
                                 const std::string& subresource) {
  return impl_->call("get", gvr, http::methods::GET, resourcePath(gvr, ns, name, subresource));
}

Result<json> RestKubeClient::list(const Gvr& gvr, const std::string& ns, const ListOptions& opts) {
  return impl_->call("list", gvr, http::methods::GET, resourcePath(gvr, ns) + listQuery(opts).str());
}

Result<json> RestKubeClient::create(const Gvr& gvr, const std::string& ns, const json& body,
                                    const WriteOptions& opts) {
  // A subresource create (e.g. serviceaccounts/<name>/token) is addressed by the body's name.
  std::string name;
  if (!opts.subresource.empty()) {
    const json* meta = body.is_object() && body.contains("metadata") ? &body["metadata"] : nullptr;
    if (meta && meta->is_object() && meta->contains("name") && (*meta)["name"].is_string()) {
      name = (*meta)["name"].get<std::string>();
    }
    if (name.empty()) {
      return core::fail(ErrorCode::kBadRequest, "create of subresource " + opts.subresource +
                                                    " needs metadata.name in the body");
    }
  }
  return impl_->call("create", gvr, http::methods::POST,
                     resourcePath(gvr, ns, name, opts.subresource) + writeQuery(opts, false).str(), &body);
}

Result<json> RestKubeClient::replace(const Gvr& gvr, const std::string& ns, const std::string& name,
                                     const json& body, const WriteOptions& opts) {
  return impl_->call("update", gvr, http::methods::PUT,
                     resourcePath(gvr, ns, name, opts.subresource) + writeQuery(opts, false).str(), &body);
}

Result<json> RestKubeClient::patch(const Gvr& gvr, const std::string& ns, const std::string& name,
                                   PatchType type, const json& patch, const WriteOptions& opts) {
  const bool apply = type == PatchType::kApply;
  return impl_->call(apply ? "apply" : "patch", gvr, http::methods::PATCH,
                     resourcePath(gvr, ns, name, opts.subresource) + writeQuery(opts, apply).str(), &patch,
                     patchContentType(type));
}

Status RestKubeClient::remove(const Gvr& gvr, const std::string& ns, const std::string& name,
                              const DeleteOptions& opts) {
  json body = deleteOptionsBody(opts);
  auto r = impl_->call("delete", gvr, http::methods::DEL, resourcePath(gvr, ns, name), &body);
  if (!r) return core::fail(r.error());
  return {};
}

Result<std::unique_ptr<WatchStream>> RestKubeClient::watch(const Gvr& gvr, const std::string& ns,
                                                           const WatchOptions& opts) {
  return impl_->openWatch(gvr, ns, opts);
}

Result<json> RestKubeClient::getPath(const std::string& path) {
  return impl_->call("get", Gvr{}, http::methods::GET, path);
}

}  // namespace bgo::kube::rest
