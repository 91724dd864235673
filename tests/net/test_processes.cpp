// The herd as real processes: `herd serve` and `herd up`, killed and restarted.
#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <thread>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/net/net_support.hpp"

using namespace herd;
using namespace std::chrono_literals;
using testing::ask;
using testing::ask_until;
using testing::listening;

namespace {

const std::vector<std::string> seed_names = {"Goloman", "Hands", "Holiday", "Welsh", "Wilkes"};

// Writes the seed herd on free ports as a config file; returns its path and the ports. `more`
// is merged into the file's top level (protocol, net...).
std::filesystem::path write_config(const std::filesystem::path& dir, std::map<std::string, std::uint16_t>& ports,
                                   const nlohmann::json& more = nlohmann::json::object()) {
    const auto cfg = testing::seed_config_on_free_ports();
    nlohmann::json servers = nlohmann::json::array(), links = nlohmann::json::array();
    for (const auto& s : cfg.herd.servers) {
        servers.push_back({{"name", s.name}, {"host", "127.0.0.1"}, {"port", s.port}});
        ports[s.name] = s.port;
    }
    for (const auto& [a, b] : cfg.herd.links) links.push_back({{"between", {a, b}}});
    nlohmann::json j = {{"topology", {{"servers", servers}, {"links", links}}},
                        {"net", {{"redial_min_ms", 20}, {"redial_max_ms", 200}}}};
    j.merge_patch(more);
    const auto path = dir / "herd.json";
    std::ofstream(path) << j.dump(2);
    return path;
}

// Waits until an update at Welsh reaches every other server: every link is up.
void wait_for_links(std::map<std::string, std::uint16_t>& ports) {
    REQUIRE(testing::spread_everywhere(ports["Welsh"], "probe",
                                       {ports["Goloman"], ports["Hands"], ports["Holiday"], ports["Wilkes"]}, "AT Welsh"));
}

// Starts every server of the seed herd as a process of its own; returns once every link is up.
void start_seed_herd(testing::serve_processes& procs, std::map<std::string, std::uint16_t>& ports) {
    for (const auto& n : seed_names) REQUIRE(procs.start(n, ports[n]));
    wait_for_links(ports);
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
    testing::serve_processes procs(cfg, dir / "logs");
    start_seed_herd(procs, ports);
    check_update_reaches_everyone(ports);
    for (auto& [n, p] : procs.all()) p->kill(SIGTERM);
    for (auto& [n, p] : procs.all()) CHECK(p->wait() == 0);
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
    testing::serve_processes procs(cfg, dir / "logs");
    start_seed_herd(procs, ports);

    // IAMATs flow to the four others before, during and after the kill: every one is answered,
    // at once.
    std::atomic<bool> stop{false};
    std::atomic<int> asked{0}, answered{0}, slow{0};
    std::thread flow([&] {
        for (int i = 0; !stop; ++i)
            for (const char* s : {"Goloman", "Hands", "Welsh", "Wilkes"}) {
                const auto t0 = std::chrono::steady_clock::now();
                ++asked;
                answered += ask(ports[s], "IAMAT flow" + std::to_string(i) + " +1+1 " + std::to_string(2000 + i))
                                .starts_with("AT ") ? 1 : 0;
                slow += std::chrono::steady_clock::now() - t0 > 500ms ? 1 : 0;
            }
    });
    std::this_thread::sleep_for(200ms);
    procs["Holiday"].kill(SIGKILL);
    procs["Holiday"].wait();
    std::this_thread::sleep_for(500ms);
    stop = true;
    flow.join();
    CHECK(asked > 40);
    CHECK(answered == asked);
    CHECK(slow == 0);

    // Restarted, it relinks with each of its neighbours by itself (its log is a new file: the
    // old one has the first run's links), and a new update at Welsh reaches it and, through it
    // or Wilkes, Goloman.
    std::filesystem::rename(dir / "logs" / "Holiday.log", dir / "logs" / "Holiday.log.1");
    REQUIRE(procs.start("Holiday", ports["Holiday"]));
    for (const char* n : {"Goloman", "Welsh", "Wilkes"}) {
        INFO(n);
        CHECK(testing::file_contains(dir / "logs" / "Holiday.log", std::string("peer-up ") + n + " "));
    }
    CHECK(testing::spread_everywhere(ports["Welsh"], "after", {ports["Holiday"], ports["Goloman"]}, "AT Welsh"));
    std::filesystem::remove_all(dir);
}

namespace {

// Runs `herd ARGS`, which must fail: its exit code, and its stderr as lines.
std::pair<int, std::vector<std::string>> failing_run(const std::filesystem::path& dir, const std::vector<std::string>& args) {
    const auto err = dir / "stderr.txt";
    testing::child_process p(args, err);
    const int code = p.wait();
    std::vector<std::string> lines;
    std::istringstream in(testing::read_file(err));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return {code, lines};
}

}  // namespace

TEST_CASE("a port in use is one clear error and exit code 2", "[net]") {
    const auto dir = testing::temp_folder("herd-busy");
    std::map<std::string, std::uint16_t> ports;
    const auto cfg = write_config(dir, ports);
    testing::child_process first({"serve", "Hands", "--config", cfg.string(), "--log-dir", (dir / "l1").string()});
    REQUIRE(listening(ports["Hands"], 2000ms));
    const std::string busy = cfg.string() + ": $.topology.servers[1].port: cannot listen on 127.0.0.1:" +
                             std::to_string(ports["Hands"]) + ": Address already in use";
    {
        const auto [code, lines] = failing_run(dir, {"serve", "Hands", "--config", cfg.string(), "--log-dir", (dir / "l2").string()});
        CHECK(code == 2);
        CHECK(lines == std::vector<std::string>{busy});
    }
    {
        // herd up: Goloman, before Hands, listens first; only the error is printed all the same.
        const auto [code, lines] = failing_run(dir, {"up", "--config", cfg.string(), "--log-dir", (dir / "l3").string()});
        CHECK(code == 2);
        CHECK(lines == std::vector<std::string>{busy});
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("a bad config is one line naming the file, the JSON path and the problem, and exit code 2", "[net]") {
    const auto dir = testing::temp_folder("herd-bad");
    std::map<std::string, std::uint16_t> ports;
    const auto cfg = write_config(dir, ports);
    {
        const auto [code, lines] = failing_run(dir, {"serve", "Nobody", "--config", cfg.string(), "--log-dir", (dir / "l").string()});
        CHECK(code == 2);
        REQUIRE(lines.size() == 1);
        CHECK(lines[0].starts_with(cfg.string() + ": "));
        CHECK(lines[0].find("Nobody") != std::string::npos);
    }
    struct bad {
        const char* what;
        std::string text;
        std::string expected;  // the line, after "FILE: "
    };
    const std::vector<bad> cases = {
        {"duplicate names", R"({"topology": {"servers": [{"name": "A", "port": 1}, {"name": "A", "port": 2}]}})",
         "$.topology.servers[1].name: duplicate server name A"},
        {"a link to an unknown server",
         R"({"topology": {"servers": [{"name": "A", "port": 1}], "links": [{"between": ["A", "B"]}]}})",
         "$.topology.links[0].between[1]: unknown server B"},
        {"malformed JSON", R"({"topology": )", "$: "},
        {"missing places data",
         R"({"topology": {"servers": [{"name": "A", "port": 1}]}, "places": {"data": "nowhere.json"}})",
         "$.places.data: "},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        const auto file = dir / "bad.json";
        std::ofstream(file) << c.text;
        const auto [code, lines] = failing_run(dir, {"up", "--config", file.string(), "--log-dir", (dir / "l").string()});
        CHECK(code == 2);
        REQUIRE(lines.size() == 1);
        CHECK(lines[0].starts_with(file.string() + ": " + c.expected));
    }
    std::filesystem::remove_all(dir);
}

namespace {

// The time of a log line (`2024-05-01T12:00:00.123456Z kind text`) on the system clock.
std::chrono::system_clock::time_point log_time(const std::string& line) {
    std::tm tm{};
    std::istringstream in(line.substr(0, 19));
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
    const auto secs = std::chrono::system_clock::from_time_t(timegm(&tm));
    return secs + std::chrono::microseconds(std::stoll(line.substr(20, 6)));
}

// The first line holding `text` after the first line holding `after` that was written at or
// after `since`; "" when there is none (yet: a server flushes its log every 250 ms, so the file
// may hold only an earlier run's lines).
std::string first_line_after(const std::string& log, std::string_view after, std::string_view text,
                             std::chrono::system_clock::time_point since) {
    auto line_at = [&](std::size_t at) {
        const auto begin = log.rfind('\n', at);
        const auto first = begin == std::string::npos ? 0 : begin + 1;
        return log.substr(first, log.find('\n', at) - first);
    };
    for (auto from = log.find(after); from != std::string::npos; from = log.find(after, from + 1)) {
        if (log_time(line_at(from)) < since) continue;
        const auto at = log.find(text, from);
        return at == std::string::npos ? std::string() : line_at(at);
    }
    return {};
}

}  // namespace

TEST_CASE("a killed server restarted with repair on connect knows every record within a second of its first link",
          "[net]") {
    ::setenv("HERD_TEST_PROCESS_SECRET", "a secret the herd processes share, long enough", 1);
    const auto dir = testing::temp_folder("herd-repair");
    std::map<std::string, std::uint16_t> ports;
    const auto cfg = write_config(dir, ports, {{"protocol", {{"repair", "on_connect"}}},
                                               {"net", {{"secret_env", "HERD_TEST_PROCESS_SECRET"}}}});
    testing::serve_processes procs(cfg, dir / "logs");
    start_seed_herd(procs, ports);

    // Ten clients, their updates spread across the herd.
    std::map<std::string, std::string> expected;  // client -> the end of its AT line
    auto update = [&](const std::string& server, int client, int time) {
        const std::string c = "client" + std::to_string(client);
        const std::string tail = c + " +34.068930-118.445127 " + std::to_string(1600000000 + time);
        REQUIRE(ask(ports[server], "IAMAT " + tail).starts_with("AT " + server + " "));
        expected[c] = "AT " + server + " ";
        expected[c + " tail"] = " " + tail + "\n";
    };
    for (int i = 0; i < 10; ++i) update(seed_names[i % seed_names.size()], i, 10);
    for (const auto& n : seed_names)
        for (int i = 0; i < 10; ++i)
            REQUIRE(ask_until(ports[n], "WHATSAT client" + std::to_string(i) + " 1 1", expected["client" + std::to_string(i)], 2000ms)
                        .starts_with(expected["client" + std::to_string(i)]));

    procs["Holiday"].kill(SIGKILL);
    procs["Holiday"].wait();
    // While Holiday is down: updates at Welsh (whose only neighbour is Holiday: they stay
    // there) and at Goloman (they reach Hands and Wilkes, not Holiday).
    for (int i = 0; i < 5; ++i) update("Welsh", i, 20);
    for (int i = 5; i < 10; ++i) update("Goloman", i, 20);

    const auto restarted_at = std::chrono::system_clock::now();
    REQUIRE(procs.start("Holiday", ports["Holiday"]));
    // Poll Holiday until it knows every record (the newest of each client).
    auto knows_everything = [&] {
        for (int i = 0; i < 10; ++i) {
            const std::string c = "client" + std::to_string(i);
            const std::string reply = ask(ports["Holiday"], "WHATSAT " + c + " 1 1");
            const auto first_line = reply.substr(0, reply.find('\n') + 1);
            if (!first_line.starts_with(expected[c]) || !first_line.ends_with(expected[c + " tail"])) return false;
        }
        return true;
    };
    const auto give_up = std::chrono::steady_clock::now() + 15s;
    bool known = false;
    while (!(known = knows_everything()) && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(10ms);
    const auto known_at = std::chrono::system_clock::now();
    REQUIRE(known);

    // From the first "link to X up" of the restarted Holiday.
    const auto log_file = dir / "logs" / "Holiday.log";
    REQUIRE(testing::file_contains(log_file, "info link to "));
    std::string link_line;
    const auto until = std::chrono::steady_clock::now() + 3s;
    // The restarted Holiday's first link (not the killed one's, whose lines come first in the file).
    while ((link_line = first_line_after(testing::read_file(log_file), " start Holiday listening", " info link to ",
                                         restarted_at)).empty() &&
           std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(50ms);
    REQUIRE_FALSE(link_line.empty());
    const auto after_link = std::chrono::duration_cast<std::chrono::milliseconds>(known_at - log_time(link_line));
    std::cout << "restarted Holiday knew all 10 records " << after_link.count() << " ms after: " << link_line << "\n";
    CHECK(after_link < 1000ms);
    // Welsh's updates travel on from Holiday to its other neighbours as floods.
    CHECK(ask_until(ports["Goloman"], "WHATSAT client0 1 1", "AT Welsh ", 1000ms).starts_with("AT Welsh "));
    for (auto& [n, p] : procs.all()) p->kill(SIGTERM);
    for (auto& [n, p] : procs.all()) CHECK(p->wait() == 0);
    CHECK(testing::read_file(log_file).find("a secret the herd processes share") == std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("a secret variable that is not set is one clear error and exit code 2", "[net]") {
    ::unsetenv("HERD_TEST_UNSET_SECRET");
    const auto dir = testing::temp_folder("herd-no-secret");
    std::map<std::string, std::uint16_t> ports;
    const auto cfg = write_config(dir, ports, {{"net", {{"secret_env", "HERD_TEST_UNSET_SECRET"}}}});
    testing::child_process serve({"serve", "Hands", "--config", cfg.string(), "--log-dir", (dir / "l").string()},
                                 dir / "stderr.txt");
    CHECK(serve.wait() == 2);
    CHECK(testing::read_file(dir / "stderr.txt") ==
          cfg.string() + ": $.net.secret_env: environment variable HERD_TEST_UNSET_SECRET is not set or empty\n");
    std::filesystem::remove_all(dir);
}

TEST_CASE("without a secret, herd up says once on stderr that peers are trusted by name", "[net]") {
    const auto dir = testing::temp_folder("herd-trust-notice");
    std::map<std::string, std::uint16_t> ports;
    // Few connections a server, so that no machine's open-file limit adds its own notice.
    const auto cfg = write_config(dir, ports, {{"net", {{"connections_max", 100}}}});
    testing::child_process up({"up", "--config", cfg.string(), "--log-dir", (dir / "logs").string()}, dir / "stderr.txt");
    for (const auto& n : seed_names) REQUIRE(listening(ports[n], 2000ms));
    up.kill(SIGTERM);
    CHECK(up.wait() == 0);
    CHECK(testing::read_file(dir / "stderr.txt") ==
          "herd: no shared secret (net.secret_env): peers are trusted by the name they give\n");
    for (const auto& n : seed_names)
        CHECK(testing::read_file(dir / "logs" / (n + ".log")).find("peers are trusted by the name they give") != std::string::npos);
    std::filesystem::remove_all(dir);
}
