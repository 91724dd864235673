// herd: the one executable. Thin: parses flags with CLI11 and calls the libraries; each
// subcommand is registered by its own file (cli/commands.hpp).
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"herd: an application server herd and its deterministic simulator"};
    app.set_version_flag("--version", "herd 0.1.0");
    app.require_subcommand(1);

    int exit_code = 0;
    herd::cli::add_demo_command(app, exit_code);
    herd::cli::add_sim_commands(app, exit_code);
    herd::cli::add_net_commands(app, exit_code);
    herd::cli::add_plot_command(app, exit_code);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // Help and version exit 0; any usage error is exit 2, like invalid input everywhere.
        const int code = app.exit(e);
        return code == 0 ? 0 : 2;
    } catch (const std::exception& e) {
        std::cerr << "herd: " << e.what() << "\n";
        return 1;
    }
    return exit_code;
}
