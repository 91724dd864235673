#pragma once
// The places data file (docs/places.md): one populated place a line, eight tab-separated fields
//
//   id  name  lat  lon  feature_code  country  admin  population
//
// '#' lines and empty lines are skipped. The embedded default is data/places.tsv (GeoNames
// populated places with population >= 1000, CC BY 4.0), compiled into the binary; a user's own
// file in the same format is read at run time.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace herd::places {

// Limits of a data file (TigerBeetle: put a limit on everything).
inline constexpr std::size_t file_bytes_max = 256 * 1024 * 1024;
inline constexpr std::size_t places_max = 4'000'000;
inline constexpr std::size_t line_bytes_max = 1024;
inline constexpr std::size_t name_bytes_max = 200;

// One populated place, as GeoNames describes it.
struct place {
    std::uint32_t id = 0;          // GeoNames id, unique in a data set, > 0
    std::string name;              // UTF-8, non-empty, no control characters
    double lat = 0;                // degrees, [-90, 90]
    double lon = 0;                // degrees, [-180, 180]
    std::string feature_code;      // GeoNames feature code: PPL, PPLA2, PPLX, … ([A-Z0-9]{1,10})
    std::string country;           // ISO 3166 alpha-2 code, or empty ([A-Z0-9]{0,3})
    std::string admin;             // GeoNames admin1 code, or empty ([A-Za-z0-9]{0,20})
    std::uint32_t population = 0;  // 0 when unknown
};

// A data file that cannot be used. what() is one line naming the file, the line when there is
// one, and the problem: "places.tsv: line 12: lat '91.5' is not a number in [-90, 90]".
class load_error : public std::runtime_error {
public:
    load_error(std::string source, std::size_t line, const std::string& problem);

    const std::string& source() const { return source_; }
    // The 1-based line of the problem, or 0 when it concerns the whole file.
    std::size_t line() const { return line_; }

private:
    std::string source_;
    std::size_t line_;
};

// Parses a data file's text; `source_name` names it in errors. Accepts "\r\n" line ends and a
// leading UTF-8 byte order mark. Returns the places in file order. Throws load_error on the
// first bad line (wrong field count, a field out of its range, a duplicate id), when the text
// holds no place, or past the limits above.
std::vector<place> parse_places(std::string_view text, std::string_view source_name);

// Reads and parses the file at `path` (named as given in errors). Throws load_error when it
// cannot be read (missing, a directory, unreadable, larger than file_bytes_max) or is malformed.
std::vector<place> read_places_file(const std::filesystem::path& path);

// The text of data/places.tsv as compiled into the binary.
std::string_view embedded_text();

}  // namespace herd::places
