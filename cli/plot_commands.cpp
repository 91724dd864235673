// herd plot RUN_DIR: (re-)renders a run directory's plots and report.html (docs/plots.md).
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "plots/plots.hpp"
#include "plots/run_data.hpp"

namespace herd::cli {

void add_plot_command(CLI::App& app, int& exit_code) {
    struct plot_options {
        std::string dir;
        bool no_render = false;
    };
    auto o = std::make_shared<plot_options>();
    auto* plot = app.add_subcommand("plot", "Render a run directory's plots (PNG, SVG) and report.html");
    plot->add_option("RUN_DIR", o->dir, "Run directory written by herd sim")->required();
    plot->add_flag("--no-render", o->no_render, "Write the data files and gnuplot scripts only");
    plot->callback([o, &exit_code] {
        plots::options opts;
        opts.render = !o->no_render;
        try {
            const auto result = plots::plot_run(o->dir, opts);
            std::cout << result.message << "\n";
            // No gnuplot (or --no-render) is not a failure: the scripts are there to render.
            const bool gnuplot_failed = opts.render && !result.rendered && result.message.find("gnuplot not found") == std::string::npos;
            exit_code = gnuplot_failed ? 1 : 0;
        } catch (const plots::run_error& e) {
            std::cerr << "herd plot: " << e.what() << "\n";
            exit_code = 2;
        }
    });
}

}  // namespace herd::cli
