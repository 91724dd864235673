// The real host's reading, writing, threads and log: lines however they arrive, the herd of
// `herd up` on fewer threads than servers, and the log's lines.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "net/herd.hpp"
#include "net/log.hpp"
#include "tests/net/net_support.hpp"

using namespace herd;
using namespace std::chrono_literals;
using testing::ask;
using testing::line_client;

namespace {

std::string iamat(int i) { return "IAMAT c" + std::to_string(i) + " +1+1 " + std::to_string(1000 + i); }

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

}  // namespace

TEST_CASE("lines cut anywhere across writes are put together and answered in order", "[net]") {
    auto cfg = testing::seed_config_on_free_ports();
    testing::running_herd herd(cfg, {"Hands"});
    line_client c(herd.port("Hands"));
    std::string bytes;
    for (int i = 0; i < 20; ++i) bytes += iamat(i) + (i % 2 ? "\r\n" : "\n");
    // Pieces of 1, 2, 3... bytes, each its own write and (after the pause) its own read.
    for (std::size_t at = 0, n = 1; at < bytes.size(); at += n, ++n) {
        c.send(bytes.substr(at, n));
        std::this_thread::sleep_for(1ms);
    }
    for (int i = 0; i < 20; ++i) {
        const std::string r = c.read_line();
        REQUIRE(r.starts_with("AT Hands "));
        CHECK(r.ends_with(" c" + std::to_string(i) + " +1+1 " + std::to_string(1000 + i) + "\n"));
    }
}

TEST_CASE("thousands of lines in one write are each answered whole and in order", "[net]") {
    auto cfg = testing::seed_config_on_free_ports();
    testing::running_herd herd(cfg, {"Goloman", "Hands"});
    REQUIRE(testing::spread_everywhere(herd.port("Goloman"), "link", {herd.port("Hands")}, "AT Goloman"));  // linked
    line_client c(herd.port("Goloman"));
    std::string bytes;
    const int n = 5000;
    for (int i = 0; i < n; ++i) bytes += (i % 1000 == 999 ? std::string("nonsense ") + std::to_string(i) : iamat(i)) + "\n";
    c.send(bytes);
    for (int i = 0; i < n; ++i) {
        const std::string r = c.read_line();
        if (i % 1000 == 999) {
            REQUIRE(r == "? nonsense " + std::to_string(i) + "\n");
        } else {
            REQUIRE(r.starts_with("AT Goloman "));
            REQUIRE(r.ends_with(" c" + std::to_string(i) + " +1+1 " + std::to_string(1000 + i) + "\n"));
        }
    }
    // The updates went on to the neighbour too.
    CHECK(testing::ask_until(herd.port("Hands"), "WHATSAT c4998 1 1", "AT Goloman ", 2000ms).starts_with("AT Goloman "));
}

TEST_CASE("lines before a line over 64 KiB in the same write are answered, then the refusal and the close",
          "[net]") {
    auto cfg = testing::seed_config_on_free_ports();
    testing::running_herd herd(cfg, {"Welsh"});
    line_client c(herd.port("Welsh"));
    const std::string big(70 * 1024, 'y');
    c.send(iamat(1) + "\n" + iamat(2) + "\n" + big + "\n" + iamat(3) + "\n");
    CHECK(c.read_line().ends_with(" c1 +1+1 1001\n"));
    CHECK(c.read_line().ends_with(" c2 +1+1 1002\n"));
    CHECK(c.read_line() == "? " + big.substr(0, 256) + "\n");
    CHECK(c.closed_by_server());
}

TEST_CASE("a line of 64 KiB is still a line, answered in full, and the connection stays open", "[net]") {
    auto cfg = testing::seed_config_on_free_ports();
    testing::running_herd herd(cfg, {"Welsh"});
    line_client c(herd.port("Welsh"));
    const std::string line(64 * 1024, 'z');
    c.send(line + "\n" + iamat(4) + "\n");
    CHECK(c.read_line() == "? " + line + "\n");
    CHECK(c.read_line().ends_with(" c4 +1+1 1004\n"));
}

TEST_CASE("herd up on fewer threads than servers links them all, floods, and logs every line", "[net]") {
    const auto threads = GENERATE(1, 2);
    INFO("threads " << threads);
    const auto dir = testing::temp_folder("herd-threads");
    auto cfg = testing::seed_config_on_free_ports();
    std::vector<std::uint16_t> others;
    for (const auto& s : cfg.herd.servers)
        if (s.name != "Welsh") others.push_back(s.port);
    {
        net::running_servers herd(cfg, {}, dir, static_cast<std::size_t>(threads));
        REQUIRE(testing::spread_everywhere(cfg.herd.find("Welsh")->port, "t", others, "AT Welsh"));
        CHECK(ask(cfg.herd.find("Goloman")->port, iamat(7)).starts_with("AT Goloman "));
    }
    // Stopped: every log is flushed.
    const std::string goloman = testing::read_file(dir / "Goloman.log");
    CHECK(goloman.find(" in conn ") != std::string::npos);
    CHECK(goloman.find(" out conn ") != std::string::npos);
    CHECK(goloman.find(" IAMAT c7 +1+1 1007\n") != std::string::npos);
    CHECK(goloman.find(" stop Goloman stopped\n") != std::string::npos);
    const std::string welsh = testing::read_file(dir / "Welsh.log");
    CHECK(welsh.find(" peer-out Holiday FLOOD Welsh ") != std::string::npos);
    CHECK(testing::read_file(dir / "Holiday.log").find(" peer-in Welsh FLOOD Welsh ") != std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("servers are spread over threads by their links, the busiest first, not round robin", "[net]") {
    const auto herd = core::seed_topology();
    const std::vector<std::string> names = {"Goloman", "Hands", "Holiday", "Welsh", "Wilkes"};
    // Work: Goloman, Holiday and Wilkes have three links each, Hands two, Welsh one (plus two
    // for clients). Round robin would give one thread Goloman, Holiday and Wilkes (15 of 22).
    CHECK(net::assign_threads(herd, names, 2) == std::vector<std::size_t>{0, 1, 1, 1, 0});
    CHECK(net::assign_threads(herd, names, 1) == std::vector<std::size_t>(5, 0));
    // As many threads as servers: one each, in order of work, ties in config order.
    CHECK(net::assign_threads(herd, names, 5) == std::vector<std::size_t>{0, 3, 1, 4, 2});
    // A subset (herd serve runs one): its own links still count.
    CHECK(net::assign_threads(herd, {"Welsh", "Holiday"}, 2) == std::vector<std::size_t>{1, 0});
}

TEST_CASE("log lines carry the UTC time to the microsecond, the kind and the text with newlines escaped",
          "[net]") {
    const auto dir = testing::temp_folder("herd-log-lines");
    {
        net::server_log log(dir / "x.log");
        log.write("info", "plain text");
        log.write("out", "AT a\r\nb\n");
        log.write_conn("in", 42, "IAMAT k +1+1 5");
        log.write_conn("out", 7, "two\nlines\n");
        log.write_pair("peer-out", "Hands", "FLOOD Welsh +0.000000001 k +1+1 5\n");
    }
    const auto lines = lines_of(testing::read_file(dir / "x.log"));
    REQUIRE(lines.size() == 5);
    const std::regex time(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z )");
    for (const auto& l : lines) CHECK(std::regex_search(l, time));
    CHECK(lines[0].substr(28) == "info plain text");
    CHECK(lines[1].substr(28) == "out AT a\\r\\nb\\n");
    CHECK(lines[2].substr(28) == "in conn 42 IAMAT k +1+1 5");
    CHECK(lines[3].substr(28) == "out conn 7 two\\nlines\\n");
    CHECK(lines[4].substr(28) == "peer-out Hands FLOOD Welsh +0.000000001 k +1+1 5\\n");
    std::filesystem::remove_all(dir);
}

TEST_CASE("a log of many megabytes keeps every line, in order", "[net]") {
    const auto dir = testing::temp_folder("herd-log-many");
    const int n = 200'000;  // some 12 MB: many buffers' worth
    {
        net::server_log log(dir / "x.log");
        for (int i = 0; i < n; ++i) log.write_conn("in", static_cast<std::uint64_t>(i), "IAMAT k +1+1 5");
    }
    const auto lines = lines_of(testing::read_file(dir / "x.log"));
    REQUIRE(lines.size() == static_cast<std::size_t>(n));
    for (int i = 0; i < n; i += 9973) CHECK(lines[static_cast<std::size_t>(i)].substr(28) == "in conn " + std::to_string(i) + " IAMAT k +1+1 5");
    CHECK(lines.back().substr(28) == "in conn " + std::to_string(n - 1) + " IAMAT k +1+1 5");
    std::filesystem::remove_all(dir);
}
