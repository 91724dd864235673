#include "net/peer_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>

#include "core/protocol.hpp"

namespace herd::net::peer_auth {
namespace {

std::string to_hex(const unsigned char* bytes, std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(2 * n, '0');
    for (std::size_t i = 0; i < n; ++i) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0xf];
    }
    return out;
}

bool is_lower_hex(std::string_view s, std::size_t chars) {
    if (s.size() != chars) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

}  // namespace

std::string format_hello(const hello& h) {
    std::string out(hello_word);
    for (const std::string* f : {&h.name, &h.nonce, &h.proof})
        if (!f->empty()) (out += ' ') += *f;
    out += '\n';
    return out;
}

bool is_hello(std::string_view line) {
    const auto f = core::split_fields(core::strip_cr(line));
    return !f.empty() && f[0] == hello_word;
}

std::optional<hello> parse_hello(std::string_view line) {
    const auto f = core::split_fields(core::strip_cr(line));
    if (f.size() < 2 || f.size() > 4 || f[0] != hello_word) return std::nullopt;
    hello h;
    h.name = std::string(f[1]);
    if (f.size() >= 3) {
        if (!is_lower_hex(f[2], nonce_hex_chars)) return std::nullopt;
        h.nonce = std::string(f[2]);
    }
    if (f.size() == 4) {
        if (!is_lower_hex(f[3], proof_hex_chars)) return std::nullopt;
        h.proof = std::string(f[3]);
    }
    return h;
}

std::string format_auth(std::string_view proof) {
    std::string out(auth_word);
    (out += ' ') += proof;
    out += '\n';
    return out;
}

std::optional<std::string> parse_auth(std::string_view line) {
    const auto f = core::split_fields(core::strip_cr(line));
    if (f.size() != 2 || f[0] != auth_word || !is_lower_hex(f[1], proof_hex_chars)) return std::nullopt;
    return std::string(f[1]);
}

std::optional<std::string> new_nonce() {
    std::array<unsigned char, nonce_bytes> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return std::nullopt;
    return to_hex(bytes.data(), bytes.size());
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &len);
    return to_hex(mac.data(), len);
}

std::string proof(std::string_view secret, std::string_view prover, std::string_view verifier,
                  std::string_view verifier_nonce, std::string_view prover_nonce) {
    std::string data(proof_label);
    for (std::string_view f : {prover, verifier, verifier_nonce, prover_nonce}) (data += ' ') += f;
    return hmac_sha256_hex(secret, data);
}

bool verify(std::string_view secret, std::string_view prover, std::string_view verifier,
            std::string_view verifier_nonce, std::string_view prover_nonce, std::string_view given) {
    const std::string expected = proof(secret, prover, verifier, verifier_nonce, prover_nonce);
    return given.size() == expected.size() &&
           CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

std::string for_log(std::string_view line) {
    const auto f = core::split_fields(core::strip_cr(line));
    std::size_t keep = 0;  // fields shown whole
    if (!f.empty() && f[0] == hello_word) keep = 3;
    else if (!f.empty() && f[0] == auth_word) keep = 1;
    else return std::string(line);
    std::string out;
    for (std::size_t i = 0; i < f.size(); ++i) {
        if (i > 0) out += ' ';
        if (i < keep || f[i].size() <= proof_hex_logged) out += f[i];
        else (out += f[i].substr(0, proof_hex_logged)) += "…";
    }
    return out;
}

}  // namespace herd::net::peer_auth
