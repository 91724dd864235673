// The herd as real processes: `herd serve` and `herd up`, killed and restarted.
#include <catch2/catch.hpp>

#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/net/net_support.hpp"

using namespace herd;
using namespace std::chrono_literals;
using testing::ask;
using testing::ask_until;

namespace {

const std::vector<std::string> seed_names = {"Goloman", "Hands", "Holiday", "Welsh", "Wilkes"};

// Writes the seed herd on free ports as a config file; returns its path and the ports.
std::filesystem::path write_config(const std::filesystem::path& dir, std::map<std::string, std::uint16_t>& ports) {
    const auto cfg = testing::seed_config_on_free_ports();
    nlohmann::json servers = nlohmann::json::array(), links = nlohmann::json::array();
    for (const auto& s : cfg.herd.servers) {
        servers.push_back({{"name", s.name}, {"host", "127.0.0.1"}, {"port", s.port}});
        ports[s.name] = s.port;
    }
    for (const auto& [a, b] : cfg.herd.links) links.push_back({{"between", {a, b}}});
    const nlohmann::json j = {{"topology", {{"servers", servers}, {"links", links}}},
                              {"net", {{"redial_min_ms", 20}, {"redial_max_ms", 200}}}};
    const auto path = dir / "herd.json";
    std::ofstream(path) << j.dump(2);
    return path;
}

// Waits until `port` accepts connections; false after `deadline`.
bool listening(std::uint16_t port, std::chrono::milliseconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
        if (testing::line_client(port, 200ms).connected()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

// Waits until an update at Welsh reaches every other server: every link is up.
void wait_for_links(std::map<std::string, std::uint16_t>& ports) {
    REQUIRE(testing::spread_everywhere(ports["Welsh"], "probe",
                                       {ports["Goloman"], ports["Hands"], ports["Holiday"], ports["Wilkes"]}, "AT Welsh"));
}

void check_update_reaches_everyone(std::map<std::string, std::uint16_t>& ports) {
    CHECK(ask(ports["Welsh"], "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1520023934.918963997")
              .starts_with("AT Welsh "));
    for (const char* s : {"Goloman", "Hands", "Holiday", "Wilkes"}) {
        INFO(s);
        CHECK(ask_until(ports[s], "WHATSAT kiwi.cs.ucla.edu 10 5", "AT Welsh ", 1000ms).starts_with("AT Welsh "));
    }
}

}  // namespace

TEST_CASE("five herd serve processes answer AT Welsh at every other server", "[net]") {
    const auto dir = testing::temp_folder("herd-serve");
    std::map<std::string, std::uint16_t> ports;
    const auto cfg = write_config(dir, ports);
    std::vector<std::unique_ptr<testing::child_process>> procs;
    for (const auto& n : seed_names)
        procs.push_back(std::make_unique<testing::child_process>(std::vector<std::string>{
            "serve", n, "--config", cfg.string(), "--log-dir", (dir / "logs").string()}));
    for (const auto& n : seed_names) REQUIRE(listening(ports[n], 2000ms));
    wait_for_links(ports);
    check_update_reaches_everyone(ports);
    for (auto& p : procs) p->kill(SIGTERM);
    for (auto& p : procs) CHECK(p->wait() == 0);
    CHECK(std::filesystem::exists(dir / "logs" / "Welsh.log"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("herd up runs the whole herd in one process and stops on SIGTERM within a second", "[net]") {
    const auto dir = testing::temp_folder("herd-up");
    std::map<std::string, std::uint16_t> ports;
    const auto cfg = write_config(dir, ports);
    testing::child_process up({"up", "--config", cfg.string(), "--log-dir", (dir / "logs").string()});
    for (const auto& n : seed_names) REQUIRE(listening(ports[n], 2000ms));
    wait_for_links(ports);
    check_update_reaches_everyone(ports);
    const auto t0 = std::chrono::steady_clock::now();
    up.kill(SIGTERM);
    CHECK(up.wait() == 0);
    CHECK(std::chrono::steady_clock::now() - t0 < 1s);
    for (const auto& n : seed_names) CHECK(std::filesystem::exists(dir / "logs" / (n + ".log")));
    std::filesystem::remove_all(dir);
}

TEST_CASE("a killed server does not delay the others, and relinks when restarted", "[net]") {
    const auto dir = testing::temp_folder("herd-kill");
    std::map<std::string, std::uint16_t> ports;
    const auto cfg = write_config(dir, ports);
    std::map<std::string, std::unique_ptr<testing::child_process>> procs;
    auto start = [&](const std::string& n) {
        procs[n] = std::make_unique<testing::child_process>(std::vector<std::string>{
            "serve", n, "--config", cfg.string(), "--log-dir", (dir / "logs").string()});
    };
    for (const auto& n : seed_names) start(n);
    for (const auto& n : seed_names) REQUIRE(listening(ports[n], 2000ms));
    wait_for_links(ports);

    procs["Holiday"]->kill(SIGKILL);
    procs["Holiday"]->wait();
    // Every client of a live server still gets its reply, at once.
    int answered = 0;
    for (int i = 0; i < 50; ++i) {
        for (const char* s : {"Goloman", "Hands", "Welsh", "Wilkes"}) {
            const auto t0 = std::chrono::steady_clock::now();
            answered += ask(ports[s], "IAMAT flow" + std::to_string(i) + " +1+1 " + std::to_string(2000 + i))
                            .starts_with("AT ") ? 1 : 0;
            CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
        }
    }
    CHECK(answered == 200);

    start("Holiday");
    REQUIRE(listening(ports["Holiday"], 2000ms));
    // Its links come back by themselves: a new update at Welsh then reaches Holiday and, through
    // it, Goloman.
    CHECK(testing::spread_everywhere(ports["Welsh"], "after", {ports["Holiday"], ports["Goloman"]}, "AT Welsh"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("a port in use is one clear error and exit code 2", "[net]") {
    const auto dir = testing::temp_folder("herd-busy");
    std::map<std::string, std::uint16_t> ports;
    const auto cfg = write_config(dir, ports);
    testing::child_process first({"serve", "Hands", "--config", cfg.string(), "--log-dir", (dir / "l1").string()});
    REQUIRE(listening(ports["Hands"], 2000ms));
    testing::child_process second({"serve", "Hands", "--config", cfg.string(), "--log-dir", (dir / "l2").string()});
    CHECK(second.wait() == 2);
    std::filesystem::remove_all(dir);
}

TEST_CASE("an unknown server name or a malformed config is exit code 2", "[net]") {
    const auto dir = testing::temp_folder("herd-bad");
    std::map<std::string, std::uint16_t> ports;
    const auto cfg = write_config(dir, ports);
    testing::child_process unknown({"serve", "Nobody", "--config", cfg.string(), "--log-dir", (dir / "l").string()});
    CHECK(unknown.wait() == 2);
    std::ofstream(dir / "bad.json") << "{\"topology\": {\"servers\": [{\"name\": \"A\"}, {\"name\": \"A\"}]}}";
    testing::child_process dup({"up", "--config", (dir / "bad.json").string()});
    CHECK(dup.wait() == 2);
    std::filesystem::remove_all(dir);
}
