#pragma once
// net::google_places: the `google` places provider (DESIGN §7). It answers a node's
// query_places effect with Google's Nearby Search (legacy Places API):
//
//     GET <endpoint>?location=LAT,LNG&radius=METRES&key=KEY
//
// over HTTPS (Boost.Beast, OpenSSL: certificates checked against the system store, host name
// checked, SNI sent) or plain HTTP (so tests can point it at a local server). Every step is
// asynchronous on the caller's io_context; connections are kept alive and reused.
// docs/places-google.md describes the configuration, the errors, the log and the limits.

#include <utility>  // before Asio: Asio 1.18's awaitable.hpp uses std::exchange without it

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>

#include "core/node.hpp"

namespace herd::net {

// What the provider needs; `endpoint`, `key_env` and `timeout` are the herd config's
// `places.endpoint`, `places.key_env` and `places.timeout_ms`. The rest are limits.
struct google_config {
    std::string endpoint = "https://maps.googleapis.com/maps/api/place/nearbysearch/json";
    std::string key_env = "GOOGLE_PLACES_API_KEY";  // the environment variable holding the key
    std::chrono::milliseconds timeout{5000};        // a whole lookup: queue, connect, TLS, reply

    std::size_t body_bytes_max = 4 << 20;           // a larger response fails the lookup
    std::size_t requests_max = 16;                  // lookups on the wire at once
    std::size_t queue_max = 256;                    // lookups waiting for one of those; refused past it
    std::size_t idle_connections_max = 4;           // kept open between lookups (most recent kept)
    std::chrono::milliseconds idle_timeout{30'000}; // an idle connection older than this is closed, not reused
};

// An http:// or https:// URL taken apart. `host` is bare (no brackets around an IPv6 address);
// `port` is explicit or the scheme's default; `target` is the path and query ("/" at least);
// `host_header` is what the Host header carries (brackets, and the port when not the default).
struct endpoint_url {
    bool tls = false;
    std::string host;
    std::string port;
    std::string target;
    std::string host_header;
};

// Parses `url` as `http[s]://host[:port][/path][?query]` (scheme case-insensitive, IPv6 hosts
// in brackets). Throws std::invalid_argument, naming the URL and what is wrong, for another
// scheme, no host, a port outside 1–65535, user information, a fragment, white space or
// control characters.
endpoint_url parse_endpoint(std::string_view url);

// The provider. Create it, and call lookup(), on any thread; `done` callbacks and the `log`
// callback run on the io_context (serialised by a strand: never two at once), but for the
// missing-key line, which the constructor logs. Destroy it on a thread that runs the
// io_context, or while it does not run.
class google_places {
public:
    // Parses cfg.endpoint (throws std::invalid_argument for a malformed one, or for a zero
    // timeout or requests_max) and reads the key from the environment variable cfg.key_env,
    // once: a later change of the variable is not seen. A missing or empty key is not an error
    // here: `log` is told, and every lookup fails with that cause. `log` receives one line per
    // event worth an operator's eye that no lookup result reports (missing key, a reused
    // connection found closed); it never contains the key.
    google_places(boost::asio::io_context& io, google_config cfg,
                  std::function<void(std::string)> log = {});
    // As above, on any executor of an io_context (a host's strand, say): the callbacks run
    // there, serialised by a strand of the provider's own over it.
    google_places(boost::asio::any_io_executor ex, google_config cfg,
                  std::function<void(std::string)> log = {});

    // Abandons the lookups still pending: their `done` is not called, their connections close.
    ~google_places();

    google_places(const google_places&) = delete;
    google_places& operator=(const google_places&) = delete;

    // Starts a lookup of the places within `radius_m` metres of (lat, lon). `done` is called
    // exactly once (unless the provider is destroyed first), on the io_context and never from
    // inside lookup(), with
    //   ok = true:  the response body, a JSON object whose status is OK or ZERO_RESULTS, as
    //               Google sent it (core::format_places cuts it to `limit`: Nearby Search has
    //               no such parameter, a page holds up to 20 results);
    //   ok = false: `error`, one line naming the cause and the URL with the key replaced by
    //               REDACTED: no key, too many lookups waiting, timeout, resolve / connect /
    //               TLS / I/O failure, HTTP status other than 200, body too large or not JSON,
    //               status other than OK / ZERO_RESULTS (with Google's error_message).
    // The URL carries LAT,LNG with 6 decimals and the radius rounded to whole metres, clamped
    // to [1, 50000].
    void lookup(double lat, double lon, double radius_m, int limit,
                std::function<void(core::places_result)> done);

    // Observers for tests and statistics; call them where the callbacks run (or while the
    // io_context does not run).
    bool has_key() const;
    std::size_t idle_connections() const;  // open, waiting to be reused
    std::size_t active() const;            // lookups on the wire
    std::size_t queued() const;            // lookups waiting for a slot

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace herd::net
