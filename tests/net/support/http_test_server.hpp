#pragma once
// herd::test::http_test_server: a small HTTP/1.1 server for tests of HTTP clients. It listens on
// 127.0.0.1 at an ephemeral port, serves on a thread of its own (so a client that blocked its
// own event loop would show), answers every request with what the test's handler returns, and
// records what it received. Plain HTTP, or HTTPS with a certificate the test makes.
//
//     herd::test::http_test_server server([](const auto& req) {
//         return herd::test::http_reply{200, R"({"status": "OK"})"};
//     });
//     client.get(server.url("/path"));  ... server.requests()[0].request_line ...

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herd::test {

// What the server does with one request. By default: a 200 response with `body`, kept alive.
struct http_reply {
    http_reply() = default;
    http_reply(unsigned status, std::string body,
               std::string content_type = "application/json; charset=UTF-8")
        : status(status), body(std::move(body)), content_type(std::move(content_type)) {}

    unsigned status = 200;
    std::string body;
    std::string content_type = "application/json; charset=UTF-8";
    bool keep_alive = true;           // false: send "Connection: close", then close
    bool drop_after = false;          // close after replying although keep-alive was sent, as a
                                      // server whose idle timeout strikes does
    bool hang = false;                // never answer; hold the connection until the client closes
                                      // it or the server stops
    std::optional<std::string> raw;   // write these bytes instead of a response, then close
};

// A request as the server received it.
struct http_request_seen {
    std::string request_line;         // "GET /path?query HTTP/1.1", byte for byte, without CRLF
    std::string head;                 // the request line and headers, byte for byte
    std::string target;               // the second field of the request line
    std::string host;                 // the Host header's value
    std::string sni;                  // the TLS server name the client sent ("" if none)
    std::size_t connection = 0;       // which accepted connection carried it, from 1
};

// A certificate and its private key, both PEM.
struct test_certificate {
    std::string cert_pem;
    std::string key_pem;

    // A new self-signed certificate for `dns_name` (subject CN and subjectAltName DNS), EC P-256,
    // valid from an hour ago for a day. Throws std::runtime_error if OpenSSL fails.
    static test_certificate self_signed(const std::string& dns_name);
};

class http_test_server {
public:
    using handler = std::function<http_reply(const http_request_seen&)>;

    // Starts listening and serving. `respond` runs on the server's thread, one request at a
    // time. With `tls`, connections are HTTPS with that certificate. Throws on failure to listen.
    explicit http_test_server(handler respond, const test_certificate* tls = nullptr);

    // Stops: closes every connection and joins the thread.
    ~http_test_server();

    http_test_server(const http_test_server&) = delete;
    http_test_server& operator=(const http_test_server&) = delete;

    unsigned short port() const;

    // "http://127.0.0.1:PORT" (or https) followed by `target`.
    std::string url(std::string_view target) const;

    // Connections accepted so far; the requests received so far, in order. Thread-safe.
    std::size_t connections() const;
    std::vector<http_request_seen> requests() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// A loopback port on which nothing listens (bound to an ephemeral port, then closed), for
// testing a refused connection.
unsigned short unused_port();

}  // namespace herd::test
