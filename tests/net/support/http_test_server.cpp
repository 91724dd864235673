#include "tests/net/support/http_test_server.hpp"

#include <utility>  // before Asio: Asio 1.18's awaitable.hpp uses std::exchange without it

#include <algorithm>
#include <cctype>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace herd::test {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

struct openssl_free {
    void operator()(X509* p) const { X509_free(p); }
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
    void operator()(BIO* p) const { BIO_free(p); }
    void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
template <class T>
using openssl_ptr = std::unique_ptr<T, openssl_free>;

void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("test certificate: ") + what + " failed");
}

template <class Write>
std::string pem(Write write) {
    openssl_ptr<BIO> bio(BIO_new(BIO_s_mem()));
    check(bio != nullptr && write(bio.get()) == 1, "PEM_write");
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

// The value of header `name` (case-insensitive) in a request head, without surrounding blanks.
std::string header_value(std::string_view head, std::string_view name) {
    for (std::size_t at = head.find("\r\n"); at != std::string_view::npos;) {
        const std::size_t begin = at + 2;
        const std::size_t end = head.find("\r\n", begin);
        const std::string_view line = head.substr(begin, end - begin);
        at = end;
        if (line.size() <= name.size() || line[name.size()] != ':') continue;
        if (!std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) ==
                       std::tolower(static_cast<unsigned char>(b));
            }))
            continue;
        std::string_view value = line.substr(name.size() + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
        return std::string(value);
    }
    return {};
}

}  // namespace

test_certificate test_certificate::self_signed(const std::string& dns_name) {
    openssl_ptr<EVP_PKEY> key(EVP_EC_gen("P-256"));
    check(key != nullptr, "EVP_EC_gen");
    openssl_ptr<X509> cert(X509_new());
    check(cert != nullptr, "X509_new");
    check(X509_set_version(cert.get(), 2) == 1, "X509_set_version");
    check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1, "ASN1_INTEGER_set");
    check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr, "X509_gmtime_adj");
    check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600) != nullptr, "X509_gmtime_adj");
    check(X509_set_pubkey(cert.get(), key.get()) == 1, "X509_set_pubkey");
    X509_NAME* name = X509_get_subject_name(cert.get());
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(dns_name.c_str()), -1,
                                     -1, 0) == 1,
          "X509_NAME_add_entry_by_txt");
    check(X509_set_issuer_name(cert.get(), name) == 1, "X509_set_issuer_name");
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    const std::string san = "DNS:" + dns_name;
    for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, san.c_str()},
                                     std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
        openssl_ptr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
        check(ext != nullptr && X509_add_ext(cert.get(), ext.get(), -1) == 1, "X509_add_ext");
    }
    check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "X509_sign");
    return {pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); }),
            pem([&](BIO* b) {
                return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
            })};
}

struct http_test_server::impl {
    impl(handler h, const test_certificate* cert) : respond(std::move(h)), tls(cert != nullptr) {
        if (tls) {
            tls_context.use_certificate_chain(asio::buffer(cert->cert_pem));
            tls_context.use_private_key(asio::buffer(cert->key_pem), asio::ssl::context::pem);
        }
        acceptor.open(tcp::v4());
        acceptor.bind({asio::ip::make_address_v4("127.0.0.1"), 0});
        acceptor.listen();
        port = acceptor.local_endpoint().port();
        asio::co_spawn(io, do_accept(), asio::detached);
        thread = std::thread([this] { io.run(); });
    }

    asio::awaitable<void> do_accept() {
        for (;;) {
            error_code ec;
            tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return;
            std::size_t n = 0;
            {
                const std::lock_guard lock(mutex);
                n = ++accepted;
            }
            asio::co_spawn(io, do_session(std::move(socket), n), asio::detached);
        }
    }

    asio::awaitable<void> do_session(tcp::socket socket, std::size_t n) {
        try {
            if (!tls) {
                co_await do_serve(socket, n, {});
                co_return;
            }
            asio::ssl::stream<tcp::socket> stream(std::move(socket), tls_context);
            error_code ec;
            co_await stream.async_handshake(asio::ssl::stream_base::server,
                                            asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return;
            const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
            co_await do_serve(stream, n, sni != nullptr ? sni : "");
        } catch (const std::exception&) {
            // A handler that throws ends its connection, as a crashing server would.
        }
    }

    template <class Stream>
    asio::awaitable<void> do_serve(Stream& stream, std::size_t n, std::string sni) {
        std::string in;
        for (;;) {
            error_code ec;
            const std::size_t size = co_await asio::async_read_until(
                stream, asio::dynamic_buffer(in), "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return;
            http_request_seen req;
            req.head = in.substr(0, size);
            in.erase(0, size);
            req.request_line = req.head.substr(0, req.head.find("\r\n"));
            const auto sp1 = req.request_line.find(' ');
            const auto sp2 = req.request_line.find(' ', sp1 + 1);
            if (sp1 != std::string::npos) req.target = req.request_line.substr(sp1 + 1, sp2 - sp1 - 1);
            req.host = header_value(req.head, "host");
            req.sni = sni;
            req.connection = n;
            {
                const std::lock_guard lock(mutex);
                seen.push_back(req);
            }
            const http_reply r = respond(req);
            if (r.hang) {
                char byte;
                while (!ec)
                    co_await stream.async_read_some(asio::buffer(&byte, 1),
                                                    asio::redirect_error(asio::use_awaitable, ec));
                co_return;
            }
            if (r.raw) {
                co_await asio::async_write(stream, asio::buffer(*r.raw),
                                           asio::redirect_error(asio::use_awaitable, ec));
                co_return;
            }
            http::response<http::string_body> res{static_cast<http::status>(r.status), 11};
            res.set(http::field::content_type, r.content_type);
            res.keep_alive(r.keep_alive);
            res.body() = r.body;
            res.prepare_payload();
            co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
            if (ec || !r.keep_alive || r.drop_after) co_return;
        }
    }

    handler respond;
    bool tls;
    asio::ssl::context tls_context{asio::ssl::context::tls_server};  // outlives the sessions
    asio::io_context io;
    tcp::acceptor acceptor{io};
    unsigned short port = 0;
    mutable std::mutex mutex;
    std::size_t accepted = 0;              // guarded by mutex
    std::vector<http_request_seen> seen;   // guarded by mutex
    std::thread thread;
};

http_test_server::http_test_server(handler respond, const test_certificate* tls)
    : impl_(std::make_unique<impl>(std::move(respond), tls)) {}

http_test_server::~http_test_server() {
    impl_->io.stop();
    impl_->thread.join();
}

unsigned short http_test_server::port() const { return impl_->port; }

std::string http_test_server::url(std::string_view target) const {
    return (impl_->tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port()) +
           std::string(target);
}

std::size_t http_test_server::connections() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->accepted;
}

std::vector<http_request_seen> http_test_server::requests() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->seen;
}

unsigned short unused_port() {
    asio::io_context io;
    tcp::acceptor a(io, {asio::ip::make_address_v4("127.0.0.1"), 0});
    return a.local_endpoint().port();
}

}  // namespace herd::test
