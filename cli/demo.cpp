#include "cli/demo.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"

#include <fstream>
#include <ostream>
#include <sstream>

#include "core/topology.hpp"
#include "tests/support/harness.hpp"

namespace herd::cli {
namespace {

constexpr core::nanos demo_now = 1520023935182837383;  // the server clock in this demo

// One client line to `server`, then the herd runs until quiet (unless `drive` is false).
void client(std::ostream& os, testing::harness& h, const char* server, const char* line,
            bool drive = true) {
    const auto conn = h.client_line(server, line);
    if (drive) h.drive();
    os << "  client -> " << server << ": " << line << "\n";
    for (const auto& r : h.replies(conn)) {
        std::istringstream lines(r);
        for (std::string l; std::getline(lines, l);) os << "  " << server << " -> client: " << l << "\n";
    }
}

void stores(std::ostream& os, testing::harness& h, const char* client_id) {
    for (const auto& s : h.herd().servers) {
        const auto* r = h.at(s.name).records().find(client_id);
        os << "  " << s.name << ": " << (r ? r->at_line() : "(nothing)") << "\n";
    }
}

}  // namespace

int run_demo(const std::filesystem::path& dir, std::ostream& out) {
    std::ostringstream os;
    testing::harness h(core::seed_topology(), demo_now);
    os << "herd demo: the seed herd in memory (core::node objects wired by queues, no sockets).\n"
          "Until the simulator lands, this is the main job; `herd sim` will replace it.\n\n"
          "Servers and links:\n";
    for (const auto& s : h.herd().servers) {
        os << "  " << s.name << " (port " << s.port << "):";
        for (const auto& n : h.herd().neighbours(s.name)) os << " " << n;
        os << "\n";
    }
    os << "Server clock: 1520023935.182837383\n\n1. An update at Welsh\n";
    client(os, h, "Welsh", "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1520023934.918963997");
    os << "\n2. The flood: " << h.delivered("FLOOD ") << " messages (the forwarding rule predicts "
       << testing::predicted_floods(h.herd(), "Welsh") << " = 2|E| - (n - 1))\n";
    for (const auto& d : h.trace()) os << "  " << d.from << " -> " << d.to << ": " << d.line << "\n";
    os << "\n3. Every store now holds Welsh's record\n";
    stores(os, h, "kiwi.cs.ucla.edu");

    const auto sent = h.trace().size();
    os << "\n4. An older update at Goloman is answered but neither stored nor flooded\n";
    client(os, h, "Goloman", "IAMAT kiwi.cs.ucla.edu +10+10 1520023900");
    os << "  messages sent: " << h.trace().size() - sent << "\n";

    os << "\n5. Two updates with the same client time at Hands and Holiday, both in flight at once:\n"
          "   the store order (client time, then origin name, then location) picks Holiday's\n";
    client(os, h, "Hands", "IAMAT dog +1+1 1520023935", false);
    client(os, h, "Holiday", "IAMAT dog +2+2 1520023935", false);
    h.drive();
    stores(os, h, "dog");

    os << "\n6. Malformed lines are answered '? ' and the line, byte for byte\n";
    client(os, h, "Wilkes", "IAMAT kiwi +91-118 1520023934");
    client(os, h, "Wilkes", "WHATSAT kiwi.cs.ucla.edu 51 5");
    client(os, h, "Wilkes", "FLOOD Welsh +0.1 kiwi +1+1 1");

    const std::string report = os.str();
    out << report;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const auto path = dir / "report.txt";
    std::ofstream file(path, std::ios::binary);
    file << report;
    if (!file.flush()) {
        out << "herd demo: cannot write " << path.string() << "\n";
        return 1;
    }
    out << "\nwrote " << path.string() << "\n";
    return 0;
}

void add_demo_command(CLI::App& app, int& exit_code) {
    auto out = std::make_shared<std::string>("runs/demo");
    auto* demo = app.add_subcommand(
        "demo", "Run the seed herd in memory through a short script and write its transcript");
    demo->add_option("--out", *out, "Directory for report.txt")->capture_default_str();
    demo->callback([out, &exit_code] { exit_code = run_demo(*out, std::cout); });
}

}  // namespace herd::cli
