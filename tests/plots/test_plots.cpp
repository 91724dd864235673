// plots/: the figures' files exist and are valid PNG and SVG, their data match the run, the
// report is one self-contained page, and everything is deterministic.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "plots/analysis.hpp"
#include "plots/plots.hpp"
#include "plots/report.hpp"
#include "plots/run_data.hpp"
#include "sim/simulator.hpp"

using namespace herd;
namespace fs = std::filesystem;

namespace {

const char* const figure_names[] = {"convergence", "delay-cdf", "staleness", "messages"};

std::string read(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return std::move(s).str();
}

void write(const fs::path& p, const std::string& text) {
    std::ofstream f(p, std::ios::binary);
    f << text;
}

// Simulates scenarios/NAME.json into a fresh run directory of its own (`tag` keeps test cases
// that ctest runs in parallel apart) and returns the directory.
fs::path simulate(const std::string& name, const std::string& tag) {
    const auto s = sim::load_scenario(fs::path(HERD_SOURCE_DIR) / "scenarios" / (name + ".json"));
    const auto r = sim::run(s, std::nullopt, {});
    const fs::path dir = fs::path(HERD_PLOTS_TEST_DIR) / (name + "-" + tag);
    fs::remove_all(dir);
    fs::create_directories(dir);
    write(dir / "summary.json", sim::summary_json(s, r));
    write(dir / "timeline.jsonl", sim::timeline_jsonl(r));
    write(dir / "updates.csv", sim::updates_csv(s, r));
    return dir;
}

std::uint32_t be32(const std::string& s, std::size_t at) {
    return (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

// A PNG: the signature, an IHDR of a plausible size first, IEND last.
bool valid_png(const std::string& png) {
    return png.size() > 100 && png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0 && png.compare(12, 4, "IHDR") == 0 &&
           be32(png, 16) >= 600 && be32(png, 20) >= 400 && png.compare(png.size() - 8, 4, "IEND") == 0;
}

// Well-formed XML as far as tags go: every element closed in order, one root <svg>.
bool valid_svg(const std::string& svg) {
    std::vector<std::string> open;
    std::size_t roots = 0;
    for (std::size_t at = svg.find('<'); at != std::string::npos; at = svg.find('<', at + 1)) {
        if (svg.compare(at, 4, "<!--") == 0) {
            at = svg.find("-->", at);
            if (at == std::string::npos) return false;
            continue;
        }
        const auto end = svg.find('>', at);
        if (end == std::string::npos) return false;
        if (svg[at + 1] == '?' || svg[at + 1] == '!') continue;
        const bool closing = svg[at + 1] == '/';
        const bool self_closing = svg[end - 1] == '/';
        const auto name_from = at + (closing ? 2 : 1);
        const auto name = svg.substr(name_from, svg.find_first_of(" \t\r\n/>", name_from) - name_from);
        if (closing) {
            if (open.empty() || open.back() != name) return false;
            open.pop_back();
        } else if (!self_closing) {
            if (open.empty()) roots += name == "svg" ? 1 : 100;
            open.push_back(name);
        }
    }
    return open.empty() && roots == 1;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream s(text);
    for (std::string line; std::getline(s, line);) out.push_back(line);
    return out;
}

std::vector<std::string> words(const std::string& line) {
    std::vector<std::string> out;
    std::istringstream s(line);
    for (std::string w; s >> w;) out.push_back(w);
    return out;
}

// Data rows (not comments, not blank) of a data file, split into blocks at blank lines.
std::vector<std::vector<std::vector<std::string>>> blocks_of(const std::string& text) {
    std::vector<std::vector<std::vector<std::string>>> out(1);
    for (const auto& line : lines_of(text)) {
        if (line.empty()) {
            if (!out.back().empty()) out.emplace_back();
            continue;
        }
        if (line[0] == '#') continue;
        out.back().push_back(words(line));
    }
    if (out.back().empty()) out.pop_back();
    return out;
}

struct env_var {
    env_var(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        ::setenv(name, value, 1);
    }
    ~env_var() {
        if (old_) ::setenv(name_, old_->c_str(), 1);
        else ::unsetenv(name_);
    }
    env_var(const env_var&) = delete;
    env_var& operator=(const env_var&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("plotting the seed run writes each figure as a valid PNG and SVG titled with scenario and seed", "[plots]") {
    const auto dir = simulate("seed", "files");
    const auto out = plots::plot_run(dir);
    REQUIRE(out.rendered);
    CHECK(out.message.find("report.html") != std::string::npos);
    for (const char* name : figure_names) {
        INFO(name);
        const auto png = read(dir / "plots" / (std::string(name) + ".png"));
        const auto svg = read(dir / "plots" / (std::string(name) + ".svg"));
        CHECK(valid_png(png));
        CHECK(valid_svg(svg));
        CHECK(svg.find("scenario seed, seed 1") != std::string::npos);
        CHECK(fs::exists(dir / "plots" / (std::string(name) + ".gp")));
        CHECK(svg.find("(ms)") != std::string::npos);  // a time axis with its unit
    }
    CHECK(fs::exists(dir / "report.html"));
}

TEST_CASE("the delay CDF ends at the summary's maximum delay and marks its percentiles", "[plots]") {
    const auto dir = simulate("partition-heal", "cdf");
    plots::options opts;
    opts.render = false;
    plots::plot_run(dir, opts);
    const auto summary = nlohmann::json::parse(read(dir / "summary.json"));
    const auto all = blocks_of(read(dir / "plots" / "delay-cdf-all.dat"));
    REQUIRE(all.size() == 1);
    CHECK(all[0].back()[0] == plots::format_ms(std::llround(summary["delay_ms"]["max"].get<double>() * 1e6)));
    CHECK(all[0].back()[1] == "1.000000");

    // Each server's curve ends at the largest delay of its rows in updates.csv, with fraction 1.
    const auto run = plots::load_run(dir);
    const auto per_server = plots::delays_by_server(run);
    const auto blocks = blocks_of(read(dir / "plots" / "delay-cdf.dat"));
    REQUIRE(blocks.size() == run.servers.size());
    for (std::size_t s = 0; s < blocks.size(); ++s) {
        INFO(run.servers[s]);
        CHECK(blocks[s].back()[0] == plots::format_ms(per_server[s].back()));
        CHECK(blocks[s].back()[1] == "1.000000");
    }
    std::map<std::string, std::string> marks;
    const auto mark_rows = blocks_of(read(dir / "plots" / "delay-cdf-marks.dat"));
    for (const auto& row : mark_rows.at(0)) marks[row[2]] = row[0];
    for (const char* p : {"p50", "p90", "p99", "max"})
        CHECK(marks[p] == plots::format_ms(std::llround(summary["delay_ms"][p].get<double>() * 1e6)));
}

TEST_CASE("every staleness column sums to the timeline's count, also across a crash that loses state", "[plots]") {
    for (const char* scenario : {"partition-heal", "holiday-crash"}) {
        INFO(scenario);
        const auto dir = simulate(scenario, "stale");
        plots::options opts;
        opts.render = false;
        plots::plot_run(dir, opts);
        const auto run = plots::load_run(dir);
        const auto rows = blocks_of(read(dir / "plots" / "staleness.dat"))[0];
        REQUIRE(rows.size() == run.servers.size() + 1);
        const std::size_t cols = std::stoul(rows[0][0]);
        REQUIRE(cols + 1 == run.stale.size());  // every sample but the last, which is the end
        bool some_down = false;
        for (std::size_t k = 0; k < cols; ++k) {
            std::int64_t sum = 0, live = 0;
            for (std::size_t s = 1; s < rows.size(); ++s) {
                const auto v = std::stoll(rows[s][k + 1]);
                if (v >= 0) sum += v, ++live;
                some_down = some_down || v < 0;
            }
            INFO("column " << k << " at " << rows[0][k + 1] << " ms");
            CHECK(rows[0][k + 1] == plots::format_ms(run.stale[k].t));
            CHECK(sum == static_cast<std::int64_t>(run.stale[k].stale));
            CHECK(live == static_cast<std::int64_t>(run.stale[k].live));
        }
        CHECK(some_down == (std::string(scenario) == "holiday-crash"));
        std::int64_t end = 0;
        const auto end_rows = blocks_of(read(dir / "plots" / "staleness-end.dat"));
        for (const auto& row : end_rows.at(0)) end += std::max<std::int64_t>(0, std::stoll(row[1]));
        CHECK(end == nlohmann::json::parse(read(dir / "summary.json"))["stale_final"].get<std::int64_t>());
    }
}

TEST_CASE("the convergence lines rise to every server in a run that converges", "[plots]") {
    const auto dir = simulate("seed", "convergence");
    plots::options opts;
    opts.render = false;
    plots::plot_run(dir, opts);
    const auto run = plots::load_run(dir);
    const auto blocks = blocks_of(read(dir / "plots" / "convergence-lines.dat"));
    CHECK(blocks.size() == run.updates.size());  // 144 updates: all drawn, none near a fault
    CHECK(blocks_of(read(dir / "plots" / "convergence-lines-faults.dat")).empty());
    for (const auto& b : blocks) {
        double last = 0;
        for (const auto& row : b) {
            const double f = std::stod(row[2]);
            CHECK(f >= last);
            last = f;
        }
        CHECK(b.back()[2] == "1.000000");
    }
    // The fan ends with every percentile at every server.
    const auto fan = blocks_of(read(dir / "plots" / "convergence-fan.dat"))[0];
    CHECK(fan.back()[1] == "1.000000");
    CHECK(fan.back()[2] == "1.000000");
    // The share of fresh records ends at 1: the run converged.
    CHECK(blocks_of(read(dir / "plots" / "convergence-fresh.dat"))[0].back()[1] == "1.000000");
}

TEST_CASE("the message rate adds up to the summary's sent, dropped and duplicated counts", "[plots]") {
    const auto dir = simulate("lossy-reordering", "rate");
    const auto run = plots::load_run(dir);
    const auto m = plots::message_rates_of(run, 200);
    CHECK(m.complete);
    auto total = [](const plots::count_series& s) {
        std::uint64_t n = 0;
        for (const auto v : s.counts) n += v;
        return n;
    };
    std::uint64_t dropped = 0;
    for (const auto& s : m.dropped) dropped += total(s);
    REQUIRE(m.sent.size() == 1);
    CHECK(total(m.sent[0]) == run.summary_count("FLOOD", "sent"));
    CHECK(dropped == run.summary_count("FLOOD", "dropped"));
    CHECK(total(m.duplicated) == run.summary_count("FLOOD", "duplicated"));
    CHECK(m.requests.counts.size() <= 200);
    CHECK(dropped > 0);
}

TEST_CASE("a run without per-message lines says on its message plot what the rate is based on", "[plots]") {
    const auto dir = simulate("grid-5x5", "nomessages");
    plots::options opts;
    opts.render = false;
    plots::plot_run(dir, opts);
    const auto gp = read(dir / "plots" / "messages.gp");
    CHECK(gp.find("no line per message in this run's timeline") != std::string::npos);
    CHECK(gp.find("mean over the run") != std::string::npos);
    // Convergence comes from updates.csv alone.
    const auto run = plots::load_run(dir);
    CHECK(run.messages.empty());
    CHECK(blocks_of(read(dir / "plots" / "convergence-lines.dat")).size() == 300);
    CHECK(gp.find("set logscale y") != std::string::npos);  // FLOODs dwarf client requests
}

TEST_CASE("plots and report are deterministic and leave the run's own files untouched", "[plots]") {
    const auto dir = simulate("partition-heal", "determinism");
    std::map<std::string, std::string> before;
    for (const char* f : {"summary.json", "timeline.jsonl", "updates.csv"}) before[f] = read(dir / f);
    plots::plot_run(dir);
    std::map<fs::path, std::string> first;
    for (const auto& e : fs::directory_iterator(dir / "plots")) first[e.path()] = read(e.path());
    first[dir / "report.html"] = read(dir / "report.html");
    plots::plot_run(dir);
    for (const auto& [path, text] : first) {
        INFO(path.string());
        CHECK(read(path) == text);
    }
    for (const auto& [f, text] : before) CHECK(read(dir / f) == text);
    CHECK(first.size() > 4 * 3 + 1);  // at least 4 figures × (gp, png, svg) and the report
}

TEST_CASE("without gnuplot the data and scripts are written and one line says how to render them", "[plots]") {
    const auto dir = simulate("seed", "nognuplot");
    env_var no_gnuplot("HERD_GNUPLOT", "none");
    const auto out = plots::plot_run(dir);
    CHECK_FALSE(out.rendered);
    CHECK(out.message.find("gnuplot not found") != std::string::npos);
    CHECK(out.message.find("gnuplot *.gp") != std::string::npos);
    CHECK(out.message.find('\n') == std::string::npos);
    for (const char* name : figure_names) {
        CHECK(fs::exists(dir / "plots" / (std::string(name) + ".gp")));
        CHECK_FALSE(fs::exists(dir / "plots" / (std::string(name) + ".png")));
    }
    CHECK(read(dir / "report.html").find("not rendered") != std::string::npos);
}

TEST_CASE("the report is one self-contained page with every figure inline", "[plots]") {
    const auto dir = simulate("holiday-crash", "report");
    plots::plot_run(dir);
    const auto html = read(dir / "report.html");
    for (const char* forbidden : {"<script", "<link", "<img", "src=", "href=\"http", "href='http", "@import", "url(http"})
        CHECK(html.find(forbidden) == std::string::npos);
    for (const char* name : {"convergence", "delay-cdf", "staleness", "messages", "herd"}) {
        INFO(name);
        const auto at = html.find("<figure id=\"figure-" + std::string(name) + "\">");
        REQUIRE(at != std::string::npos);
        CHECK(html.find("<svg", at) < html.find("</figure>", at));
    }
    CHECK(html.find("Expectations") != std::string::npos);
    CHECK(html.find("Holiday down, state lost") != std::string::npos);  // the fault, labelled
    // Ids are made unique per figure when the SVGs are inlined.
    CHECK(html.find("id=\"gnuplot_canvas\"") == std::string::npos);
    CHECK(html.find("id=\"staleness-gnuplot_canvas\"") != std::string::npos);
    CHECK(html.find("'#gpPt") == std::string::npos);
}

TEST_CASE("a run past the drawing limits is thinned and each figure says so", "[plots]") {
    const auto dir = simulate("partition-heal", "limits");
    plots::options opts;
    opts.render = false;
    opts.limits.lines_max = 10;
    opts.limits.line_points_max = 3;
    opts.limits.heat_rows_max = 2;
    opts.limits.heat_columns_max = 10;
    opts.limits.cdf_points_max = 5;
    plots::plot_run(dir, opts);
    CHECK(read(dir / "plots" / "convergence.gp").find("thin lines: 10 of 209 updates, evenly spaced by id") != std::string::npos);
    const auto lines = blocks_of(read(dir / "plots" / "convergence-lines.dat"));
    const auto faults = blocks_of(read(dir / "plots" / "convergence-lines-faults.dat"));
    CHECK(lines.size() + faults.size() == 10);
    const auto stale_gp = read(dir / "plots" / "staleness.gp");
    CHECK(stale_gp.find("rows: groups of 3 servers") != std::string::npos);
    CHECK(stale_gp.find("every 6th of 51") != std::string::npos);
    CHECK(blocks_of(read(dir / "plots" / "staleness-groups.dat"))[0].size() == 2 + 1);
    for (const auto& b : blocks_of(read(dir / "plots" / "delay-cdf.dat"))) CHECK(b.size() <= 5);
}

TEST_CASE("milliseconds in the run files are read exactly", "[plots]") {
    CHECK(plots::parse_ms("3018.547742") == 3018547742);
    CHECK(plots::parse_ms("0.000001") == 1);
    CHECK(plots::parse_ms("12") == 12000000);
    CHECK(plots::parse_ms("1.5") == 1500000);
    CHECK_FALSE(plots::parse_ms("1.").has_value());
    CHECK_FALSE(plots::parse_ms("-1.0").has_value());
    CHECK_FALSE(plots::parse_ms("1.0000001").has_value());
    CHECK(plots::format_ms(3018547742) == "3018.547742");
}

TEST_CASE("a run directory that is not one is refused with the file it lacks", "[plots]") {
    const fs::path dir = fs::path(HERD_PLOTS_TEST_DIR) / "not-a-run";
    fs::create_directories(dir);
    CHECK_THROWS_WITH(plots::load_run(dir), Catch::Contains("summary.json"));
}
