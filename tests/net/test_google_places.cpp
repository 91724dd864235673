// The `google` places provider against a local HTTP(S) server started by each test: the request
// it sends, whole WHATSAT replies through core::node, every failure, connection reuse, limits.
#include <catch2/catch.hpp>

#include <utility>  // before Asio: Asio 1.18's awaitable.hpp uses std::exchange without it

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <unistd.h>

#include "core/node.hpp"
#include "net/google_places.hpp"
#include "tests/net/support/http_test_server.hpp"

using namespace std::chrono_literals;
using herd::core::places_result;
using herd::net::google_config;
using herd::net::google_places;
using herd::test::http_reply;
using herd::test::http_request_seen;
using herd::test::http_test_server;
using Catch::Contains;
using steady = std::chrono::steady_clock;

namespace {

constexpr char key_env[] = "HERD_TEST_GOOGLE_PLACES_KEY";
constexpr char key[] = "AIzaSyD-herdTestKey0123456789abcdefgh";
constexpr char path[] = "/maps/api/place/nearbysearch/json";
constexpr herd::core::nanos received = 1520023935182837383;  // 0.263873386 s after the IAMAT's time
const std::string iamat = "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1520023934.918963997";
const std::string whatsat = "WHATSAT kiwi.cs.ucla.edu 10 5";

std::string fixture(const std::string& name) {
    std::ifstream in(std::string(HERD_NET_FIXTURES) + "/" + name, std::ios::binary);
    REQUIRE(in);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// A server that answers every request with `reply`.
http_test_server::handler always(http_reply reply) {
    return [reply = std::move(reply)](const http_request_seen&) { return reply; };
}

// An environment variable set (or, with nullptr, unset) for the life of a test, then restored.
class scoped_env {
public:
    scoped_env(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value != nullptr)
            setenv(name, value, 1);
        else
            unsetenv(name);
    }
    ~scoped_env() {
        if (old_)
            setenv(name_, old_->c_str(), 1);
        else
            unsetenv(name_);
    }
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

google_config config(std::string endpoint, std::chrono::milliseconds timeout = 2s) {
    google_config c;
    c.endpoint = std::move(endpoint);
    c.key_env = key_env;
    c.timeout = timeout;
    return c;
}

// A provider on the test's io_context, with the key in the environment (unless `with_key` is
// false) and its log collected.
struct provider_test {
    explicit provider_test(google_config cfg, const char* with_key = key)
        : env(key_env, with_key), places(io, std::move(cfg), [this](std::string l) { log.push_back(l); }) {}

    // Runs the io_context until `done()` holds; false after `limit`.
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 3s) {
        const auto end = steady::now() + limit;
        while (!done()) {
            if (steady::now() >= end) return false;
            if (io.stopped()) io.restart();
            io.run_one_for(10ms);
        }
        return true;
    }

    // Starts a lookup whose result lands in the returned slot.
    std::shared_ptr<std::optional<places_result>> start(double lat, double lon, double radius_m) {
        auto slot = std::make_shared<std::optional<places_result>>();
        places.lookup(lat, lon, radius_m, 20, [slot](places_result r) { *slot = std::move(r); });
        return slot;
    }

    // Starts `n` lookups at once and waits for every result.
    std::vector<places_result> lookup_together(int n) {
        std::vector<std::shared_ptr<std::optional<places_result>>> slots;
        for (int i = 0; i < n; ++i) slots.push_back(start(34, -118, 1000));
        REQUIRE(run_until([&] {
            return std::all_of(slots.begin(), slots.end(), [](const auto& s) { return s->has_value(); });
        }));
        std::vector<places_result> out;
        for (const auto& s : slots) out.push_back(**s);
        return out;
    }

    places_result lookup(double lat = 34.06893, double lon = -118.445127, double radius_m = 10'000) {
        const auto slot = start(lat, lon, radius_m);
        REQUIRE(run_until([&] { return slot->has_value(); }));
        return **slot;
    }

    boost::asio::io_context io;
    scoped_env env;
    std::vector<std::string> log;
    google_places places;
};

struct whatsat_outcome {
    std::string reply;              // every reply to the WHATSAT's connection
    std::vector<std::string> logs;  // the node's log lines
};

// IAMAT then WHATSAT to a Goloman node, whose query_places `t` answers as the net host does.
whatsat_outcome whatsat_through_node(provider_test& t) {
    using namespace herd::core;
    node n("Goloman", seed_topology());
    std::vector<effect> fx;
    n.client_line(1, iamat, received);
    n.poll_effects(fx);
    n.client_line(2, whatsat, received);
    n.poll_effects(fx);
    REQUIRE(fx.size() == 1);
    const auto q = std::get<query_places_effect>(fx[0]);
    CHECK(q.radius_m == 10'000);
    CHECK(q.limit == 5);
    std::optional<places_result> result;
    t.places.lookup(q.lat, q.lon, q.radius_m, q.limit, [&](places_result r) { result = std::move(r); });
    REQUIRE(t.run_until([&] { return result.has_value(); }));
    n.places_done(q.request, *result, received);
    n.poll_effects(fx);
    whatsat_outcome out;
    for (const auto& e : fx) {
        if (const auto* r = std::get_if<reply_effect>(&e)) {
            CHECK(r->conn == 2);
            out.reply += r->text;
        } else if (const auto* l = std::get_if<log_effect>(&e)) {
            out.logs.push_back(l->text);
        }
    }
    return out;
}

// The WHATSAT is refused with `? line`, one log line names `cause`, and no line shows the key.
void check_refused(const whatsat_outcome& o, const provider_test& t, const std::string& cause) {
    CHECK(o.reply == "? " + whatsat + "\n");
    REQUIRE(o.logs.size() == 1);
    CHECK_THAT(o.logs[0], Contains("'" + whatsat + "'") && Contains(cause));
    for (const auto& line : o.logs) CHECK_THAT(line, !Contains(key));
    for (const auto& line : t.log) CHECK_THAT(line, !Contains(key));
}

// A WHATSAT whose lookup the server answers with `reply` is refused, the log naming `cause`.
void check_whatsat_refused(http_reply reply, const std::string& cause,
                           std::chrono::milliseconds timeout = 2s) {
    http_test_server server(always(std::move(reply)));
    provider_test t(config(server.url(path), timeout));
    check_refused(whatsat_through_node(t), t, cause);
    CHECK(server.requests().size() == 1);
}

std::string nearby_response(const std::string& status, const std::string& message = {}) {
    std::string body = "{\n   \"html_attributions\" : [],\n   \"results\" : [],\n   \"status\" : \"" + status + "\"";
    if (!message.empty()) body = "{\n   \"error_message\" : \"" + message + "\"," + body.substr(1);
    return body + "\n}\n";
}

}  // namespace

TEST_CASE("A Nearby Search of 20 results becomes the WHATSAT reply cut to the limit, byte for byte", "[places]") {
    http_test_server server(always({200, fixture("nearby_20.json")}));
    provider_test t(config(server.url(path)));
    const whatsat_outcome o = whatsat_through_node(t);
    CHECK(o.reply == fixture("whatsat_5.txt"));
    CHECK(o.logs.empty());
    const auto seen = server.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].request_line == std::string("GET ") + path +
                                      "?location=34.068930,-118.445127&radius=10000&key=" + key +
                                      " HTTP/1.1");
    CHECK(seen[0].host == "127.0.0.1:" + std::to_string(server.port()));
    CHECK(t.log.empty());
}

TEST_CASE("The request has the location with 6 decimals and the radius in whole metres from 1 to 50000", "[places]") {
    http_test_server server(always({200, nearby_response("ZERO_RESULTS")}));
    provider_test t(config(server.url(std::string(path) + "?language=en")));
    CHECK(t.lookup(-33.8670522, 151.1957362, 1234.5).ok);
    CHECK(t.lookup(0.0000001, -0.0000004, 0.2).ok);
    CHECK(t.lookup(89.9999999, 180, 50'000.4).ok);
    CHECK(t.lookup(1e-300, -179.5, 777.49).ok);
    const auto seen = server.requests();
    REQUIRE(seen.size() == 4);
    const std::string prefix = std::string(path) + "?language=en&location=";
    CHECK(seen[0].target == prefix + "-33.867052,151.195736&radius=1235&key=" + key);
    CHECK(seen[1].target == prefix + "0.000000,0.000000&radius=1&key=" + key);
    CHECK(seen[2].target == prefix + "90.000000,180.000000&radius=50000&key=" + key);
    CHECK(seen[3].target == prefix + "0.000000,-179.500000&radius=777&key=" + key);
}

TEST_CASE("A key with reserved characters is percent-encoded in the URL", "[places]") {
    http_test_server server(always({200, nearby_response("OK")}));
    provider_test t(config(server.url(path)), "a+b/c=d&e f");
    CHECK(t.lookup().ok);
    REQUIRE(server.requests().size() == 1);
    CHECK_THAT(server.requests()[0].target, Contains("&key=a%2Bb%2Fc%3Dd%26e%20f"));
}

TEST_CASE("ZERO_RESULTS is an answer, not a failure", "[places]") {
    http_test_server server(always({200, nearby_response("ZERO_RESULTS")}));
    provider_test t(config(server.url(path)));
    const whatsat_outcome o = whatsat_through_node(t);
    CHECK(o.reply == "AT Goloman +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1520023934.918963997\n"
                     "{\n   \"html_attributions\": [],\n   \"results\": [],\n   \"status\": \"ZERO_RESULTS\"\n}\n\n");
    CHECK(o.logs.empty());
}

TEST_CASE("REQUEST_DENIED is refused and Google's error message is logged", "[places]") {
    check_whatsat_refused({200, nearby_response("REQUEST_DENIED", "The provided API key is invalid. ")},
                          "google places: status REQUEST_DENIED: The provided API key is invalid.");
}

TEST_CASE("INVALID_REQUEST is refused with its status in the log", "[places]") {
    check_whatsat_refused({200, nearby_response("INVALID_REQUEST")}, "google places: status INVALID_REQUEST (GET http://");
}

TEST_CASE("OVER_QUERY_LIMIT is refused with its status in the log", "[places]") {
    check_whatsat_refused({200, nearby_response("OVER_QUERY_LIMIT", "You have exceeded your daily request quota for this API.")},
                          "status OVER_QUERY_LIMIT: You have exceeded your daily request quota");
}

TEST_CASE("An HTTP 500 is refused with the status code in the log", "[places]") {
    check_whatsat_refused({500, "<html>Server Error</html>", "text/html"},
                          "google places: HTTP 500 Internal Server Error (GET http://127.0.0.1:");
}

TEST_CASE("Truncated JSON is refused as not JSON", "[places]") {
    check_whatsat_refused({200, fixture("nearby_20.json").substr(0, 5000)},
                          "google places: response is not JSON (5000 bytes)");
}

TEST_CASE("A body cut short of its Content-Length is refused", "[places]") {
    http_reply r;
    r.raw = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20033\r\n\r\n" +
            fixture("nearby_20.json").substr(0, 5000);
    check_whatsat_refused(r, "google places: reading the response: partial message");
}

TEST_CASE("A server that closes without answering is refused", "[places]") {
    http_reply r;
    r.raw = "";
    check_whatsat_refused(r, "google places: connection closed before a response: end of stream");
}

TEST_CASE("A JSON body without a status is refused", "[places]") {
    check_whatsat_refused({200, "[1, 2, 3]"}, "google places: response has no status");
}

TEST_CASE("A server that never answers times out without blocking the event loop", "[places]") {
    http_reply hang;
    hang.hang = true;
    http_test_server server(always(hang));
    provider_test t(config(server.url(path), 200ms));
    // A timer on the same io_context fires while the lookup waits.
    std::optional<steady::time_point> ticked;
    boost::asio::steady_timer tick(t.io, 50ms);
    tick.async_wait([&](boost::system::error_code) { ticked = steady::now(); });
    const auto started = steady::now();
    const whatsat_outcome o = whatsat_through_node(t);
    const auto elapsed = steady::now() - started;
    check_refused(o, t, "google places: no answer within 200 ms (GET http://127.0.0.1:");
    CHECK(elapsed >= 200ms);
    CHECK(elapsed < 1500ms);
    REQUIRE(ticked);
    CHECK(*ticked - started < 200ms);
}

TEST_CASE("A refused connection is refused with the cause in the log", "[places]") {
    const unsigned short port = herd::test::unused_port();
    provider_test t(config("http://127.0.0.1:" + std::to_string(port) + path));
    check_refused(whatsat_through_node(t), t,
                  "google places: cannot connect to 127.0.0.1 port " + std::to_string(port) +
                      ": Connection refused (GET http://127.0.0.1:" + std::to_string(port) + path +
                      "?location=34.068930,-118.445127&radius=10000&key=REDACTED)");
}

TEST_CASE("A missing key fails every lookup without a request and says so in the log", "[places]") {
    http_test_server server(always({200, nearby_response("OK")}));
    provider_test t(config(server.url(path)), nullptr);
    CHECK_FALSE(t.places.has_key());
    REQUIRE(t.log.size() == 1);
    CHECK_THAT(t.log[0], Contains("environment variable HERD_TEST_GOOGLE_PLACES_KEY is not set"));
    check_refused(whatsat_through_node(t), t, "google places: environment variable HERD_TEST_GOOGLE_PLACES_KEY is not set");
    CHECK(server.connections() == 0);
}

TEST_CASE("A key that Google echoes in its error message is redacted", "[places]") {
    check_whatsat_refused({200, nearby_response("REQUEST_DENIED", std::string("The key ") + key + " is not authorized.")},
                          "status REQUEST_DENIED: The key REDACTED is not authorized.");
}

TEST_CASE("A response larger than body_bytes_max is refused", "[places]") {
    http_test_server server(always({200, fixture("nearby_20.json")}));
    auto cfg = config(server.url(path));
    cfg.body_bytes_max = 1024;
    provider_test t(cfg);
    check_refused(whatsat_through_node(t), t, "google places: response body larger than 1024 bytes");
}

namespace {

// A chunked response whose body is `body` in chunks of 1000 bytes.
http_reply chunked(const std::string& body) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string raw = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (std::size_t at = 0; at < body.size(); at += 1000) {
        const std::string chunk = body.substr(at, 1000);
        std::string size;
        for (std::size_t n = chunk.size(); n != 0; n /= 16) size.insert(size.begin(), hex[n % 16]);
        raw += size + "\r\n" + chunk + "\r\n";
    }
    http_reply r;
    r.raw = raw + "0\r\n\r\n";
    return r;
}

}  // namespace

TEST_CASE("A chunked response is read whole, and refused past body_bytes_max", "[places]") {
    const std::string body = fixture("nearby_20.json");
    http_test_server server(always(chunked(body)));
    auto cfg = config(server.url(path));
    const places_result whole = provider_test(cfg).lookup();
    CHECK(whole.ok);
    CHECK(whole.body == body);
    cfg.body_bytes_max = 4096;
    const places_result cut = provider_test(cfg).lookup();
    CHECK_FALSE(cut.ok);
    CHECK_THAT(cut.error, Contains("response body larger than 4096 bytes"));
}

TEST_CASE("Two sequential lookups reuse one connection", "[places]") {
    http_test_server server(always({200, fixture("nearby_20.json")}));
    provider_test t(config(server.url(path)));
    CHECK(t.lookup().ok);
    CHECK(t.places.idle_connections() == 1);
    CHECK(t.lookup().ok);
    CHECK(server.connections() == 1);
    const auto seen = server.requests();
    REQUIRE(seen.size() == 2);
    CHECK(seen[1].connection == 1);
    CHECK(t.places.idle_connections() == 1);
}

TEST_CASE("A connection the server answered with Connection close is not reused", "[places]") {
    http_reply r{200, nearby_response("OK")};
    r.keep_alive = false;
    http_test_server server(always(r));
    provider_test t(config(server.url(path)));
    CHECK(t.lookup().ok);
    CHECK(t.places.idle_connections() == 0);
    CHECK(t.lookup().ok);
    CHECK(server.connections() == 2);
}

TEST_CASE("A reused connection that the server has closed is retried once on a new one", "[places]") {
    http_reply r{200, nearby_response("OK")};
    r.drop_after = true;  // the server's idle timeout strikes right after each reply
    http_test_server server(always(r));
    provider_test t(config(server.url(path)));
    CHECK(t.lookup().ok);
    const places_result second = t.lookup();
    CHECK(second.ok);
    CHECK(second.error.empty());
    CHECK(server.connections() == 2);
    CHECK(server.requests().size() == 2);
    REQUIRE(t.log.size() == 1);
    CHECK_THAT(t.log[0], Contains("closed by the server; retrying on a new connection"));
}

TEST_CASE("The retry on a new connection is not retried again", "[places]") {
    int count = 0;
    http_test_server server([&count](const http_request_seen&) {
        http_reply r{200, nearby_response("OK")};
        r.drop_after = true;
        if (++count > 1) r.raw = "";  // every later request: closed without an answer
        return r;
    });
    provider_test t(config(server.url(path)));
    CHECK(t.lookup().ok);
    const places_result second = t.lookup();
    CHECK_FALSE(second.ok);
    CHECK_THAT(second.error, Contains("connection closed before a response"));
    CHECK(server.connections() == 2);
}

TEST_CASE("Lookups past requests_max wait their turn on the same connection", "[places]") {
    http_test_server server(always({200, nearby_response("OK")}));
    auto cfg = config(server.url(path));
    cfg.requests_max = 1;
    provider_test t(cfg);
    for (const auto& r : t.lookup_together(3)) CHECK(r.ok);
    CHECK(server.connections() == 1);
    CHECK(server.requests().size() == 3);
}

TEST_CASE("A lookup past requests_max and queue_max is refused at once", "[places]") {
    http_reply hang;
    hang.hang = true;
    http_test_server server(always(hang));
    auto cfg = config(server.url(path), 300ms);
    cfg.requests_max = 1;
    cfg.queue_max = 1;
    provider_test t(cfg);
    const auto on_wire = t.start(34, -118, 1000);
    const auto waiting = t.start(34, -118, 1000);
    const auto refused = t.start(34, -118, 1000);
    REQUIRE(t.run_until([&] { return refused->has_value(); }));
    CHECK_FALSE(on_wire->has_value());
    CHECK_FALSE(waiting->has_value());
    CHECK(t.places.active() == 1);
    CHECK(t.places.queued() == 1);
    CHECK_FALSE((*refused)->ok);
    CHECK_THAT((*refused)->error, Contains("too many lookups (1 on the wire, 1 waiting); refused"));
    REQUIRE(t.run_until([&] { return on_wire->has_value() && waiting->has_value(); }));
    CHECK_THAT((*on_wire)->error, Contains("no answer within 300 ms"));
    CHECK_THAT((*waiting)->error, Contains("no answer within 300 ms"));
    CHECK(t.places.queued() == 0);
    CHECK(server.requests().size() == 1);
}

TEST_CASE("At most idle_connections_max connections stay open between lookups", "[places]") {
    http_test_server server(always({200, nearby_response("OK")}));
    auto cfg = config(server.url(path));
    cfg.idle_connections_max = 1;
    provider_test t(cfg);
    for (const auto& r : t.lookup_together(3)) CHECK(r.ok);
    CHECK(server.connections() == 3);
    CHECK(t.places.idle_connections() == 1);
    CHECK(t.lookup().ok);
    CHECK(server.connections() == 3);
}

TEST_CASE("Destroying the provider abandons a pending lookup without calling it back", "[places]") {
    http_reply hang;
    hang.hang = true;
    http_test_server server(always(hang));
    boost::asio::io_context io;
    const scoped_env env(key_env, key);
    auto places = std::make_unique<google_places>(io, config(server.url(path)));
    bool called = false;
    places->lookup(34, -118, 1000, 5, [&](places_result) { called = true; });
    io.run_for(100ms);
    REQUIRE(server.requests().size() == 1);
    places.reset();
    io.restart();
    io.run_for(2s);  // returns as soon as the abandoned lookup has let go of everything
    CHECK(io.stopped());
    CHECK_FALSE(called);
}

TEST_CASE("A malformed endpoint is refused when the provider is made", "[places]") {
    boost::asio::io_context io;
    const auto make = [&](const std::string& url) { google_places p(io, config(url)); };
    CHECK_THROWS_WITH(make("ftp://example.com/x"), Contains("'ftp://example.com/x': the scheme must be http or https"));
    CHECK_THROWS_WITH(make("maps.googleapis.com/maps/api"), Contains("expected http://host/path"));
    CHECK_THROWS_WITH(make("https:///maps/api"), Contains("no host"));
    CHECK_THROWS_WITH(make("http://example.com:0/"), Contains("port must be a number in 1–65535"));
    CHECK_THROWS_WITH(make("http://example.com:65536/"), Contains("port must be a number"));
    CHECK_THROWS_WITH(make("http://example.com:/"), Contains("port must be a number"));
    CHECK_THROWS_WITH(make("http://user:pw@example.com/"), Contains("user information"));
    CHECK_THROWS_WITH(make("http://example.com/a b"), Contains("white space"));
    CHECK_THROWS_WITH(make("http://example.com/#top"), Contains("fragment"));
    CHECK_THROWS_WITH(make("http://[::1/"), Contains("unclosed '['"));
    CHECK_THROWS_WITH(make("http://[example.com]/"), Contains("is not an IPv6 address"));
    CHECK_THROWS_AS(make("http://example.com:8080x/"), std::invalid_argument);
}

TEST_CASE("An endpoint URL is taken apart into host, port, target and Host header", "[places]") {
    const auto g = herd::net::parse_endpoint("https://maps.googleapis.com/maps/api/place/nearbysearch/json");
    CHECK(g.tls);
    CHECK(g.host == "maps.googleapis.com");
    CHECK(g.port == "443");
    CHECK(g.target == "/maps/api/place/nearbysearch/json");
    CHECK(g.host_header == "maps.googleapis.com");
    const auto v6 = herd::net::parse_endpoint("http://[::1]:8080");
    CHECK_FALSE(v6.tls);
    CHECK(v6.host == "::1");
    CHECK(v6.port == "8080");
    CHECK(v6.target == "/");
    CHECK(v6.host_header == "[::1]:8080");
    const auto q = herd::net::parse_endpoint("HTTP://Example.com:80?x=1");
    CHECK(q.port == "80");
    CHECK(q.target == "/?x=1");
    CHECK(q.host_header == "Example.com");
}

namespace {

// A self-signed certificate for localhost, trusted through OpenSSL's SSL_CERT_FILE while it
// lives (the provider reads the trust store when it is made).
struct trusted_localhost {
    trusted_localhost()
        : cert(herd::test::test_certificate::self_signed("localhost")),
          file(std::filesystem::temp_directory_path() /
               ("herd-test-google-" + std::to_string(getpid()) + ".pem")),
          env("SSL_CERT_FILE", file.c_str()) {
        std::ofstream(file) << cert.cert_pem;
    }
    ~trusted_localhost() { std::filesystem::remove(file); }

    herd::test::test_certificate cert;
    std::filesystem::path file;
    scoped_env env;
};

}  // namespace

TEST_CASE("HTTPS checks the certificate against the trust store and sends SNI", "[places]") {
    trusted_localhost trust;
    http_test_server server(always({200, nearby_response("OK")}), &trust.cert);
    const std::string port = std::to_string(server.port());
    provider_test t(config("https://localhost:" + port + path));
    const places_result r = t.lookup();
    CHECK(r.error == "");
    CHECK(r.ok);
    CHECK(t.lookup().ok);
    CHECK(server.connections() == 1);
    const auto seen = server.requests();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].sni == "localhost");
    CHECK(seen[0].host == "localhost:" + port);
}

TEST_CASE("HTTPS refuses a certificate for another host name", "[places]") {
    trusted_localhost trust;
    http_test_server server(always({200, nearby_response("OK")}), &trust.cert);
    provider_test t(config("https://127.0.0.1:" + std::to_string(server.port()) + path));
    const places_result r = t.lookup();
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("TLS handshake with 127.0.0.1 port") && Contains("certificate verify failed"));
    CHECK(server.requests().empty());
}

TEST_CASE("HTTPS refuses a certificate the trust store does not vouch for", "[places]") {
    const auto cert = herd::test::test_certificate::self_signed("localhost");
    http_test_server server(always({200, nearby_response("OK")}), &cert);
    provider_test t(config("https://localhost:" + std::to_string(server.port()) + path));
    const places_result r = t.lookup();
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Contains("certificate verify failed"));
    CHECK_THAT(r.error, !Contains(key) && Contains("key=REDACTED"));
    CHECK(server.requests().empty());
}
