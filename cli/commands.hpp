#pragma once
// Each part of the CLI registers its own subcommands; the one that runs sets `exit_code`
// (0 ok, 1 a failed expectation or check, 2 invalid input). main.cpp only calls these.

namespace CLI {
class App;
}

namespace herd::cli {

void add_demo_command(CLI::App& app, int& exit_code);  // herd demo        (cli/demo.cpp)
void add_sim_commands(CLI::App& app, int& exit_code);  // herd sim, check  (cli/sim_commands.cpp)
void add_net_commands(CLI::App& app, int& exit_code);  // herd serve, up, bench (cli/net_commands.cpp)
void add_plot_command(CLI::App& app, int& exit_code);  // herd plot        (cli/plot_commands.cpp)

}  // namespace herd::cli
