// herd serve and herd up: the real herd on Boost.Asio.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/commands.hpp"
#include "net/bench.hpp"
#include "net/herd.hpp"

namespace herd::cli {
namespace {

struct net_options {
    std::string name;
    std::string config;
    std::string log_dir = "logs";
    std::size_t threads = 0;  // herd up: threads for the servers (0: one per core)
};

int run(const net_options& o, bool one) {
    try {
        const core::herd_config cfg = o.config.empty() ? core::seed_config() : net::load_config(o.config);
        return net::run_herd(cfg, one ? std::vector<std::string>{o.name} : std::vector<std::string>{},
                             o.log_dir, std::cout, o.threads);
    } catch (const core::config_error& e) {
        std::cerr << e.what() << "\n";
        return 2;
    }
}

void add_common(CLI::App* cmd, net_options& o) {
    cmd->add_option("--config", o.config, "Herd config or scenario file (default: the seed's five-server herd)");
    cmd->add_option("--log-dir", o.log_dir, "Folder for one log file per server")->capture_default_str();
}

}  // namespace

void add_net_commands(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<net_options>();
    auto* serve = app.add_subcommand("serve", "Run one server of the herd until SIGINT or SIGTERM");
    serve->add_option("NAME", o->name, "Server name (Goloman, Hands, Holiday, Welsh, Wilkes in the seed herd)")->required();
    add_common(serve, *o);
    serve->callback([o, &exit_code] { exit_code = run(*o, true); });

    auto u = std::make_shared<net_options>();
    auto* up = app.add_subcommand("up", "Run every server of the herd in one process until SIGINT or SIGTERM");
    add_common(up, *u);
    up->add_option("--threads", u->threads, "Threads for the servers, each server on one of them (default: one per core, at most one per server)")
        ->check(CLI::Range(1, 1024));
    up->callback([u, &exit_code] { exit_code = run(*u, false); });

    auto b = std::make_shared<std::pair<net_options, net::bench_options>>();
    auto start = std::make_shared<bool>(false);
    auto* bench = app.add_subcommand("bench", "Load a running herd with clients over TCP and print throughput and latency");
    bench->add_option("--config", b->first.config, "Herd config (default: the seed's herd)");
    bench->add_option("--connections", b->second.connections, "Client connections")->capture_default_str()->check(CLI::Range(1, 10000));
    bench->add_option("--seconds", b->second.seconds, "How long to load the herd")->capture_default_str()->check(CLI::Range(0.1, 3600.0));
    bench->add_option("--whatsat-fraction", b->second.whatsat_fraction, "Share of WHATSAT requests")->capture_default_str()->check(CLI::Range(0.0, 1.0));
    bench->add_option("--pipeline", b->second.pipeline, "Requests in flight per connection")->capture_default_str()->check(CLI::Range(1, 1000));
    bench->add_flag("--start", *start, "Start the herd in this process first, as herd up does but without logs; the load runs on a thread of its own");
    bench->add_flag("--poll-farthest", b->second.poll_farthest,
                    "With --start: time the update's arrival at the farthest server by asking it WHATSAT (as for an external herd), not by watching it apply the update");
    bench->add_flag("--load-on-herd-threads", b->second.load_on_herd_threads,
                    "With --start: run each load connection on the thread of the server it loads, not on a thread of its own");
    bench->add_option("--threads", b->first.threads, "With --start: threads for the servers (default: one per core, at most one per server)")
        ->check(CLI::Range(1, 1024));
    bench->callback([b, start, &exit_code] {
        try {
            const core::herd_config cfg = b->first.config.empty() ? core::seed_config() : net::load_config(b->first.config);
            std::optional<net::running_servers> herd;
            if (*start) herd.emplace(cfg, std::vector<std::string>{}, std::filesystem::path(), b->first.threads);
            const auto r = net::run_bench(cfg, b->second, herd ? &*herd : nullptr);
            net::print_bench(r, b->second, std::cout);
            exit_code = 0;
        } catch (const core::config_error& e) {
            std::cerr << e.what() << "\n";
            exit_code = 2;
        }
    });
}

}  // namespace herd::cli
