// herd: the one executable. Thin: parses flags with CLI11 and calls the libraries.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "cli/demo.hpp"

int main(int argc, char** argv) {
    CLI::App app{"herd: an application server herd and its deterministic simulator"};
    app.set_version_flag("--version", "herd 0.1.0");
    app.require_subcommand(1);

    std::string demo_out = "runs/demo";
    auto* demo = app.add_subcommand(
        "demo", "Run the seed herd in memory through a short script and write its transcript");
    demo->add_option("--out", demo_out, "Directory for report.txt")->capture_default_str();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // Help and version exit 0; any usage error is exit 2, like invalid input everywhere.
        const int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }
    try {
        if (*demo) return herd::cli::run_demo(demo_out, std::cout);
    } catch (const std::exception& e) {
        std::cerr << "herd: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
