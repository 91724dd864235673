// net/server: the real host on loopback sockets, servers in this process.
#include <catch2/catch.hpp>
#include <sys/resource.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "sim/scenario.hpp"
#include "sim/simulator.hpp"
#include "net/herd.hpp"
#include "net/server.hpp"
#include "places/offline.hpp"
#include "tests/net/net_support.hpp"
#include "tests/net/support/http_test_server.hpp"

using namespace herd;
using namespace std::chrono_literals;
using testing::ask;
using testing::ask_until;
using testing::line_client;

namespace {

const std::vector<std::string> seed_names = {"Goloman", "Hands", "Holiday", "Welsh", "Wilkes"};

}  // namespace

TEST_CASE("an IAMAT at Welsh is answered AT Welsh by every other server within a second", "[net]") {
    const auto cfg = testing::seed_config_on_free_ports();
    testing::running_herd herd(cfg, seed_names);
    // Links come up by themselves; keep sending until Welsh's neighbour has it.
    const std::string iamat = "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1520023934.918963997";
    const std::string reply = ask(herd.port("Welsh"), iamat);
    CHECK(reply.starts_with("AT Welsh "));
    CHECK(reply.ends_with(" kiwi.cs.ucla.edu +34.068930-118.445127 1520023934.918963997\n"));
    // The links may still be coming up when that IAMAT lands: newer ones until all have one.
    REQUIRE(testing::spread_everywhere(herd.port("Welsh"), "kiwi.cs.ucla.edu",
                                       {herd.port("Goloman"), herd.port("Hands"), herd.port("Holiday"), herd.port("Wilkes")},
                                       "AT Welsh "));
    for (const char* s : {"Goloman", "Hands", "Holiday", "Wilkes"}) {
        INFO(s);
        const std::string r = ask_until(herd.port(s), "WHATSAT kiwi.cs.ucla.edu 10 5", "AT Welsh ", 1000ms);
        CHECK(r.starts_with("AT Welsh "));
        CHECK(r.find("\"name\": \"Westwood\"") != std::string::npos);
        CHECK(r.ends_with("}\n\n"));
    }
}

TEST_CASE("a client that half-closes after one unterminated command gets its reply, then EOF",
          "[net]") {
    auto cfg = testing::seed_config_on_free_ports();
    testing::running_herd herd(cfg, {"Goloman"});
    line_client c(herd.port("Goloman"));
    c.send("IAMAT kiwi +34.068930-118.445127 1520023934");
    c.shutdown_send();
    const std::string all = c.read_all();
    CHECK(all.starts_with("AT Goloman "));
    CHECK(all.ends_with(" kiwi +34.068930-118.445127 1520023934\n"));

    // The same for a WHATSAT, whose answer comes from the places provider later.
    line_client w(herd.port("Goloman"));
    w.send("WHATSAT kiwi 10 2");
    w.shutdown_send();
    const std::string whatsat = w.read_all();
    CHECK(whatsat.starts_with("AT Goloman "));
    CHECK(whatsat.ends_with("}\n\n"));
}

TEST_CASE("many commands on one connection with \\r\\n line ends are answered in order", "[net]") {
    auto cfg = testing::seed_config_on_free_ports();
    testing::running_herd herd(cfg, {"Hands"});
    line_client c(herd.port("Hands"));
    std::string batch;
    for (int i = 0; i < 100; ++i) batch += "IAMAT c" + std::to_string(i) + " +1+1 " + std::to_string(1000 + i) + "\r\n";
    batch += "bogus line\r\n";
    c.send(batch);
    for (int i = 0; i < 100; ++i) {
        const std::string r = c.read_line();
        REQUIRE(r.starts_with("AT Hands "));
        CHECK(r.ends_with(" c" + std::to_string(i) + " +1+1 " + std::to_string(1000 + i) + "\n"));
    }
    CHECK(c.read_line() == "? bogus line\n");
}

// A client's lines may end anywhere in what one read takes, and one read may hold many.
TEST_CASE("a client is answered whether its lines come cut in pieces or more than a read holds",
          "[net]") {
    auto cfg = testing::seed_config_on_free_ports();
    testing::running_herd herd(cfg, {"Hands"});
    line_client c(herd.port("Hands"));
    // An IAMAT, and the end of its reply (what follows "AT Hands +diff").
    const auto fields = [](int i) { return " c" + std::to_string(i) + " +1+1 " + std::to_string(1000 + i) + "\n"; };
    const auto iamat = [&](int i) { return "IAMAT" + fields(i); };
    // Question and answer, each line in two writes with a pause between: the server has read
    // the first half, found no line end, and waits for the rest.
    for (int i = 0; i < 50; ++i) {
        const std::string line = iamat(i);
        const std::size_t cut = 1 + static_cast<std::size_t>(i) % (line.size() - 1);
        c.send(line.substr(0, cut));
        std::this_thread::sleep_for(1ms);
        c.send(line.substr(cut));
        const std::string r = c.read_line();
        REQUIRE(r.starts_with("AT Hands "));
        CHECK(r.ends_with(fields(i)));
    }
    // 12 KiB written while the server's thread is busy, so that it is in the socket before the
    // server reads: its first read fills its 4 KiB buffer, and the rest must still be read.
    std::string batch;
    int n = 0;
    while (batch.size() < 12 * 1024) batch += iamat(1000 + n++);
    herd.on_io([&] { c.send(batch); });
    for (int i = 0; i < n; ++i) {
        const std::string r = c.read_line();
        REQUIRE(r.starts_with("AT Hands "));
        CHECK(r.ends_with(fields(1000 + i)));
    }
}

TEST_CASE("a line over 64 KiB is answered with its first 256 bytes and the connection closed",
          "[net]") {
    auto cfg = testing::seed_config_on_free_ports();
    testing::running_herd herd(cfg, {"Welsh"});
    line_client c(herd.port("Welsh"));
    std::string big(70 * 1024, 'x');
    c.send(big + "\n");
    CHECK(c.read_line() == "? " + big.substr(0, 256) + "\n");
    CHECK(c.closed_by_server());
    // The server still serves others.
    CHECK(ask(herd.port("Welsh"), "IAMAT k +1+1 5").starts_with("AT Welsh "));
}

TEST_CASE("a thousand clients connected at once are all answered", "[net]") {
    auto cfg = testing::seed_config_on_free_ports();
    testing::running_herd herd(cfg, {"Wilkes"});
    std::vector<std::unique_ptr<line_client>> clients;
    for (int i = 0; i < 1000; ++i) clients.push_back(std::make_unique<line_client>(herd.port("Wilkes")));
    for (int i = 0; i < 1000; ++i) clients[i]->send("IAMAT k" + std::to_string(i) + " +1+1 1\n");
    int answered = 0;
    for (int i = 0; i < 1000; ++i) answered += clients[i]->read_line().starts_with("AT Wilkes ") ? 1 : 0;
    CHECK(answered == 1000);
}

TEST_CASE("the host raises the open-file limit, so a login shell's 1024 does not cap its clients", "[net]") {
    rlimit before{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &before) == 0);
    const rlim_t hard = before.rlim_max;
    if (hard < 4096) {
        WARN("the hard limit on open files is " << hard << ": nothing to raise to");
        return;
    }
    rlimit low = before;
    low.rlim_cur = 1024;
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
    // The host of herd serve and herd up (a server alone leaves the process's limits alone).
    auto cfg = testing::seed_config_on_free_ports();
    net::running_servers herd(cfg, {"Wilkes"}, {});
    rlimit after{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &after) == 0);
    CHECK(after.rlim_cur == std::min<rlim_t>(hard, 1 << 20));
    // 1,100 clients (2,200 descriptors in this process, both ends): all answered.
    const auto port = herd.find("Wilkes")->port();
    std::vector<std::unique_ptr<line_client>> clients;
    for (int i = 0; i < 1100; ++i) clients.push_back(std::make_unique<line_client>(port));
    for (int i = 0; i < 1100; ++i) clients[static_cast<std::size_t>(i)]->send("IAMAT f" + std::to_string(i) + " +1+1 1\n");
    int answered = 0;
    for (auto& c : clients) answered += c->read_line().starts_with("AT Wilkes ") ? 1 : 0;
    CHECK(answered == 1100);
}

TEST_CASE("connections past the limit are closed at once", "[net]") {
    auto cfg = testing::seed_config_on_free_ports();
    cfg.net.connections_max = 2;
    testing::running_herd herd(cfg, {"Wilkes"});
    line_client a(herd.port("Wilkes")), b(herd.port("Wilkes"));
    a.send("IAMAT a +1+1 1\n");
    b.send("IAMAT b +1+1 1\n");
    CHECK(a.read_line().starts_with("AT "));
    CHECK(b.read_line().starts_with("AT "));
    line_client c(herd.port("Wilkes"));
    CHECK(c.closed_by_server());
}

TEST_CASE("a plain client sending FLOOD is refused and nothing is applied", "[net]") {
    auto cfg = testing::seed_config_on_free_ports();
    testing::running_herd herd(cfg, {"Goloman"});
    const std::string flood = "FLOOD Welsh +0.100000000 evil +1+1 1520023934";
    CHECK(ask(herd.port("Goloman"), flood) == "? " + flood + "\n");
    CHECK(ask(herd.port("Goloman"), "WHATSAT evil 10 1") == "? WHATSAT evil 10 1\n");
}

TEST_CASE("a connection claiming to be a server that is not a neighbour is refused", "[net]") {
    auto cfg = testing::seed_config_on_free_ports();
    testing::running_herd herd(cfg, {"Welsh"});  // Welsh's only neighbour is Holiday
    line_client c(herd.port("Welsh"));
    c.send("HERD-PEER Goloman\n");
    CHECK(c.read_line() == "? HERD-PEER Goloman\n");
    c.send("FLOOD Goloman +0.100000000 evil +1+1 1520023934\n");
    CHECK(c.read_line() == "? FLOOD Goloman +0.100000000 evil +1+1 1520023934\n");
    CHECK(ask(herd.port("Welsh"), "WHATSAT evil 10 1") == "? WHATSAT evil 10 1\n");
}

TEST_CASE("an idle client is disconnected after the idle timeout", "[net]") {
    auto cfg = testing::seed_config_on_free_ports();
    cfg.net.idle_timeout_ms = 100;
    testing::running_herd herd(cfg, {"Hands"});
    line_client c(herd.port("Hands"));
    c.send("IAMAT k +1+1 1\n");
    CHECK(c.read_line().starts_with("AT Hands "));
    CHECK(c.closed_by_server());
}

TEST_CASE("the log holds every line in and out, connections and peer links", "[net]") {
    const auto dir = testing::temp_folder("herd-log");
    {
        auto cfg = testing::seed_config_on_free_ports();
        testing::running_herd herd(cfg, {"Holiday", "Welsh"}, dir);
        REQUIRE(testing::spread_everywhere(herd.port("Welsh"), "k", {herd.port("Holiday")}, "AT Welsh"));
    }
    std::ifstream in(dir / "Welsh.log");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string log = ss.str();
    CHECK(log.find(" in conn ") != std::string::npos);
    CHECK(log.find(" out conn ") != std::string::npos);
    CHECK(log.find(" open conn ") != std::string::npos);
    CHECK(log.find(" peer-up Holiday") != std::string::npos);
    CHECK(log.find(" peer-out Holiday FLOOD Welsh ") != std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("with the clock fixed, the real host writes the same bytes as the simulator", "[net]") {
    // One server, a scripted session: the simulator's replies and the socket's bytes must agree.
    const std::vector<std::string> lines = {
        "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1520023934.918963997",
        "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1520023930",
        "WHATSAT kiwi.cs.ucla.edu 10 3",
        "IAMAT   spaced\tout +1+1   1520023935.5 ",
        "FLOOD Goloman +0.000000001 x +1+1 1",
        "WHATSAT nobody 5 5",
        "nonsense",
    };
    nlohmann::json workload = nlohmann::json::array();
    for (std::size_t i = 0; i < lines.size(); ++i)
        workload.push_back({{"at_ms", 100 * i}, {"server", "Goloman"}, {"line", lines[i]}});
    const nlohmann::json j = {{"name", "same-bytes"},
                              {"start_time", "1520023935"},
                              {"topology", {{"servers", {{{"name", "Goloman"}}}}}},
                              {"places", {{"delay_ms", {{"dist", "constant"}, {"value", 1}}}}},
                              {"workload", workload}};
    const auto s = sim::parse_scenario(j.dump(), "same-bytes.json");
    const auto& index = places::offline_index::embedded();
    const auto r = sim::run(s, std::nullopt, [&](double lat, double lon, double radius, int limit) {
        return index.nearby_json(lat, lon, radius, limit);
    });
    std::string simulated;
    for (const auto& line : r.timeline) {
        const auto e = nlohmann::json::parse(line);
        if (e["event"] == "reply") simulated += e["reply"].get<std::string>();
    }

    // The real server, its clock fixed at each line's virtual time (the lines go one by one).
    auto cfg = testing::seed_config_on_free_ports();
    cfg.herd.servers.resize(1);
    cfg.herd.links.clear();
    auto now = std::make_shared<std::atomic<core::nanos>>(0);
    testing::running_herd herd(cfg, {"Goloman"}, {}, [now] { return now->load(); });
    line_client c(herd.port("Goloman"));
    std::string real;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        now->store(1520023935'000'000'000 + static_cast<core::nanos>(i) * 100'000'000);
        c.send(lines[i] + "\n");
        std::string reply = c.read_line();
        if (lines[i].starts_with("WHATSAT") && reply.starts_with("AT ")) reply += c.read_until_blank_line();
        real += reply;
    }
    CHECK(real == simulated);
    CHECK(real.find("AT Goloman +0.081036003 kiwi.cs.ucla.edu +34.068930-118.445127 1520023934.918963997\n") == 0);
}

TEST_CASE("a server whose places provider is Google answers WHATSAT from the endpoint", "[net]") {
    std::ifstream fixture(HERD_NET_FIXTURES "/nearby_20.json");
    std::stringstream body;
    body << fixture.rdbuf();
    test::http_test_server google([&](const test::http_request_seen&) { return test::http_reply(200, body.str()); });
    ::setenv("HERD_TEST_PLACES_KEY", "sekrit-key", 1);
    auto cfg = testing::seed_config_on_free_ports();
    cfg.places.provider = "google";
    cfg.places.endpoint = google.url("/maps/api/place/nearbysearch/json");
    cfg.places.key_env = "HERD_TEST_PLACES_KEY";
    const auto dir = testing::temp_folder("herd-google");
    {
        testing::running_herd herd(cfg, {"Hands"}, dir);
        CHECK(ask(herd.port("Hands"), "IAMAT kiwi +34.068930-118.445127 1520023934").starts_with("AT Hands "));
        const std::string reply = ask(herd.port("Hands"), "WHATSAT kiwi 10 2");
        CHECK(reply.starts_with("AT Hands "));
        CHECK(reply.ends_with("}\n\n"));
        CHECK(google.requests().size() == 1);
        CHECK(google.requests().at(0).target.find("location=34.068930,-118.445127&radius=10000&key=sekrit-key") != std::string::npos);
    }
    std::ifstream in(dir / "Hands.log");
    std::stringstream log;
    log << in.rdbuf();
    CHECK(log.str().find("sekrit-key") == std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("with peer ports, herd traffic uses them and identification on the client port is refused",
          "[net]") {
    auto cfg = testing::seed_config_on_free_ports();
    for (auto& s : cfg.herd.servers) s.peer_port = testing::free_port();
    testing::running_herd herd(cfg, {"Holiday", "Welsh"});
    CHECK(testing::spread_everywhere(herd.port("Welsh"), "k", {herd.port("Holiday")}, "AT Welsh"));
    CHECK(ask(herd.port("Holiday"), "HERD-PEER Welsh") == "? HERD-PEER Welsh\n");
    // The peer port answers nothing but identification.
    line_client c(cfg.herd.find("Holiday")->peer_port);
    c.send("IAMAT k +1+1 1\n");
    CHECK(c.read_line() == "? IAMAT k +1+1 1\n");
    CHECK(c.closed_by_server());
}

TEST_CASE("a slow places provider never delays other clients", "[net]") {
    test::http_test_server google([](const test::http_request_seen&) {
        test::http_reply r;
        r.hang = true;
        return r;
    });
    ::setenv("HERD_TEST_PLACES_KEY", "k", 1);
    auto cfg = testing::seed_config_on_free_ports();
    cfg.places.provider = "google";
    cfg.places.endpoint = google.url("/nearby");
    cfg.places.key_env = "HERD_TEST_PLACES_KEY";
    cfg.places.timeout_ms = 1500;
    testing::running_herd herd(cfg, {"Hands"});
    CHECK(ask(herd.port("Hands"), "IAMAT kiwi +1+1 1").starts_with("AT Hands "));
    line_client slow(herd.port("Hands"));
    slow.send("WHATSAT kiwi 10 2\n");
    std::this_thread::sleep_for(50ms);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(ask(herd.port("Hands"), "IAMAT other +1+1 1").starts_with("AT Hands "));
    CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
    CHECK(slow.read_line() == "? WHATSAT kiwi 10 2\n");  // after the provider's timeout
}

TEST_CASE("a log that cannot be written leaves the server serving", "[net]") {
    auto cfg = testing::seed_config_on_free_ports();
    // A folder under a regular file cannot exist: opening the log fails.
    testing::running_herd herd(cfg, {"Welsh"}, "/dev/null/herd-logs");
    CHECK(ask(herd.port("Welsh"), "IAMAT k +1+1 5").starts_with("AT Welsh "));
}

TEST_CASE("replies come back in the order of the lines, though a WHATSAT is answered later",
          "[net]") {
    auto cfg = testing::seed_config_on_free_ports();
    testing::running_herd herd(cfg, {"Goloman"});
    line_client c(herd.port("Goloman"));
    c.send("IAMAT kiwi +34.068930-118.445127 1\nWHATSAT kiwi 10 1\nIAMAT kiwi +34.068930-118.445127 2\nbad\n");
    CHECK(c.read_line().starts_with("AT Goloman "));
    const std::string at = c.read_line();
    CHECK(at.starts_with("AT Goloman "));
    CHECK(at.ends_with(" 1\n"));
    CHECK(c.read_until_blank_line().ends_with("}\n\n"));
    CHECK(c.read_line().ends_with(" 2\n"));
    CHECK(c.read_line() == "? bad\n");
}

TEST_CASE("a connection claiming to be a neighbour that this server dials itself is refused",
          "[net]") {
    auto cfg = testing::seed_config_on_free_ports();
    testing::running_herd herd(cfg, {"Goloman"});  // Goloman dials Hands ("Goloman" < "Hands")
    line_client c(herd.port("Goloman"));
    c.send("HERD-PEER Hands\n");
    CHECK(c.read_line() == "? HERD-PEER Hands\n");
}
