#pragma once
// The peer handshake (DESIGN §6, docs/net.md): the lines two servers exchange before a
// connection becomes a link, and the HMAC-SHA256 proofs they carry when the herd has a shared
// secret. Formatting, parsing and proofs only; the server drives the exchange.
//
// Without a secret:                       With a secret (D dials L):
//   D -> L  HERD-PEER D                     D -> L  HERD-PEER D <nonce_d>
//   L -> D  HERD-PEER L                     L -> D  HERD-PEER L <nonce_l> <proof(L, D, nonce_d, nonce_l)>
//                                           D -> L  HERD-AUTH <proof(D, L, nonce_l, nonce_d)>
//
// proof(prover, verifier, verifier_nonce, prover_nonce) =
//   lowercase hex of HMAC-SHA256(secret, "herd-peer-v1 <prover> <verifier> <verifier_nonce> <prover_nonce>")
//
// A proof names who proves to whom and answers the verifier's fresh nonce, so a recorded
// handshake replayed on a new connection (new nonce) fails, and so does a proof reflected back
// to the server that made it (prover and verifier swap).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace herd::net::peer_auth {

inline constexpr std::string_view hello_word = "HERD-PEER";
inline constexpr std::string_view auth_word = "HERD-AUTH";
inline constexpr std::string_view proof_label = "herd-peer-v1";
inline constexpr std::size_t nonce_bytes = 16;
inline constexpr std::size_t nonce_hex_chars = 2 * nonce_bytes;
inline constexpr std::size_t proof_hex_chars = 64;  // HMAC-SHA256
// A longer secret is refused at start (a secret is a key, not a file).
inline constexpr std::size_t secret_bytes_max = 1024;
// A shorter one is accepted, with a warning in the log.
inline constexpr std::size_t secret_bytes_min_advised = 16;
// Hex characters of a proof that a log line may show.
inline constexpr std::size_t proof_hex_logged = 8;

// A `HERD-PEER` line: the name, and the nonce and proof when present.
struct hello {
    std::string name;
    std::string nonce;  // empty in a herd without a secret
    std::string proof;  // empty in the dialer's hello
};

// `HERD-PEER <name>[ <nonce>[ <proof>]]\n`; empty fields are left out.
std::string format_hello(const hello& h);
// Parses a `HERD-PEER` line (without its newline; a trailing '\r' is ignored): 2 to 4 fields,
// a nonce of nonce_hex_chars and a proof of proof_hex_chars lowercase hex digits. Nothing when
// the line is not a HERD-PEER line or a field is malformed; `is_hello` tells the two apart.
std::optional<hello> parse_hello(std::string_view line);
bool is_hello(std::string_view line);

// `HERD-AUTH <proof>\n`.
std::string format_auth(std::string_view proof);
// The proof of a `HERD-AUTH` line; nothing when the line is anything else or malformed.
std::optional<std::string> parse_auth(std::string_view line);

// A fresh nonce: nonce_bytes from OpenSSL's RAND_bytes, in lowercase hex. Nothing if the
// generator fails (the caller drops the connection).
std::optional<std::string> new_nonce();

// Lowercase hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// The proof `prover` gives `verifier` (see above).
std::string proof(std::string_view secret, std::string_view prover, std::string_view verifier,
                  std::string_view verifier_nonce, std::string_view prover_nonce);

// Whether `given` is that proof; compared in constant time (CRYPTO_memcmp).
bool verify(std::string_view secret, std::string_view prover, std::string_view verifier,
            std::string_view verifier_nonce, std::string_view prover_nonce, std::string_view given);

// `line` as a log may show it: the proofs of HERD-PEER and HERD-AUTH lines cut to
// proof_hex_logged characters and `…`; any other line unchanged.
std::string for_log(std::string_view line);

}  // namespace herd::net::peer_auth
