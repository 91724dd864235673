// herd: the one executable. Thin: parses flags with CLI11 and calls the libraries.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "cli/demo.hpp"
#include "cli/sim_commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"herd: an application server herd and its deterministic simulator"};
    app.set_version_flag("--version", "herd 0.1.0");
    app.require_subcommand(1);

    std::string demo_out = "runs/demo";
    auto* demo = app.add_subcommand(
        "demo", "Run the seed herd in memory through a short script and write its transcript");
    demo->add_option("--out", demo_out, "Directory for report.txt")->capture_default_str();

    std::string sim_file;
    std::optional<std::uint64_t> sim_seed;
    std::optional<std::string> sim_out;
    auto* sim = app.add_subcommand("sim", "Simulate a scenario deterministically and write its run directory");
    sim->add_option("SCENARIO", sim_file, "Scenario file (JSON)")->required();
    sim->add_option("--seed", sim_seed, "Seed (default: the scenario's own)");
    sim->add_option("--out", sim_out, "Run directory (default: runs/<name>-seed<N>)");

    std::vector<std::string> check_files;
    auto* check = app.add_subcommand("check", "Run scenarios and check their expectations; one PASS/FAIL line each");
    check->add_option("SCENARIO", check_files, "Scenario files")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // Help and version exit 0; any usage error is exit 2, like invalid input everywhere.
        const int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }
    try {
        if (*demo) return herd::cli::run_demo(demo_out, std::cout);
        if (*sim) {
            std::optional<std::filesystem::path> out;
            if (sim_out) out = *sim_out;
            return herd::cli::run_sim(sim_file, sim_seed, out, std::cout, std::cerr);
        }
        if (*check) {
            std::vector<std::filesystem::path> files(check_files.begin(), check_files.end());
            return herd::cli::run_check(files, std::cout, std::cerr);
        }
    } catch (const std::exception& e) {
        std::cerr << "herd: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
