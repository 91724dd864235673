#include "cli/sim_commands.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.hpp"
#include "cli/places_source.hpp"
#include "plots/plots.hpp"
#include "sim/simulator.hpp"

namespace herd::cli {
namespace {

std::string fixed(double v, int digits = 3) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

// A progress line on stderr when it is a terminal (never in CI logs): virtual time reached.
std::function<void(core::nanos)> progress_reporter() {
    if (!::isatty(2)) return {};
    auto last = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
    return [last](core::nanos t) {
        const auto now = std::chrono::steady_clock::now();
        if (now - *last < std::chrono::milliseconds(500)) return;
        *last = now;
        std::fprintf(stderr, "\r  simulating: virtual time %s ms ", sim::format_ms(t).c_str());
        std::fflush(stderr);
    };
}

void write_file(const std::filesystem::path& p, const std::string& text) {
    std::ofstream f(p, std::ios::binary);
    f << text;
    if (!f.flush()) throw std::runtime_error("cannot write " + p.string());
}

// Renders the run directory's plots and report (herd plot); a failure is reported, and leaves the
// simulation's exit code alone: its files are written and its expectations decided.
void render_plots(const std::filesystem::path& dir, std::ostream& out, std::ostream& err) {
    try {
        out << plots::plot_run(dir).message << "\n";
    } catch (const std::exception& e) {
        err << "herd: plots: " << e.what() << "\n";
    }
}

// Loads a scenario and its places index; on an error, prints its one line and returns false.
bool load(const std::filesystem::path& file, sim::scenario& s, sim::places_fn& places, std::ostream& err) {
    try {
        s = sim::load_scenario(file);
        places = places_source(s);
        return true;
    } catch (const sim::scenario_error& e) {
        err << e.what() << "\n";
        return false;
    }
}

// herd sim: run_sim, and then (unless --no-plots) the plots.
int simulate(const std::filesystem::path& file, std::optional<std::uint64_t> seed,
             std::optional<std::filesystem::path> out_dir, bool plots, std::ostream& out, std::ostream& err) {
    sim::scenario s;
    sim::places_fn places;
    if (!load(file, s, places, err)) return 2;
    const auto progress = progress_reporter();
    const sim::run_result r = sim::run(s, seed, places, progress);
    if (progress) std::fprintf(stderr, "\r%60s\r", "");
    const std::uint64_t used_seed = seed.value_or(s.seed);
    const auto dir = out_dir.value_or(std::filesystem::path("runs") / (s.name + "-seed" + std::to_string(used_seed)));
    std::filesystem::create_directories(dir);
    write_file(dir / "summary.json", sim::summary_json(s, r));
    write_file(dir / "timeline.jsonl", sim::timeline_jsonl(r));
    write_file(dir / "updates.csv", sim::updates_csv(s, r));
    // How this run was asked for: the scenario's path as given varies with the directory one
    // runs in, so it stays out of the three files that are byte-identical per scenario and seed.
    write_file(dir / "run.json", nlohmann::ordered_json{{"scenario_file", file.string()}, {"seed", used_seed}}.dump(1) + "\n");

    const auto d = sim::delays(r);
    std::uint64_t flood_sent = 0, dropped = 0, duplicated = 0, repair_sent = 0, repair_bytes = 0;
    for (const auto& [kind, c] : r.messages_by_kind) {
        if (kind == "FLOOD") flood_sent = c.sent;
        if (kind == "DIGEST" || kind == "REPAIR") {
            repair_sent += c.sent;
            repair_bytes += c.bytes;
        }
        dropped += c.dropped;
        duplicated += c.duplicated;
    }
    std::uint64_t requests = 0;
    for (const auto& [kind, n] : r.client_requests) requests += n;
    std::size_t failed = 0;
    for (const auto& e : r.expectations) failed += e.ok ? 0 : 1;

    out << "scenario " << s.name << " (" << file.string() << "), seed " << used_seed << "\n"
        << "  " << s.servers.size() << " servers, " << s.links.size() << " links, " << r.events
        << " events, " << r.updates.size() << " updates, virtual end " << fixed(static_cast<double>(r.end) / 1e6) << " ms\n"
        << "  converged: "
        << (r.converged ? "yes" + (r.converged_at ? " (at " + sim::format_ms(*r.converged_at) + " ms)" : std::string())
                        : "NO (" + std::to_string(r.stale_final) + " stale server-client records)")
        << "\n"
        << "  delay ms over " << d.pairs << " (update, server) pairs: p50 " << fixed(d.p50) << "  p90 "
        << fixed(d.p90) << "  p99 " << fixed(d.p99) << "  max " << fixed(d.max) << "\n"
        << "  messages: " << flood_sent << " FLOOD sent, " << fixed(r.updates.empty() ? 0.0 : static_cast<double>(flood_sent) / static_cast<double>(r.updates.size()), 2)
        << " per update; " << dropped << " dropped, " << duplicated << " duplicated\n";
    if (s.protocol.repair != core::repair_mode::none)
        out << "  repair (" << core::repair_mode_name(s.protocol.repair) << "): " << repair_sent
            << " DIGEST and REPAIR messages sent, " << repair_bytes << " bytes\n";
    out
        << "  client requests " << requests << ", failed (server down) " << r.client_failures
        << ", refused '?' " << r.client_refusals << "\n"
        << "  expectations: " << r.expectations.size() - failed << "/" << r.expectations.size() << " ok\n";
    for (const auto& e : r.expectations)
        if (!e.ok) out << "  FAILED " << e.name << ": " << e.detail << "\n";
    out << "wrote " << (dir / "summary.json").string() << ", timeline.jsonl, updates.csv, run.json\n";
    if (plots) render_plots(dir, out, err);
    if (!r.ok) {
        out << "reproduce: herd sim " << file.string() << " --seed " << used_seed << "\n";
        return 1;
    }
    return 0;
}

}  // namespace

int run_sim(const std::filesystem::path& file, std::optional<std::uint64_t> seed,
            std::optional<std::filesystem::path> out_dir, std::ostream& out, std::ostream& err) {
    return simulate(file, seed, std::move(out_dir), false, out, err);
}

namespace {

// Whether `file` is a JSON Schema (a top-level "$schema" key) rather than a scenario.
bool is_json_schema(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    const auto j = nlohmann::json::parse(in, nullptr, false);
    return j.is_object() && j.contains("$schema");
}

}  // namespace

int run_check(const std::vector<std::filesystem::path>& files, std::ostream& out, std::ostream& err) {
    int code = 0;
    for (const auto& file : files) {
        if (is_json_schema(file)) {
            // scenarios/*.json includes the schema itself: say so rather than call it invalid.
            out << "SKIP " << file.string() << " (a JSON Schema, not a scenario)\n";
            continue;
        }
        sim::scenario s;
        sim::places_fn places;
        if (!load(file, s, places, err)) {
            out << "INVALID " << file.string() << "\n";
            code = 2;
            continue;
        }
        const sim::run_result r = sim::run(s, std::nullopt, places);
        if (r.ok) {
            out << "PASS " << file.string() << " (seed " << s.seed << ", " << r.expectations.size()
                << " expectations)\n";
            continue;
        }
        std::string why;
        for (const auto& e : r.expectations)
            if (!e.ok) why += (why.empty() ? "" : "; ") + e.name + ": " + e.detail;
        out << "FAIL " << file.string() << " (seed " << s.seed << "): " << why << "\n"
            << "  reproduce: herd sim " << file.string() << " --seed " << s.seed << "\n";
        code = std::max(code, 1);
    }
    return code;
}

void add_sim_commands(CLI::App& app, int& exit_code) {
    struct sim_options {
        std::string file;
        std::optional<std::uint64_t> seed;
        std::optional<std::string> out;
        bool no_plots = false;
    };
    auto o = std::make_shared<sim_options>();
    auto* sim = app.add_subcommand("sim", "Simulate a scenario deterministically and write its run directory");
    sim->add_option("SCENARIO", o->file, "Scenario file (JSON)")->required();
    sim->add_option("--seed", o->seed, "Seed (default: the scenario's own)");
    sim->add_option("--out", o->out, "Run directory (default: runs/<name>-seed<N>)");
    sim->add_flag("--no-plots", o->no_plots, "Write no plots and no report.html (herd plot RUN_DIR makes them later)");
    sim->callback([o, &exit_code] {
        std::optional<std::filesystem::path> out;
        if (o->out) out = *o->out;
        exit_code = simulate(o->file, o->seed, out, !o->no_plots, std::cout, std::cerr);
    });

    auto files = std::make_shared<std::vector<std::string>>();
    auto* check = app.add_subcommand("check", "Run scenarios and check their expectations; one PASS/FAIL line each");
    check->add_option("SCENARIO", *files, "Scenario files")->required();
    check->callback([files, &exit_code] {
        exit_code = run_check({files->begin(), files->end()}, std::cout, std::cerr);
    });
}

}  // namespace herd::cli
