#include "net/google_places.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <exception>
#include <stdexcept>
#include <variant>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

namespace herd::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using strand = asio::strand<asio::any_io_executor>;
using steady = std::chrono::steady_clock;

constexpr std::string_view redacted = "REDACTED";
constexpr std::size_t error_message_max = 200;  // bytes of Google's error_message kept

bool is_unreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

// Percent-encodes all but RFC 3986's unreserved characters.
std::string url_encode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : s) {
        if (is_unreserved(c)) {
            out += c;
        } else {
            const auto b = static_cast<unsigned char>(c);
            ((out += '%') += hex[b >> 4]) += hex[b & 15];
        }
    }
    return out;
}

// Fixed notation with 6 decimals (about 0.1 m), never an exponent, never "-0.000000".
std::string fixed6(double v) {
    char buf[400];  // the longest double in fixed notation has 309 integer digits
    const auto end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 6).ptr;
    std::string s(buf, end);
    return s == "-0.000000" ? "0.000000" : s;
}

// Whole metres in [1, 50000], Google's range; a non-finite radius asks for the most.
long radius_metres(double radius_m) {
    if (!std::isfinite(radius_m)) return 50'000;
    return std::lround(std::clamp(radius_m, 1.0, 50'000.0));
}

// Untrusted text for a log line: control bytes become spaces, at most `max` bytes.
std::string printable(std::string_view s, std::size_t max) {
    std::string out(s.substr(0, max));
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    if (s.size() > max) out += "...";
    return out;
}

void replace_all(std::string& text, std::string_view what, std::string_view with) {
    if (what.empty()) return;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size()))
        text.replace(at, what.size(), with);
}

bool is_ip_address(const std::string& host) {
    error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

// A connection to the endpoint, plain or TLS. `buffer` holds bytes read past a response.
struct connection {
    using tls_stream = beast::ssl_stream<beast::tcp_stream>;

    using any_stream = std::variant<beast::tcp_stream, tls_stream>;

    connection(const strand& ex, ssl::context* tls)
        : stream(tls != nullptr ? any_stream(std::in_place_type<tls_stream>, ex, *tls)
                                : any_stream(std::in_place_type<beast::tcp_stream>, ex)) {}

    beast::tcp_stream& tcp() {
        return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); },
                          stream);
    }

    // Ends the connection at once; pending operations complete with operation_aborted.
    void close() {
        error_code ec;
        tcp().socket().close(ec);
    }

    any_stream stream;
    beast::flat_buffer buffer;
    steady::time_point idle_since;
};

// One lookup from lookup() to `done`.
struct job {
    job(const strand& ex, std::string target, std::string shown,
        std::function<void(core::places_result)> done)
        : target(std::move(target)), shown(std::move(shown)), done(std::move(done)), deadline(ex) {}

    std::string target;  // path and query, with the key
    std::string shown;   // the whole URL with the key redacted, for messages
    std::function<void(core::places_result)> done;
    asio::steady_timer deadline;
    std::shared_ptr<connection> conn;  // the connection in use, for the deadline to close
    tcp::resolver* resolver = nullptr; // the name lookup in progress, for the deadline to cancel
    bool finished = false;             // `done` has been handed its result
};

// What one request/response exchange on a connection gave.
struct exchange {
    core::places_result result;
    bool stale = false;  // failed before any response byte: the server had closed the connection
    bool reusable = false;
};

// The lookup's result for a response body with HTTP status 200.
core::places_result check_body(std::string&& body, const std::string& key) {
    const auto doc = nlohmann::json::parse(body, nullptr, false);
    if (doc.is_discarded())
        return {false, {}, "response is not JSON (" + std::to_string(body.size()) + " bytes)"};
    const auto status = doc.is_object() ? doc.find("status") : doc.end();
    if (status == doc.end() || !status->is_string())
        return {false, {}, "response has no status"};
    const auto& s = status->get_ref<const std::string&>();
    if (s == "OK" || s == "ZERO_RESULTS") return {true, std::move(body), {}};
    std::string why = "status " + printable(s, 64);
    if (const auto m = doc.find("error_message"); m != doc.end() && m->is_string()) {
        why += ": " + printable(m->get_ref<const std::string&>(), error_message_max);
        replace_all(why, key, redacted);
    }
    return {false, {}, why};
}

}  // namespace

endpoint_url parse_endpoint(std::string_view url) {
    const auto fail = [&](const std::string& what) {
        throw std::invalid_argument("places endpoint '" + printable(url, 200) + "': " + what);
    };
    for (char c : url)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            fail("contains white space or a control character");
    if (url.find('#') != std::string_view::npos) fail("has a fragment (#)");
    const auto colon = url.find("://");
    if (colon == std::string_view::npos) fail("expected http://host/path or https://host/path");
    std::string scheme(url.substr(0, colon));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    endpoint_url out;
    if (scheme == "https")
        out.tls = true;
    else if (scheme != "http")
        fail("the scheme must be http or https, not '" + scheme + "'");

    const std::string_view rest = url.substr(colon + 3);
    const auto path_at = std::min(rest.find('/'), rest.find('?'));
    const std::string_view authority = rest.substr(0, path_at);
    if (authority.find('@') != std::string_view::npos) fail("user information (@) is not supported");
    std::string_view host = authority, port;
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) fail("unclosed '[' in the host");
        host = authority.substr(1, close - 1);
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty() && !after.starts_with(':')) fail("unexpected text after ']'");
        if (!after.empty()) port = after.substr(1);
        if (!is_ip_address(std::string(host))) fail("'[" + std::string(host) + "]' is not an IPv6 address");
    } else if (const auto c = authority.find(':'); c != std::string_view::npos) {
        host = authority.substr(0, c);
        port = authority.substr(c + 1);
    }
    if (host.empty()) fail("no host");
    const char* default_port = out.tls ? "443" : "80";
    out.host = std::string(host);
    out.port = default_port;
    if (authority.find(':', authority.starts_with('[') ? authority.find(']') : 0) !=
        std::string_view::npos) {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 ||
            value > 65535)
            fail("the port must be a number in 1–65535");
        out.port = std::to_string(value);
    }
    out.host_header = authority.starts_with('[') ? "[" + out.host + "]" : out.host;
    if (out.port != default_port) out.host_header += ":" + out.port;
    out.target = path_at == std::string_view::npos ? "/" : std::string(rest.substr(path_at));
    if (out.target.starts_with('?')) out.target.insert(0, 1, '/');
    return out;
}

struct google_places::impl : std::enable_shared_from_this<impl> {
    impl(asio::any_io_executor io, google_config c, std::function<void(std::string)> l)
        : ex(asio::make_strand(std::move(io))),
          cfg(std::move(c)),
          url(parse_endpoint(cfg.endpoint)),
          log(std::move(l)),
          tls(ssl::context::tls_client) {
        if (cfg.timeout.count() <= 0) throw std::invalid_argument("places timeout must be positive");
        if (cfg.requests_max == 0) throw std::invalid_argument("places requests_max must be positive");
        if (const char* k = std::getenv(cfg.key_env.c_str())) key = k;
        key_encoded = url_encode(key);
        if (key.empty()) say("google places: environment variable " + cfg.key_env +
                             " is not set or empty; every lookup will fail");
        if (url.tls) {
            tls.set_default_verify_paths();  // the system store (or SSL_CERT_FILE / SSL_CERT_DIR)
            tls.set_verify_mode(ssl::verify_peer);
        }
    }

    void say(std::string line) {
        if (!log) return;
        replace_all(line, key, redacted);
        replace_all(line, key_encoded, redacted);
        log(std::move(line));
    }

    // The URL's path and query for (lat, lon, radius) with `k` as the key.
    std::string target_for(double lat, double lon, double radius_m, std::string_view k) const {
        std::string t = url.target;
        if (t.find('?') == std::string::npos)
            t += '?';
        else if (!t.ends_with('?') && !t.ends_with('&'))
            t += '&';
        t += "location=" + fixed6(lat) + "," + fixed6(lon);
        t += "&radius=" + std::to_string(radius_metres(radius_m));
        (t += "&key=") += k;
        return t;
    }

    // On the strand: refuse, queue or run.
    void start(const std::shared_ptr<job>& j) {
        if (closed) return;
        if (key.empty()) return finish(*j, fail(*j, "environment variable " + cfg.key_env + " is not set or empty"));
        if (live.size() >= cfg.requests_max && queue.size() >= cfg.queue_max)
            return finish(*j, fail(*j, "too many lookups (" + std::to_string(live.size()) +
                                           " on the wire, " + std::to_string(queue.size()) +
                                           " waiting); refused"));
        j->deadline.expires_after(cfg.timeout);
        j->deadline.async_wait([self = shared_from_this(), j](error_code ec) {
            if (!ec) self->on_deadline(*j);
        });
        if (live.size() < cfg.requests_max)
            run(j);
        else
            queue.push_back(j);
    }

    void on_deadline(job& j) {
        if (j.finished) return;
        std::erase_if(queue, [&](const auto& q) { return q.get() == &j; });
        finish(j, fail(j, "no answer within " + std::to_string(cfg.timeout.count()) + " ms"));
        // The coroutine, if running, wakes with operation_aborted, sees `finished` and stops.
        if (j.conn) j.conn->close();
        if (j.resolver != nullptr) j.resolver->cancel();
    }

    void run(std::shared_ptr<job> j) {
        live.push_back(j.get());
        asio::co_spawn(ex, do_lookup(j),
                       asio::bind_executor(ex, [self = shared_from_this(), j](std::exception_ptr e) {
                           std::erase(self->live, j.get());
                           if (e) self->finish(*j, self->fail(*j, "internal error: " + what(e)));
                           self->pump();
                       }));
    }

    void pump() {
        while (!closed && live.size() < cfg.requests_max && !queue.empty()) {
            auto j = std::move(queue.front());
            queue.pop_front();
            if (!j->finished) run(std::move(j));
        }
    }

    static std::string what(const std::exception_ptr& e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            return x.what();
        } catch (...) {
            return "unknown exception";
        }
    }

    core::places_result fail(const job& j, std::string cause) const {
        return {false, {}, "google places: " + std::move(cause) + " (GET " + j.shown + ")"};
    }

    // Hands `r` to the job's `done`, once, through the strand's queue: a callback that calls
    // lookup() or throws does so outside the provider's own steps.
    void finish(job& j, core::places_result r) {
        if (j.finished) return;
        j.finished = true;
        j.deadline.cancel();
        replace_all(r.error, key, redacted);
        replace_all(r.error, key_encoded, redacted);
        asio::post(ex, [self = shared_from_this(), done = std::move(j.done), r = std::move(r)]() mutable {
            if (!self->closed) done(std::move(r));
        });
    }

    std::shared_ptr<connection> take_idle() {
        const auto now = steady::now();
        while (!idle.empty()) {
            auto c = std::move(idle.back());
            idle.pop_back();
            if (now - c->idle_since <= cfg.idle_timeout) return c;
            c->close();
        }
        return nullptr;
    }

    void give_back(std::shared_ptr<connection> c) {
        if (closed || cfg.idle_connections_max == 0) return c->close();
        c->idle_since = steady::now();
        idle.push_back(std::move(c));
        if (idle.size() > cfg.idle_connections_max) {
            idle.front()->close();
            idle.pop_front();
        }
    }

    asio::awaitable<void> do_lookup(std::shared_ptr<job> j) {
        auto conn = take_idle();
        bool reused = conn != nullptr;
        for (;;) {
            if (!conn) {
                conn = co_await do_connect(*j);
                if (!conn) co_return;  // finished with the cause
            }
            j->conn = conn;
            exchange x = co_await std::visit(
                [&](auto& s) { return do_exchange(s, conn->buffer, *j); }, conn->stream);
            j->conn.reset();
            if (j->finished) co_return;  // the deadline passed meanwhile and closed it
            if (x.stale && reused) {
                // A server closes idle connections when it likes; GET is safe to send again.
                say("google places: a reused connection to " + url.host_header +
                    " was closed by the server; retrying on a new connection");
                conn->close();
                conn.reset();
                reused = false;
                continue;
            }
            if (x.reusable)
                give_back(std::move(conn));
            else
                conn->close();
            finish(*j, x.result.ok ? std::move(x.result) : fail(*j, std::move(x.result.error)));
            co_return;
        }
    }

    // A new connection, TLS handshake done; nullptr when the job has finished (with the cause).
    asio::awaitable<std::shared_ptr<connection>> do_connect(job& j) {
        const auto where = url.host + " port " + url.port;
        error_code ec;
        tcp::resolver resolver(ex);
        j.resolver = &resolver;
        const auto found = co_await resolver.async_resolve(
            url.host, url.port, asio::redirect_error(asio::use_awaitable, ec));
        j.resolver = nullptr;
        if (j.finished) co_return nullptr;
        if (ec) {
            finish(j, fail(j, "cannot resolve " + where + ": " + ec.message()));
            co_return nullptr;
        }
        auto conn = std::make_shared<connection>(ex, url.tls ? &tls : nullptr);
        j.conn = conn;
        co_await conn->tcp().async_connect(found, asio::redirect_error(asio::use_awaitable, ec));
        if (j.finished) co_return nullptr;
        if (ec) {
            finish(j, fail(j, "cannot connect to " + where + ": " + ec.message()));
            co_return nullptr;
        }
        if (auto* s = std::get_if<connection::tls_stream>(&conn->stream)) {
            // SNI carries host names only (RFC 6066); the certificate must name the host.
            if (!is_ip_address(url.host)) SSL_set_tlsext_host_name(s->native_handle(), url.host.c_str());
            s->set_verify_callback(ssl::host_name_verification(url.host));
            co_await s->async_handshake(ssl::stream_base::client,
                                        asio::redirect_error(asio::use_awaitable, ec));
            if (j.finished) co_return nullptr;
            if (ec) {
                finish(j, fail(j, "TLS handshake with " + where + " failed: " + ec.message()));
                co_return nullptr;
            }
        }
        co_return conn;
    }

    template <class Stream>
    asio::awaitable<exchange> do_exchange(Stream& s, beast::flat_buffer& buffer, const job& j) {
        http::request<http::empty_body> req{http::verb::get, j.target, 11};
        req.set(http::field::host, url.host_header);
        req.set(http::field::user_agent, "herd/0.1");
        req.set(http::field::accept, "application/json");
        error_code ec;
        co_await http::async_write(s, req, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return exchange{{false, {}, "sending the request: " + ec.message()}, true, false};

        http::response_parser<http::string_body> parser;
        parser.body_limit(cfg.body_bytes_max);
        // The header alone first: Beast 1.74's async_read parses eagerly and then loses the
        // body_limit error for a Content-Length over the limit; chunked and read-to-close
        // bodies are checked as they arrive.
        co_await http::async_read_header(s, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) co_await http::async_read(s, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        if (ec == http::error::body_limit)
            co_return exchange{{false, {}, "response body larger than " +
                                               std::to_string(cfg.body_bytes_max) + " bytes"}};
        if (ec)
            co_return exchange{{false, {}, (parser.got_some() ? "reading the response: "
                                                              : "connection closed before a response: ") +
                                               ec.message()},
                               !parser.got_some(), false};
        auto res = parser.release();
        const bool reusable = res.keep_alive() && buffer.size() == 0;
        if (res.result() != http::status::ok) {
            const auto reason = res.reason().empty() ? http::obsolete_reason(res.result()) : res.reason();
            co_return exchange{{false, {}, "HTTP " + std::to_string(res.result_int()) + " " +
                                               printable({reason.data(), reason.size()}, 64)},
                               false, reusable};
        }
        co_return exchange{check_body(std::move(res.body()), key), false, reusable};
    }

    // After the owner has gone: drop every callback, close every connection.
    void shutdown() {
        for (auto& c : idle) c->close();
        idle.clear();
        for (auto& j : queue) j->deadline.cancel();
        queue.clear();
        for (auto* j : live) {
            j->deadline.cancel();
            if (j->conn) j->conn->close();
            if (j->resolver != nullptr) j->resolver->cancel();
        }
    }

    strand ex;
    google_config cfg;
    endpoint_url url;
    std::function<void(std::string)> log;
    ssl::context tls;
    std::string key;
    std::string key_encoded;
    std::deque<std::shared_ptr<job>> queue;
    std::deque<std::shared_ptr<connection>> idle;  // oldest first
    std::vector<job*> live;  // lookups on the wire (their coroutines run)
    bool closed = false;
};

google_places::google_places(boost::asio::io_context& io, google_config cfg,
                             std::function<void(std::string)> log)
    : google_places(io.get_executor(), std::move(cfg), std::move(log)) {}

google_places::google_places(boost::asio::any_io_executor ex, google_config cfg,
                             std::function<void(std::string)> log)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(cfg), std::move(log))) {}

google_places::~google_places() {
    impl_->closed = true;
    asio::post(impl_->ex, [self = impl_] { self->shutdown(); });
}

void google_places::lookup(double lat, double lon, double radius_m, int,
                           std::function<void(core::places_result)> done) {
    auto& m = *impl_;
    const std::string shown_target = m.target_for(lat, lon, radius_m, redacted);
    auto j = std::make_shared<job>(
        m.ex, m.target_for(lat, lon, radius_m, m.key_encoded),
        (m.url.tls ? "https://" : "http://") + m.url.host_header + shown_target, std::move(done));
    asio::post(m.ex, [self = impl_, j = std::move(j)] { self->start(j); });
}

bool google_places::has_key() const { return !impl_->key.empty(); }
std::size_t google_places::idle_connections() const { return impl_->idle.size(); }
std::size_t google_places::active() const { return impl_->live.size(); }
std::size_t google_places::queued() const { return impl_->queue.size(); }

}  // namespace herd::net
