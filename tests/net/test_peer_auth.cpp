// net/peer_auth: the handshake lines and their HMAC-SHA256 proofs.
#include <catch2/catch.hpp>

#include <cctype>
#include <set>

#include "net/peer_auth.hpp"

using namespace herd::net;

namespace {

const std::string secret = "correct horse battery staple";
const std::string nonce_d = "00112233445566778899aabbccddeeff";
const std::string nonce_l = "ffeeddccbbaa99887766554433221100";

}  // namespace

TEST_CASE("HMAC-SHA256 matches RFC 4231 test case 2", "[net]") {
    CHECK(peer_auth::hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("a proof is the HMAC of the label, prover, verifier, verifier nonce and prover nonce",
          "[net]") {
    // Computed independently:
    //   printf 'herd-peer-v1 Welsh Holiday 0011…eeff ffee…1100' | openssl dgst -sha256 -hmac '…'
    const std::string expected = "dd193c6c3b5849f96e0d9ec214b0efd053a56c1480b88401e91df336195ab1e2";
    CHECK(peer_auth::proof(secret, "Welsh", "Holiday", nonce_d, nonce_l) == expected);
    CHECK(peer_auth::hmac_sha256_hex(secret, "herd-peer-v1 Welsh Holiday " + nonce_d + " " + nonce_l) == expected);
    CHECK(peer_auth::verify(secret, "Welsh", "Holiday", nonce_d, nonce_l, expected));
}

TEST_CASE("a proof does not verify with another secret, name, nonce or direction", "[net]") {
    const std::string p = peer_auth::proof(secret, "Welsh", "Holiday", nonce_d, nonce_l);
    CHECK_FALSE(peer_auth::verify("another secret", "Welsh", "Holiday", nonce_d, nonce_l, p));
    CHECK_FALSE(peer_auth::verify(secret, "Wilkes", "Holiday", nonce_d, nonce_l, p));
    CHECK_FALSE(peer_auth::verify(secret, "Welsh", "Goloman", nonce_d, nonce_l, p));
    // A replay: the same proof against a fresh verifier nonce.
    CHECK_FALSE(peer_auth::verify(secret, "Welsh", "Holiday", "0123456789abcdef0123456789abcdef", nonce_l, p));
    // A reflection: the listener's proof handed back as the dialer's (roles and nonces swapped).
    CHECK_FALSE(peer_auth::verify(secret, "Holiday", "Welsh", nonce_l, nonce_d, p));
    // A proof cut short, or with a digit changed, or in upper case.
    CHECK_FALSE(peer_auth::verify(secret, "Welsh", "Holiday", nonce_d, nonce_l, p.substr(0, 63)));
    std::string flipped = p;
    flipped[10] = flipped[10] == '0' ? '1' : '0';
    CHECK_FALSE(peer_auth::verify(secret, "Welsh", "Holiday", nonce_d, nonce_l, flipped));
    std::string upper = p;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK_FALSE(peer_auth::verify(secret, "Welsh", "Holiday", nonce_d, nonce_l, upper));
}

TEST_CASE("hello lines are formatted and parsed with and without a nonce and a proof", "[net]") {
    const std::string p = peer_auth::proof(secret, "Welsh", "Holiday", nonce_d, nonce_l);
    CHECK(peer_auth::format_hello({"Holiday", {}, {}}) == "HERD-PEER Holiday\n");
    CHECK(peer_auth::format_hello({"Holiday", nonce_d, {}}) == "HERD-PEER Holiday " + nonce_d + "\n");
    CHECK(peer_auth::format_hello({"Welsh", nonce_l, p}) == "HERD-PEER Welsh " + nonce_l + " " + p + "\n");

    const auto plain = peer_auth::parse_hello("HERD-PEER Holiday");
    REQUIRE(plain);
    CHECK(plain->name == "Holiday");
    CHECK(plain->nonce.empty());
    CHECK(plain->proof.empty());
    const auto full = peer_auth::parse_hello("HERD-PEER  Welsh\t" + nonce_l + " " + p + "\r");
    REQUIRE(full);
    CHECK(full->name == "Welsh");
    CHECK(full->nonce == nonce_l);
    CHECK(full->proof == p);
}

TEST_CASE("malformed hello and auth lines are refused", "[net]") {
    const std::string p = peer_auth::proof(secret, "Welsh", "Holiday", nonce_d, nonce_l);
    CHECK_FALSE(peer_auth::parse_hello("HERD-PEER"));
    CHECK_FALSE(peer_auth::parse_hello("HERD-PEER Welsh " + nonce_l + " " + p + " extra"));
    CHECK_FALSE(peer_auth::parse_hello("HERD-PEER Welsh 0011"));                 // short nonce
    CHECK_FALSE(peer_auth::parse_hello("HERD-PEER Welsh " + nonce_l + "00"));    // long nonce
    CHECK_FALSE(peer_auth::parse_hello("HERD-PEER Welsh 00112233445566778899AABBCCDDEEFF"));  // upper case
    CHECK_FALSE(peer_auth::parse_hello("HERD-PEER Welsh " + nonce_l + " " + p.substr(1)));
    CHECK_FALSE(peer_auth::parse_hello("HERD-PEERS Welsh"));
    CHECK(peer_auth::is_hello("HERD-PEER"));
    CHECK(peer_auth::is_hello("HERD-PEER a b c d e"));
    CHECK_FALSE(peer_auth::is_hello("IAMAT HERD-PEER +1+1 1"));

    CHECK(peer_auth::format_auth(p) == "HERD-AUTH " + p + "\n");
    CHECK(peer_auth::parse_auth("HERD-AUTH " + p) == p);
    CHECK_FALSE(peer_auth::parse_auth("HERD-AUTH"));
    CHECK_FALSE(peer_auth::parse_auth("HERD-AUTH " + p + " " + p));
    CHECK_FALSE(peer_auth::parse_auth("HERD-AUTH " + p.substr(2)));
    CHECK_FALSE(peer_auth::parse_auth("HERD-PEER " + p));
}

TEST_CASE("nonces are 32 lowercase hex digits and do not repeat", "[net]") {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const auto n = peer_auth::new_nonce();
        REQUIRE(n);
        REQUIRE(n->size() == peer_auth::nonce_hex_chars);
        REQUIRE(n->find_first_not_of("0123456789abcdef") == std::string::npos);
        seen.insert(*n);
    }
    CHECK(seen.size() == 1000);
}

TEST_CASE("a log shows handshake lines with their proofs cut short", "[net]") {
    const std::string p = peer_auth::proof(secret, "Welsh", "Holiday", nonce_d, nonce_l);
    const std::string hello = peer_auth::for_log("HERD-PEER Welsh " + nonce_l + " " + p);
    CHECK(hello == "HERD-PEER Welsh " + nonce_l + " " + p.substr(0, 8) + "…");
    CHECK(hello.find(p) == std::string::npos);
    CHECK(peer_auth::for_log("HERD-AUTH " + p) == "HERD-AUTH " + p.substr(0, 8) + "…");
    CHECK(peer_auth::for_log("HERD-AUTH " + p + " " + p).find(p) == std::string::npos);
    CHECK(peer_auth::for_log("FLOOD a +0.000000001 c +1+1 1") == "FLOOD a +0.000000001 c +1+1 1");
}
