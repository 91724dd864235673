#include "places/data.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>
#include <system_error>
#include <utility>

namespace herd::places {

namespace {

constexpr std::size_t field_count = 8;

// A problem on the line being parsed; parse_places adds the file and the line number.
struct line_problem {
    std::string text;
};

// Well-formed UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF) without control
// characters.
bool is_clean_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) return false;
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if ((c & 0xe0) == 0xc0)
            len = 2, cp = c & 0x1fu;
        else if ((c & 0xf0) == 0xe0)
            len = 3, cp = c & 0x0fu;
        else if ((c & 0xf8) == 0xf0)
            len = 4, cp = c & 0x07u;
        else
            return false;
        if (i + len > s.size()) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3fu);
        }
        constexpr std::array<std::uint32_t, 5> min_for_len{0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_for_len[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        // C1 controls (U+0080..U+009F) are control characters too.
        if (cp < 0xa0) return false;
        i += len;
    }
    return true;
}

// A field as shown in an error: quoted, at most 40 bytes of it (cut on a character boundary), and
// bytes that are not clean UTF-8 text written \xNN, so the message itself is clean text.
std::string quoted(std::string_view field) {
    constexpr std::size_t shown_max = 40;
    std::string_view shown = field;
    if (shown.size() > shown_max) {
        std::size_t cut = shown_max;
        while (cut > 0 && (static_cast<unsigned char>(shown[cut]) & 0xc0) == 0x80) --cut;
        shown = shown.substr(0, cut);
    }
    std::string out = "'";
    if (is_clean_utf8(shown)) {
        out += shown;
    } else {
        constexpr std::string_view hex = "0123456789abcdef";
        for (const char ch : shown) {
            const auto c = static_cast<unsigned char>(ch);
            if (c >= 0x20 && c < 0x7f) {
                out += ch;
            } else {
                out += "\\x";
                out += hex[c >> 4];
                out += hex[c & 0xf];
            }
        }
    }
    if (shown.size() < field.size()) out += "…";
    out += "'";
    return out;
}

bool is_code(std::string_view s, std::size_t min, std::size_t max, bool lower_ok) {
    if (s.size() < min || s.size() > max) return false;
    return std::all_of(s.begin(), s.end(), [&](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (lower_ok && c >= 'a' && c <= 'z');
    });
}

std::uint32_t parse_u32(std::string_view field, const char* what) {
    std::uint32_t v = 0;
    const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
    if (field.empty() || ec != std::errc{} || end != field.data() + field.size())
        throw line_problem{std::string(what) + " " + quoted(field) +
                           " is not a whole number in [0, 4294967295]"};
    return v;
}

double parse_degrees(std::string_view field, const char* what, double limit) {
    double v = 0;
    const auto [end, ec] =
        std::from_chars(field.data(), field.data() + field.size(), v, std::chars_format::fixed);
    if (field.empty() || ec != std::errc{} || end != field.data() + field.size() ||
        !std::isfinite(v) || v < -limit || v > limit) {
        const auto bound = std::to_string(static_cast<int>(limit));
        throw line_problem{std::string(what) + " " + quoted(field) + " is not a number in [-" +
                           bound + ", " + bound + "]"};
    }
    return v + 0.0;  // no -0
}

place parse_line(std::string_view line) {
    if (line.size() > line_bytes_max)
        throw line_problem{"line longer than " + std::to_string(line_bytes_max) + " bytes"};
    std::array<std::string_view, field_count> f;
    std::size_t n = 0;
    std::size_t start = 0;
    while (true) {
        const std::size_t tab = line.find('\t', start);
        const std::string_view field = line.substr(
            start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
        if (n < field_count) f[n] = field;
        ++n;
        if (tab == std::string_view::npos) break;
        start = tab + 1;
    }
    if (n != field_count)
        throw line_problem{
            "expected 8 tab-separated fields (id name lat lon feature_code country "
            "admin population), found " +
            std::to_string(n)};

    place p;
    p.id = parse_u32(f[0], "id");
    if (p.id == 0) throw line_problem{"id 0 is not a GeoNames id"};
    if (f[1].empty()) throw line_problem{"name is empty"};
    if (f[1].size() > name_bytes_max)
        throw line_problem{"name longer than " + std::to_string(name_bytes_max) + " bytes"};
    if (!is_clean_utf8(f[1]))
        throw line_problem{"name " + quoted(f[1]) +
                           " is not UTF-8 text without control characters"};
    p.name = f[1];
    p.lat = parse_degrees(f[2], "lat", 90);
    p.lon = parse_degrees(f[3], "lon", 180);
    if (!is_code(f[4], 1, 10, false))
        throw line_problem{"feature_code " + quoted(f[4]) + " is not 1-10 of A-Z, 0-9"};
    p.feature_code = f[4];
    if (!is_code(f[5], 0, 3, false))
        throw line_problem{"country " + quoted(f[5]) + " is not 0-3 of A-Z, 0-9"};
    p.country = f[5];
    if (!is_code(f[6], 0, 20, true))
        throw line_problem{"admin " + quoted(f[6]) + " is not 0-20 of A-Z, a-z, 0-9"};
    p.admin = f[6];
    p.population = parse_u32(f[7], "population");
    return p;
}

}  // namespace

load_error::load_error(std::string source, std::size_t line, const std::string& problem)
    : std::runtime_error(source + ": " + (line != 0 ? "line " + std::to_string(line) + ": " : "") +
                         problem),
      source_(std::move(source)),
      line_(line) {}

std::vector<place> parse_places(std::string_view text, std::string_view source_name) {
    const std::string source(source_name);
    if (text.size() > file_bytes_max)
        throw load_error(source, 0, "larger than " + std::to_string(file_bytes_max) + " bytes");
    if (text.starts_with("\xef\xbb\xbf")) text.remove_prefix(3);

    // One place a line at most: reserving up front saves moving every place several times.
    const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    std::vector<place> out;
    out.reserve(std::min(lines, places_max));
    std::vector<std::pair<std::uint32_t, std::size_t>> ids;  // (id, line) for the duplicate check
    ids.reserve(out.capacity());
    std::size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        const std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (line.ends_with('\r')) line.remove_suffix(1);
        if (line.empty() || line.starts_with('#')) continue;
        if (out.size() == places_max)
            throw load_error(source, line_no,
                             "more than " + std::to_string(places_max) + " places");
        try {
            out.push_back(parse_line(line));
        } catch (const line_problem& p) {
            throw load_error(source, line_no, p.text);
        }
        ids.emplace_back(out.back().id, line_no);
    }
    if (out.empty()) throw load_error(source, 0, "no places (every line is empty or a # comment)");

    // Files sorted by id (as make-places.js writes them) need no sort to find duplicates.
    if (!std::is_sorted(ids.begin(), ids.end())) std::sort(ids.begin(), ids.end());
    const auto dup = std::adjacent_find(
        ids.begin(), ids.end(), [](const auto& a, const auto& b) { return a.first == b.first; });
    if (dup != ids.end())
        throw load_error(source, dup[1].second,
                         "duplicate id " + std::to_string(dup->first) + " (also on line " +
                             std::to_string(dup->second) + ")");
    return out;
}

std::vector<place> read_places_file(const std::filesystem::path& path) {
    const std::string source = path.string();
    const auto fail = [&](int err) {
        return load_error(source, 0, "cannot read: " + std::generic_category().message(err));
    };
    errno = 0;
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                               &std::fclose);
    if (!file) throw fail(errno);
    std::string text;
    std::array<char, 1 << 16> buffer;
    while (true) {
        const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), file.get());
        text.append(buffer.data(), got);
        if (text.size() > file_bytes_max)
            throw load_error(source, 0, "larger than " + std::to_string(file_bytes_max) + " bytes");
        if (got < buffer.size()) break;
    }
    if (std::ferror(file.get())) throw fail(errno != 0 ? errno : EIO);
    return parse_places(text, source);
}

}  // namespace herd::places
