// net/server: peer links with a shared secret (DESIGN §6), and repair (DESIGN §5) on real
// sockets, servers in this process.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

#include "net/peer_auth.hpp"
#include "net/server.hpp"
#include "tests/net/net_support.hpp"

using namespace herd;
using namespace std::chrono_literals;
using testing::ask;
using testing::ask_until;
using testing::line_client;

namespace {

// Holiday and Welsh alone, linked, on free ports (Holiday dials Welsh: its name sorts first).
core::herd_config pair_config() {
    auto cfg = testing::seed_config_on_free_ports();
    std::erase_if(cfg.herd.servers, [](const core::server_info& s) { return s.name != "Holiday" && s.name != "Welsh"; });
    cfg.herd.links = {{"Holiday", "Welsh"}};
    return cfg;
}

const std::string secret_a = "the herd's first shared secret, long enough";
const std::string secret_b = "another secret altogether, also long enough";

// Sends `HERD-PEER <name> <nonce>` on `c` as a dialing neighbour would; the server's answer.
std::optional<net::peer_auth::hello> challenge(line_client& c, const std::string& name, const std::string& nonce) {
    c.send(net::peer_auth::format_hello({name, nonce, {}}));
    return net::peer_auth::parse_hello(c.read_line());
}

std::string strip_newline(std::string s) {
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

}  // namespace

TEST_CASE("with a shared secret neighbours prove it, link, and flood", "[net]") {
    ::setenv("HERD_TEST_SECRET", secret_a.c_str(), 1);
    auto cfg = pair_config();
    cfg.net.secret_env = "HERD_TEST_SECRET";
    const auto dir = testing::temp_folder("herd-secret");
    {
        testing::running_herd herd(cfg, {"Holiday", "Welsh"}, dir);
        REQUIRE(testing::spread_everywhere(herd.port("Welsh"), "k", {herd.port("Holiday")}, "AT Welsh"));
        REQUIRE(testing::spread_everywhere(herd.port("Holiday"), "j", {herd.port("Welsh")}, "AT Holiday"));
    }
    for (const char* name : {"Holiday", "Welsh"}) {
        INFO(name);
        const std::string log = testing::read_file(dir / (std::string(name) + ".log"));
        CHECK(log.find("peers must prove the shared secret from HERD_TEST_SECRET") != std::string::npos);
        CHECK(log.find(", proved the shared secret") != std::string::npos);
        CHECK(log.find(secret_a) == std::string::npos);
        CHECK(log.find("HERD-AUTH") == std::string::npos);  // the handshake went well: nothing about it
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("a server with another secret cannot link, and what it sends is never applied", "[net]") {
    ::setenv("HERD_TEST_SECRET_A", secret_a.c_str(), 1);
    ::setenv("HERD_TEST_SECRET_B", secret_b.c_str(), 1);
    auto cfg_a = pair_config();
    cfg_a.net.secret_env = "HERD_TEST_SECRET_A";
    auto cfg_b = cfg_a;
    cfg_b.net.secret_env = "HERD_TEST_SECRET_B";
    const auto dir = testing::temp_folder("herd-wrong-secret");
    {
        testing::running_herd holiday(cfg_a, {"Holiday"}, dir);
        testing::running_herd welsh(cfg_b, {"Welsh"}, dir);
        // Holiday dials Welsh, finds Welsh's proof wrong, drops the connection, and redials.
        REQUIRE(testing::file_contains(dir / "Holiday.log", "a proof that does not verify"));
        REQUIRE(testing::file_contains(dir / "Welsh.log", "(claiming to be Holiday, before it proved it)"));
        CHECK(ask(welsh.port("Welsh"), "IAMAT from-welsh +1+1 1600000000").starts_with("AT Welsh "));
        CHECK(ask(holiday.port("Holiday"), "IAMAT from-holiday +1+1 1600000000").starts_with("AT Holiday "));
        CHECK(ask_until(holiday.port("Holiday"), "WHATSAT from-welsh 1 1", "AT", 1000ms) == "? WHATSAT from-welsh 1 1\n");
        CHECK(ask(welsh.port("Welsh"), "WHATSAT from-holiday 1 1") == "? WHATSAT from-holiday 1 1\n");
        bool up = true;
        holiday.on_io([&] { up = holiday.server("Holiday").node().is_up("Welsh"); });
        CHECK_FALSE(up);

        // Acting as Holiday with the wrong secret: Welsh challenges, refuses the proof, closes,
        // and the FLOOD sent after the proof is not applied.
        line_client c(welsh.port("Welsh"));
        const std::string nonce = *net::peer_auth::new_nonce();
        const auto answer = challenge(c, "Holiday", nonce);
        REQUIRE(answer);
        CHECK(answer->name == "Welsh");
        CHECK(net::peer_auth::verify(secret_b, "Welsh", "Holiday", nonce, answer->nonce, answer->proof));
        c.send(net::peer_auth::format_auth(net::peer_auth::proof(secret_a, "Holiday", "Welsh", answer->nonce, nonce)) +
               "FLOOD Holiday +0.100000000 evil +1+1 1600000000\n");
        CHECK(c.closed_by_server());
        CHECK(ask(welsh.port("Welsh"), "WHATSAT evil 1 1") == "? WHATSAT evil 1 1\n");
        REQUIRE(testing::file_contains(dir / "Welsh.log", "its proof does not verify"));
        std::size_t records = 1;
        welsh.on_io([&] { records = welsh.server("Welsh").node().records().size(); });
        CHECK(records == 1);  // from-welsh only
    }
    for (const char* name : {"Holiday", "Welsh"}) {
        const std::string log = testing::read_file(dir / (std::string(name) + ".log"));
        CHECK(log.find(" peer-up ") == std::string::npos);
        CHECK(log.find(secret_a) == std::string::npos);
        CHECK(log.find(secret_b) == std::string::npos);
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("a recorded handshake replayed on a new connection is refused and logged", "[net]") {
    ::setenv("HERD_TEST_SECRET", secret_a.c_str(), 1);
    auto cfg = pair_config();
    cfg.net.secret_env = "HERD_TEST_SECRET";
    const auto dir = testing::temp_folder("herd-replay");
    // Record a real dialer's handshake: the test listens on Welsh's port and plays Welsh.
    std::string hello_line, auth_line;
    {
        testing::line_listener fake_welsh(cfg.herd.find("Welsh")->port);
        REQUIRE(fake_welsh.listening());
        testing::running_herd holiday(cfg, {"Holiday"}, dir);
        const auto c = fake_welsh.accept(3000ms);
        REQUIRE(c);
        hello_line = strip_newline(c->read_line());
        const auto hello = net::peer_auth::parse_hello(hello_line);
        REQUIRE(hello);
        CHECK(hello->name == "Holiday");
        REQUIRE(hello->nonce.size() == net::peer_auth::nonce_hex_chars);
        const std::string nonce = *net::peer_auth::new_nonce();
        c->send(net::peer_auth::format_hello(
            {"Welsh", nonce, net::peer_auth::proof(secret_a, "Welsh", "Holiday", hello->nonce, nonce)}));
        auth_line = strip_newline(c->read_line());
        const auto proof = net::peer_auth::parse_auth(auth_line);
        REQUIRE(proof);
        // The real dialer's proof is right for this connection.
        CHECK(net::peer_auth::verify(secret_a, "Holiday", "Welsh", nonce, hello->nonce, *proof));
    }
    // Replay it to the real Welsh: it challenges with a fresh nonce, so the proof fails.
    {
        testing::running_herd welsh(cfg, {"Welsh"}, dir);
        line_client c(welsh.port("Welsh"));
        c.send(hello_line + "\n");
        const auto answer = net::peer_auth::parse_hello(c.read_line());
        REQUIRE(answer);
        c.send(auth_line + "\nFLOOD Holiday +0.100000000 replayed +1+1 1600000000\n");
        CHECK(c.closed_by_server());
        CHECK(ask(welsh.port("Welsh"), "WHATSAT replayed 1 1") == "? WHATSAT replayed 1 1\n");
        CHECK(testing::file_contains(dir / "Welsh.log", "claiming to be Holiday sent HERD-AUTH "));
        CHECK(testing::file_contains(dir / "Welsh.log", "its proof does not verify"));
        // Reflecting Welsh's own proof back to it fails too.
        line_client r(welsh.port("Welsh"));
        const std::string nonce = *net::peer_auth::new_nonce();
        const auto reflected = challenge(r, "Holiday", nonce);
        REQUIRE(reflected);
        r.send(net::peer_auth::format_auth(reflected->proof));
        CHECK(r.closed_by_server());
    }
    const std::string log = testing::read_file(dir / "Welsh.log");
    CHECK(log.find(" peer-up ") == std::string::npos);
    // The log shows proofs cut short only.
    CHECK(log.find(auth_line) == std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("a connection that is challenged and never proves itself is dropped after the hello timeout",
          "[net]") {
    ::setenv("HERD_TEST_SECRET", secret_a.c_str(), 1);
    auto cfg = pair_config();
    cfg.net.secret_env = "HERD_TEST_SECRET";
    const auto dir = testing::temp_folder("herd-silent");
    testing::running_herd welsh(cfg, {"Welsh"}, dir);
    line_client c(welsh.port("Welsh"), 6000ms);
    REQUIRE(challenge(c, "Holiday", *net::peer_auth::new_nonce()));
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(c.closed_by_server());
    const auto waited = std::chrono::steady_clock::now() - t0;
    CHECK(waited > 2500ms);
    CHECK(waited < 5000ms);
    CHECK(testing::file_contains(dir / "Welsh.log", "claiming to be Holiday sent no HERD-AUTH in time; dropped"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("a server with a secret and one without never link, and both say why", "[net]") {
    ::setenv("HERD_TEST_SECRET", secret_a.c_str(), 1);
    auto with = pair_config();
    with.net.secret_env = "HERD_TEST_SECRET";
    auto without = with;
    without.net.secret_env.clear();
    const auto dir = testing::temp_folder("herd-half-secret");
    SECTION("the dialer has the secret") {
        testing::running_herd holiday(with, {"Holiday"}, dir);
        testing::running_herd welsh(without, {"Welsh"}, dir);
        CHECK(testing::file_contains(dir / "Welsh.log", "Holiday offers a proof, but this server has no shared secret; refused"));
        CHECK(testing::file_contains(dir / "Holiday.log", "Welsh answered ? HERD-PEER Holiday "));
    }
    SECTION("the listener has the secret") {
        testing::running_herd holiday(without, {"Holiday"}, dir);
        testing::running_herd welsh(with, {"Welsh"}, dir);
        CHECK(testing::file_contains(dir / "Welsh.log", "Holiday sent no nonce (does it have the shared secret?); refused"));
        CHECK(testing::file_contains(dir / "Holiday.log", "Welsh answered ? HERD-PEER Holiday: not its identification"));
    }
    CHECK(testing::read_file(dir / "Welsh.log").find(" peer-up ") == std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("a plain client sending FLOOD, REPAIR or DIGEST lines is refused each time and nothing is applied",
          "[net]") {
    auto cfg = testing::seed_config_on_free_ports();
    cfg.herd.servers.resize(1);  // Goloman alone: connection 1 is the test's
    cfg.herd.links.clear();
    const auto dir = testing::temp_folder("herd-client-herd-lines");
    {
        testing::running_herd herd(cfg, {"Goloman"}, dir);
        const std::vector<std::string> lines = {
            "FLOOD Hands +0.100000000 evil +1+1 1600000000",
            "REPAIR Hands +0.100000000 evil +1+1 1600000001",
            "DIGEST 0 0123456789abcdef",
            "HERD-AUTH " + std::string(64, 'a'),
        };
        line_client c(herd.port("Goloman"));
        for (const auto& l : lines) c.send(l + "\n");
        for (const auto& l : lines) CHECK(c.read_line() == "? " + l + "\n");
        CHECK(ask(herd.port("Goloman"), "WHATSAT evil 10 1") == "? WHATSAT evil 10 1\n");
        std::size_t records = 1;
        herd.on_io([&] { records = herd.server("Goloman").node().records().size(); });
        CHECK(records == 0);
    }
    const std::string log = testing::read_file(dir / "Goloman.log");
    CHECK(log.find("FLOOD from client connection 1 refused") != std::string::npos);
    CHECK(log.find("REPAIR from client connection 1 refused") != std::string::npos);
    CHECK(log.find("DIGEST from client connection 1 refused") != std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("periodic repair runs on the server's clock, and stop cancels its timer", "[net]") {
    auto cfg = pair_config();
    cfg.protocol.repair = core::repair_mode::periodic;
    cfg.protocol.repair_interval = 100'000'000;  // 100 ms
    // The node's clock is an hour ahead of the system's: timers wait the difference, not the time.
    const net::clock_fn ahead = [] { return net::system_now() + 3600'000'000'000; };
    auto herd = std::make_unique<testing::running_herd>(cfg, std::vector<std::string>{"Holiday", "Welsh"},
                                                        std::filesystem::path(), ahead);
    REQUIRE(testing::spread_everywhere(herd->port("Welsh"), "k", {herd->port("Holiday")}, "AT Welsh"));
    auto digests_sent = [&] {
        std::uint64_t bytes = 0;
        herd->on_io([&] { bytes = herd->server("Holiday").peer_bytes_sent().digest; });
        return bytes;
    };
    const std::uint64_t before = digests_sent();
    std::this_thread::sleep_for(1000ms);
    const std::uint64_t after = digests_sent();
    // One DIGEST line of a one-record store is "DIGEST 0 <16 hex>\n": 26 bytes. About ten in a
    // second; at least five on a loaded machine, and not hundreds.
    CHECK(after - before >= 5 * 26);
    CHECK(after - before <= 30 * 26);
    const auto t0 = std::chrono::steady_clock::now();
    herd.reset();
    CHECK(std::chrono::steady_clock::now() - t0 < 1000ms);
}

TEST_CASE("after a reconnect, agreeing servers repair with under 1% of the bytes of a full transfer",
          "[net]") {
    auto cfg = pair_config();
    cfg.protocol.repair = core::repair_mode::on_connect;
    constexpr int per_server = 50'000;  // each server takes half, and floods it to the other
    constexpr std::size_t total = 2 * per_server + 1;  // and a probe
    testing::running_herd holiday(cfg, {"Holiday"});
    auto welsh = std::make_unique<testing::running_herd>(cfg, std::vector<std::string>{"Welsh"});
    REQUIRE(testing::spread_everywhere(welsh->port("Welsh"), "probe", {holiday.port("Holiday")}, "AT Welsh"));

    // Pipelined through one connection per server; the replies are read once all are sent.
    auto load = [](std::uint16_t port, const std::string& prefix) {
        line_client c(port, 20000ms);
        std::string batch;
        for (int i = 0; i < per_server; ++i)
            batch += "IAMAT " + prefix + std::to_string(i) + " +34.068930-118.445127 1600000000." +
                     std::to_string(100000 + i) + "\n";
        c.send(batch);
        int answered = 0;
        for (int i = 0; i < per_server; ++i) answered += c.read_line().starts_with("AT ") ? 1 : 0;
        return answered;
    };
    REQUIRE(load(holiday.port("Holiday"), "h") == per_server);
    REQUIRE(load(welsh->port("Welsh"), "w") == per_server);

    struct view {
        std::size_t records = 0;
        core::fine_sums sums{};
        net::peer_traffic sent, received;
        bool up = false;
    };
    auto look = [](testing::running_herd& h, const char* name, const char* peer) {
        view v;
        h.on_io([&] {
            const auto& s = h.server(name);
            v.records = s.node().records().size();
            v.sums = s.node().records().sums();
            v.sent = s.peer_bytes_sent();
            v.received = s.peer_bytes_received();
            v.up = s.node().is_up(peer);
        });
        return v;
    };
    auto wait_for = [](const std::function<bool()>& done, std::chrono::milliseconds deadline) {
        const auto until = std::chrono::steady_clock::now() + deadline;
        while (!done()) {
            if (std::chrono::steady_clock::now() > until) return false;
            std::this_thread::sleep_for(20ms);
        }
        return true;
    };
    REQUIRE(wait_for([&] {
        const auto h = look(holiday, "Holiday", "Welsh"), w = look(*welsh, "Welsh", "Holiday");
        return h.records == total && w.records == total && h.sums == w.sums;
    }, 30000ms));

    // A reconnect while they agree: each sends a DIGEST, neither sends a REPAIR.
    const view h0 = look(holiday, "Holiday", "Welsh"), w0 = look(*welsh, "Welsh", "Holiday");
    holiday.on_io([&] { holiday.server("Holiday").drop_peer_links(); });
    REQUIRE(wait_for([&] {
        const auto h = look(holiday, "Holiday", "Welsh"), w = look(*welsh, "Welsh", "Holiday");
        return h.up && w.up && h.received.digest > h0.received.digest && w.received.digest > w0.received.digest;
    }, 10000ms));
    // A REPAIR answering a DIGEST is counted in the step that reads the DIGEST: nothing more comes.
    const view h1 = look(holiday, "Holiday", "Welsh"), w1 = look(*welsh, "Welsh", "Holiday");
    CHECK(h1.sums == w1.sums);
    const std::uint64_t reconnect_digest = (h1.sent.digest - h0.sent.digest) + (w1.sent.digest - w0.sent.digest);
    const std::uint64_t reconnect_repair = (h1.sent.repair - h0.sent.repair) + (w1.sent.repair - w0.sent.repair);
    CHECK(reconnect_repair == 0);

    // A full transfer: Welsh restarts empty, and Holiday repairs all of it.
    welsh.reset();
    const view h2 = look(holiday, "Holiday", "Welsh");
    const auto t0 = std::chrono::steady_clock::now();
    welsh = std::make_unique<testing::running_herd>(cfg, std::vector<std::string>{"Welsh"});
    REQUIRE(wait_for([&] { return look(*welsh, "Welsh", "Holiday").records == total; }, 30000ms));
    const auto took = std::chrono::steady_clock::now() - t0;
    const view h3 = look(holiday, "Holiday", "Welsh"), w3 = look(*welsh, "Welsh", "Holiday");
    CHECK(h3.sums == w3.sums);
    const std::uint64_t full_repair = h3.sent.repair - h2.sent.repair;
    const std::uint64_t full_digest = (h3.sent.digest - h2.sent.digest) + w3.sent.digest;

    const std::uint64_t reconnect = reconnect_digest + reconnect_repair;
    const double percent = 100.0 * static_cast<double>(reconnect) / static_cast<double>(full_repair);
    std::cout << "repair bytes, " << total << " records on each side:\n"
              << "  agreeing reconnect: " << reconnect << " (DIGEST " << reconnect_digest << ", REPAIR "
              << reconnect_repair << ", both directions)\n"
              << "  full transfer to an empty server: REPAIR " << full_repair << " (DIGEST " << full_digest
              << "), " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
              << " ms from restart to every record\n"
              << "  reconnect / full transfer: " << percent << "%\n";
    CHECK(full_repair > total * 50);  // every record, some 70 bytes each
    CHECK(reconnect * 100 < full_repair);
}

namespace {

// Holiday with `records` clients, then Welsh empty: Holiday's answer to Welsh's DIGEST (some 60
// bytes a record) is larger than a peer queue of `queue_bytes`.
struct burst_fixture {
    core::herd_config cfg = pair_config();
    std::filesystem::path dir = testing::temp_folder("herd-burst");
    std::unique_ptr<testing::running_herd> holiday, welsh;

    burst_fixture(core::repair_mode mode, int records, std::uint64_t queue_bytes) {
        cfg.protocol.repair = mode;
        if (mode == core::repair_mode::periodic) cfg.protocol.repair_interval = 50'000'000;
        cfg.net.peer_queue_bytes_max = queue_bytes;
        holiday = std::make_unique<testing::running_herd>(cfg, std::vector<std::string>{"Holiday"}, dir);
        line_client c(holiday->port("Holiday"));
        std::string batch;
        for (int i = 0; i < records; ++i) batch += "IAMAT burst" + std::to_string(i) + " +1+1 1600000000\n";
        c.send(batch);
        for (int i = 0; i < records; ++i) REQUIRE(c.read_line().starts_with("AT Holiday "));
        welsh = std::make_unique<testing::running_herd>(cfg, std::vector<std::string>{"Welsh"}, dir);
    }
    ~burst_fixture() {
        welsh.reset();
        holiday.reset();
        std::filesystem::remove_all(dir);
    }
    std::size_t welsh_records() {
        std::size_t n = 0;
        welsh->on_io([&] { n = welsh->server("Welsh").node().records().size(); });
        return n;
    }
    // Whether the link came up once and stayed up (the log is flushed every 250 ms).
    bool link_stayed_up() {
        bool up = false;
        holiday->on_io([&] { up = holiday->server("Holiday").node().is_up("Welsh"); });
        std::this_thread::sleep_for(300ms);
        const std::string log = testing::read_file(dir / "Holiday.log");
        return up && log.find(" peer-up Welsh ") != std::string::npos && log.find(" peer-down ") == std::string::npos;
    }
};

}  // namespace

TEST_CASE("a repair over the peer queue limit is cut to whole buckets that fit, and the link stays up",
          "[net]") {
    burst_fixture f(core::repair_mode::on_connect, 200, 4096);
    REQUIRE(testing::file_contains(f.dir / "Holiday.log", "repair to Welsh cut short: "));
    CHECK(testing::file_contains(f.dir / "Holiday.log", " fit in 3/4 of net.peer_queue_bytes_max (4096); the link stays up"));
    const std::size_t repaired = f.welsh_records();
    CHECK(repaired > 10);
    CHECK(repaired < 200);
    // The link is up: a new update floods across.
    CHECK(testing::spread_everywhere(f.holiday->port("Holiday"), "after", {f.welsh->port("Welsh")}, "AT Holiday"));
    CHECK(f.welsh_records() == repaired + 1);
    CHECK(f.link_stayed_up());
}

TEST_CASE("with periodic repair, a repair cut short by the peer queue limit completes in later rounds",
          "[net]") {
    // Each round sends whole buckets of the digest Welsh sent, which must fit in the queue: with
    // 400 records and 16 KiB they do once Welsh holds a first cut (its digest has more buckets).
    burst_fixture f(core::repair_mode::periodic, 400, 16384);
    REQUIRE(testing::file_contains(f.dir / "Holiday.log", "repair to Welsh cut short: "));
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (f.welsh_records() < 400 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(20ms);
    CHECK(f.welsh_records() == 400);
    CHECK(f.link_stayed_up());
}

TEST_CASE("a line observer sees the IAMAT at its origin and the FLOOD it becomes at the neighbour", "[net]") {
    const auto cfg = pair_config();
    testing::running_herd herd(cfg, {"Holiday", "Welsh"});
    std::mutex m;
    std::vector<std::string> at_holiday, at_welsh;
    herd.on_io([&] {
        herd.server("Holiday").set_line_observer([&](std::string_view line) {
            std::lock_guard lock(m);
            at_holiday.emplace_back(line);
        });
        herd.server("Welsh").set_line_observer([&](std::string_view line) {
            std::lock_guard lock(m);
            at_welsh.emplace_back(line);
        });
    });
    REQUIRE(testing::spread_everywhere(herd.port("Holiday"), "watched", {herd.port("Welsh")}, "AT Holiday"));
    herd.on_io([&] {
        // Unset again before the vectors go: the servers outlive this scope.
        herd.server("Holiday").set_line_observer({});
        herd.server("Welsh").set_line_observer({});
    });
    std::lock_guard lock(m);
    REQUIRE(!at_holiday.empty());
    CHECK(std::any_of(at_holiday.begin(), at_holiday.end(),
                      [](const std::string& l) { return l.starts_with("IAMAT watched "); }));
    const auto flood = std::find_if(at_welsh.begin(), at_welsh.end(),
                                    [](const std::string& l) { return l.starts_with("FLOOD Holiday "); });
    REQUIRE(flood != at_welsh.end());
    CHECK(flood->find(" watched ") != std::string::npos);
}

TEST_CASE("lines on a link stay in order while the receiving server's client reads take them in between",
          "[net]") {
    // Welsh's client reads now and then read the link from Holiday themselves (so that floods
    // do not wait behind every client): with clients busy at both ends, every FLOOD Holiday
    // sent must arrive once, in the order it was sent.
    const auto dir = testing::temp_folder("herd-link-order");
    const auto cfg = pair_config();
    {
        testing::running_herd herd(cfg, {"Holiday", "Welsh"}, dir);
        REQUIRE(testing::spread_everywhere(herd.port("Holiday"), "first", {herd.port("Welsh")}, "AT Holiday"));
        std::atomic<int> bad_replies{0};  // Catch's assertions are not for other threads
        auto load = [&bad_replies](std::uint16_t port, const std::string& client) {
            line_client c(port);
            for (int round = 0, t = 1; round < 100; ++round) {
                std::string batch;
                for (int i = 0; i < 10; ++i, ++t) batch += "IAMAT " + client + " +1+1 " + std::to_string(1600000000 + t) + "\n";
                c.send(batch);
                for (int i = 0; i < 10; ++i)
                    if (!c.read_line().starts_with("AT ")) ++bad_replies;
            }
        };
        std::vector<std::thread> clients;
        for (int i = 0; i < 3; ++i) {
            clients.emplace_back(load, herd.port("Holiday"), "h" + std::to_string(i));
            clients.emplace_back(load, herd.port("Welsh"), "w" + std::to_string(i));
        }
        for (auto& t : clients) t.join();
        CHECK(bad_replies == 0);
        // Every flood has reached Welsh once each client's last update shows there (stopping
        // before would cut the link with floods in flight).
        for (int i = 0; i < 3; ++i) {
            const std::string whatsat = "WHATSAT h" + std::to_string(i) + " 1 1";
            std::string last;
            for (auto until = std::chrono::steady_clock::now() + 3s; std::chrono::steady_clock::now() < until;) {
                last = ask(herd.port("Welsh"), whatsat);
                if (last.find(" 1600001000\n") != std::string::npos) break;
                std::this_thread::sleep_for(5ms);
            }
            CHECK(last.find(" 1600001000\n") != std::string::npos);
        }
    }
    // Holiday's FLOODs out to Welsh, and Welsh's FLOODs in from Holiday, in log order.
    auto floods = [](const std::string& log, std::string_view kind) {
        std::vector<std::string> out;
        std::size_t at = 0;
        while ((at = log.find(kind, at)) != std::string::npos) {
            const auto end = log.find('\n', at);
            std::string line = log.substr(at + kind.size(), end - at - kind.size());
            if (line.ends_with("\\n")) line.resize(line.size() - 2);  // a line sent is logged with its newline
            out.push_back(std::move(line));
            at = end;
        }
        return out;
    };
    const auto sent = floods(testing::read_file(dir / "Holiday.log"), " peer-out Welsh FLOOD Holiday ");
    const auto received = floods(testing::read_file(dir / "Welsh.log"), " peer-in Holiday FLOOD Holiday ");
    CHECK(sent.size() >= 3000);
    CHECK(received.size() == sent.size());
    const auto differ = std::mismatch(sent.begin(), sent.end(), received.begin(), received.end());
    if (differ.first != sent.end())
        FAIL_CHECK("first difference at FLOOD " << differ.first - sent.begin() << ": sent " << *differ.first
                                                << ", received " << (differ.second == received.end() ? "nothing" : *differ.second));
    std::filesystem::remove_all(dir);
}

TEST_CASE("a neighbour that sends floods without pause does not keep the server from its clients", "[net]") {
    // A link reads one buffer at a time and reads on behind the handlers ready then, as an
    // asynchronous read would. Reading on until the socket was empty let a neighbour that
    // keeps it full (here a fake Holiday writing 40 MB of FLOODs as fast as it can, far faster
    // than Welsh applies them) hold Welsh's thread until the neighbour stopped. (Against that
    // reading this failed in 3 of 4 runs: whether the writer keeps the socket full all along
    // depends on how the threads are scheduled. Against this one it has not failed.)
    const auto cfg = pair_config();
    const auto dir = testing::temp_folder("herd-pump");  // logging every line, Welsh is slower still
    testing::running_herd herd(cfg, {"Welsh"}, dir);
    line_client holiday(herd.port("Welsh"), 60s);
    holiday.send("HERD-PEER Holiday\n");  // Holiday sorts first: it dials, Welsh accepts
    REQUIRE(holiday.read_line().starts_with("HERD-PEER Welsh"));
    std::string floods;
    int last = 0;
    while (floods.size() < 40'000'000)
        floods += "FLOOD Holiday +0.000000001 pumped +1+1 " + std::to_string(1'600'000'000 + ++last) + "\n";
    std::atomic<bool> sent{false};
    std::thread writer([&] {
        holiday.send(floods);
        sent = true;
    });
    // Welsh has begun applying the floods (its store has the client), and answers a client
    // while the neighbour is still sending.
    const std::string first = testing::ask_until(herd.port("Welsh"), "WHATSAT pumped 1 1", "AT Holiday", 30s);
    const std::string reply = testing::ask(herd.port("Welsh"), "IAMAT other +2+2 1600000000");
    const bool answered_while_sending = !sent;
    writer.join();
    CHECK(first.starts_with("AT Holiday"));
    CHECK(reply.starts_with("AT Welsh"));
    CHECK(answered_while_sending);
    // Every flood was applied, in order: the last is the record Welsh ends with.
    const std::string end = testing::ask_until(herd.port("Welsh"), "WHATSAT pumped 1 1",
                                               "AT Holiday +0.000000001 pumped +1+1 " + std::to_string(1'600'000'000 + last), 60s);
    CHECK(end.starts_with("AT Holiday +0.000000001 pumped +1+1 " + std::to_string(1'600'000'000 + last)));
    std::filesystem::remove_all(dir);
}
