#include "plots/plots.hpp"

#include "plots/report.hpp"
#include "plots/run_data.hpp"

namespace herd::plots {

outcome plot_run(const std::filesystem::path& run_dir, const options& opts) {
    const run_data r = load_run(run_dir);
    outcome out;
    out.plots_dir = run_dir / "plots";
    out.report = run_dir / "report.html";
    std::filesystem::create_directories(out.plots_dir);

    const auto figures = all_figures(r, opts.limits);
    for (const auto& f : figures) {
        out.figures.push_back(f.name);
        write_figure(f, out.plots_dir);
        // Pictures of an earlier rendering would no longer match the data.
        for (const char* ext : {".png", ".svg"}) std::filesystem::remove(out.plots_dir / (f.name + ext));
    }

    const std::string how = "render with: cd " + out.plots_dir.string() + " && gnuplot *.gp";
    std::string problem;
    const auto gnuplot = opts.render ? find_gnuplot() : std::nullopt;
    if (!opts.render) {
        problem = "not rendered (--no-render)";
    } else if (!gnuplot) {
        problem = "gnuplot not found";
    } else {
        problem = render(*gnuplot, out.plots_dir, out.figures);
    }
    out.rendered = problem.empty();
    write_text(out.report, report_html(r, figures, out.plots_dir, how + ", then herd plot " + run_dir.string() + " to rebuild this page"));

    if (out.rendered)
        out.message = "plots: " + out.plots_dir.string() + "/{convergence,delay-cdf,staleness,messages}.{png,svg}; report: " + out.report.string();
    else
        out.message = "plots: " + problem + "; data and gnuplot scripts are in " + out.plots_dir.string() + " (" + how + "); report: " +
                      out.report.string();
    return out;
}

}  // namespace herd::plots
