#pragma once
// The wire protocol of DESIGN §3: parsing and formatting of IAMAT, WHATSAT, FLOOD and AT lines.
// Pure functions over bytes; nothing here reads a clock or touches a socket.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace herd::core {

// Nanoseconds since the POSIX epoch (or a difference of two such times). Exact: client times
// carry up to 19 significant digits, which a double cannot hold.
using nanos = std::int64_t;

// Limits (TigerBeetle: put a limit on everything).
inline constexpr std::size_t client_id_bytes_max = 255;
inline constexpr std::size_t location_bytes_max = 64;
inline constexpr std::size_t line_bytes_max = 64 * 1024;    // hosts close a connection past this
inline constexpr std::size_t overlong_echo_bytes = 256;     // `? ` + this many bytes of such a line
inline constexpr int whatsat_limit_max = 20;
inline constexpr int whatsat_radius_km_max = 50;

// Parses a client time: decimal seconds with an optional fraction of 1 to 9 digits
// (`1520023934.918963997`, `1700000000.1234567`, `1520023934`). No sign, no exponent, no
// empty integer or fraction part. Returns nothing when the text is malformed or the time does
// not fit in `nanos`.
std::optional<nanos> parse_time(std::string_view text);

// Formats a time difference with an explicit sign and exactly 9 fractional digits:
// `+0.263873386`, `-0.000000001`, `+12.000000000`. Zero is `+0.000000000`.
std::string format_diff(nanos diff);

// Parses a diff as format_diff writes it (sign, digits, `.`, exactly 9 digits).
std::optional<nanos> parse_diff(std::string_view text);

// now - then, saturated at the limits of `nanos` rather than overflowing.
nanos diff_saturated(nanos now, nanos then);

// A position in degrees parsed from ISO 6709 text such as `+34.068930-118.445127`.
struct location {
    double lat = 0;
    double lon = 0;
};

// Parses ISO 6709 latitude then longitude, each with a mandatory sign, 1 to 3 integer digits
// and an optional non-empty fraction; latitude in [-90, 90], longitude in [-180, 180], checked
// exactly on the digits (so `+90.0000001` is refused). At most location_bytes_max bytes.
std::optional<location> parse_location(std::string_view text);
// Whether parse_location would succeed, without converting to double (the hot path of FLOOD).
bool valid_location(std::string_view text);

// Splits a line into fields separated by runs of white space (space, \t, \n, \v, \f, \r);
// leading and trailing white space is ignored.
std::vector<std::string_view> split_fields(std::string_view line);

// The six fields of a line that has exactly six and starts with FLOOD; false otherwise. No
// field is checked: this is for recognising a repeat of a known record cheaply.
bool flood_fields(std::string_view line, std::string_view (&out)[6]);

// Removes one trailing '\r' (lines may end in "\r\n" on the wire).
std::string_view strip_cr(std::string_view line);

// `IAMAT <client> <location> <client-time>`; text fields are views into the parsed line.
struct iamat {
    std::string_view client;
    std::string_view location_text;  // valid ISO 6709; parse_location gives its degrees
    std::string_view time_text;
    nanos time = 0;
};

// `WHATSAT <client> <radius-km> <limit>`.
struct whatsat {
    std::string_view client;
    double radius_m = 0;
    int limit = 0;
};

// `FLOOD <origin-server> <diff> <client> <location> <client-time>`, or the same fields after
// REPAIR (a record sent by repair, core/repair.hpp). Whether the origin is a known server is the
// node's check, not the parser's.
struct flood {
    bool repair = false;  // the line said REPAIR
    std::string_view origin;
    std::string_view diff_text;
    std::string_view client;
    std::string_view location_text;
    std::string_view time_text;
    nanos time = 0;
};

// A line that is none of the above, or has a field that fails its check.
struct invalid {};

using message = std::variant<invalid, iamat, whatsat, flood>;

// Parses one line (without its terminator). Views in the result point into `line`.
message parse_message(std::string_view line);
// The same for the fields flood_fields() gave: what parse_message gives for their line.
message parse_flood_fields(const std::string_view (&fields)[6]);

// `? <line>\n`: the refusal of DESIGN §3, echoing the line byte for byte.
std::string format_refusal(std::string_view line);

}  // namespace herd::core
