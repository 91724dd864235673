#include "plots/report.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numbers>
#include <sstream>

#include "plots/analysis.hpp"

namespace herd::plots {
namespace {

std::string read_text(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f) return {};
    std::ostringstream s;
    s << f.rdbuf();
    return std::move(s).str();
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
    if (from.empty()) return;
    std::string out;
    out.reserve(s.size());
    std::size_t at = 0;
    for (auto hit = s.find(from); hit != std::string::npos; hit = s.find(from, at)) {
        out.append(s, at, hit - at);
        out += to;
        at = hit + from.size();
    }
    out.append(s, at, std::string::npos);
    s = std::move(out);
}

// A JSON value as one line of text for the summary table.
std::string brief(const nlohmann::ordered_json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object()) {
        std::string out;
        for (const auto& [k, x] : v.items()) out += (out.empty() ? "" : ", ") + k + ": " + brief(x);
        return out.empty() ? "none" : out;
    }
    return v.dump();
}

struct link_traffic {
    std::uint64_t sent = 0, dropped = 0, duplicated = 0;
};

// Per directed link "A->B", from summary.json.
std::map<std::string, link_traffic> traffic_by_link(const run_data& r) {
    std::map<std::string, link_traffic> out;
    if (const auto it = r.summary.find("messages_by_link"); it != r.summary.end() && it->is_array())
        for (const auto& l : *it)
            out[l.value("link", std::string())] = {l.value("sent", std::uint64_t{0}), l.value("dropped", std::uint64_t{0}),
                                                   l.value("duplicated", std::uint64_t{0})};
    return out;
}

// How each link fared: its state at the end, how often and how long it was down.
struct link_story {
    bool up_at_end = true;
    std::size_t downs = 0;
    nanos down_total = 0;
};

std::vector<link_story> link_stories(const run_data& r) {
    std::vector<link_story> out(r.links.size());
    std::vector<nanos> down_since(r.links.size(), -1);
    for (const auto& e : r.link_events) {
        auto& s = out[e.link];
        if (!e.up && down_since[e.link] < 0) {
            down_since[e.link] = e.t;
            ++s.downs;
        } else if (e.up && down_since[e.link] >= 0) {
            s.down_total += e.t - down_since[e.link];
            down_since[e.link] = -1;
        }
    }
    for (std::size_t l = 0; l < out.size(); ++l)
        if (down_since[l] >= 0) {
            out[l].up_at_end = false;
            out[l].down_total += r.end - down_since[l];
        }
    return out;
}

std::string num(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string herd_svg(const run_data& r, const std::vector<link_story>& stories, const std::map<std::string, link_traffic>& traffic) {
    const auto pos = herd_layout(r);
    const std::size_t n = r.servers.size();
    const double w = 960, h = n > 60 ? 960 : 620, pad = 60;
    auto x = [&](std::size_t s) { return pad + pos[s].first * (w - 2 * pad); };
    auto y = [&](std::size_t s) { return pad + pos[s].second * (h - 2 * pad); };
    std::uint64_t most = 1;
    for (const auto& [name, t] : traffic) most = std::max(most, t.sent);
    // Servers down at the end: a crash without a restart.
    std::vector<bool> down(n, false);
    for (const auto& f : r.faults) {
        const auto s = f.names.empty() ? none : r.server_index(f.names[0]);
        if (s == none) continue;
        if (f.fault == "crash") down[s] = true;
        if (f.fault == "restart") down[s] = false;
    }
    const bool labels = r.links.size() <= 40;
    std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + num(w, 0) + " " + num(h, 0) +
                    "\" role=\"img\" aria-label=\"the herd graph\" class=\"herd\">\n<title>The herd: " + html_escape(r.scenario) + "</title>\n";
    for (std::size_t l = 0; l < r.links.size(); ++l) {
        const auto [a, b] = r.links[l];
        const auto ab = traffic.count(r.servers[a] + "->" + r.servers[b]) ? traffic.at(r.servers[a] + "->" + r.servers[b]) : link_traffic{};
        const auto ba = traffic.count(r.servers[b] + "->" + r.servers[a]) ? traffic.at(r.servers[b] + "->" + r.servers[a]) : link_traffic{};
        const auto& st = stories[l];
        const std::string colour = !st.up_at_end ? "#CC3311" : st.downs ? "#EE7733" : "#6b7b8c";
        const double width = 0.8 + 4.0 * std::sqrt(static_cast<double>(ab.sent + ba.sent) / static_cast<double>(2 * most));
        std::string tip = r.servers[a] + " – " + r.servers[b] + ": " + (st.up_at_end ? "up" : "DOWN") + " at the end";
        if (st.downs) tip += ", down " + std::to_string(st.downs) + "× for " + format_ms(st.down_total) + " ms in all";
        tip += "; sent " + r.servers[a] + "→" + r.servers[b] + " " + std::to_string(ab.sent) + " (dropped " + std::to_string(ab.dropped) +
               ", duplicated " + std::to_string(ab.duplicated) + "), " + r.servers[b] + "→" + r.servers[a] + " " + std::to_string(ba.sent) +
               " (dropped " + std::to_string(ba.dropped) + ", duplicated " + std::to_string(ba.duplicated) + ")";
        s += "<g class=\"link\"><title>" + html_escape(tip) + "</title><line x1=\"" + num(x(a), 1) + "\" y1=\"" + num(y(a), 1) + "\" x2=\"" +
             num(x(b), 1) + "\" y2=\"" + num(y(b), 1) + "\" stroke=\"" + colour + "\" stroke-width=\"" + num(width, 2) + "\"" +
             (st.up_at_end ? "" : " stroke-dasharray=\"8 5\"") + (n > 60 ? " stroke-opacity=\"0.35\"" : "") + "/>";
        if (labels) {
            // Each direction's count sits on the link near the server that sent it.
            auto count_at = [&](std::size_t from, std::size_t to, const link_traffic& t) {
                const double k = 0.3;
                return "<text x=\"" + num(x(from) + k * (x(to) - x(from)), 1) + "\" y=\"" + num(y(from) + k * (y(to) - y(from)) + 4, 1) +
                       "\" class=\"count\">" + std::to_string(t.sent) + (t.dropped ? " (" + std::to_string(t.dropped) + " lost)" : "") + "</text>";
            };
            s += count_at(a, b, ab) + count_at(b, a, ba);
        }
        s += "</g>\n";
    }
    const double radius = n > 200 ? 3 : n > 60 ? 6 : 16;
    for (std::size_t v = 0; v < n; ++v) {
        s += "<g class=\"server\"><title>" + html_escape(r.servers[v]) + (down[v] ? " (down at the end)" : "") + "</title><circle cx=\"" +
             num(x(v), 1) + "\" cy=\"" + num(y(v), 1) + "\" r=\"" + num(radius, 0) + "\" fill=\"" + (down[v] ? "#BBBBBB" : "#0077BB") + "\"/>";
        if (n <= 60)
            s += "<text x=\"" + num(x(v), 1) + "\" y=\"" + num(y(v) + radius + 14, 1) + "\" class=\"name\">" + html_escape(r.servers[v]) + "</text>";
        s += "</g>\n";
    }
    return s + "</svg>\n";
}

const char* style = R"(body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:2em auto;max-width:1240px;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#11772d;font-weight:600}.bad{color:#b3261e;font-weight:600}
.banner{padding:.6em 1em;border-radius:6px;margin:1em 0}.banner.ok{background:#e6f4ea}.banner.bad{background:#fce8e6}
figure{margin:1.5em 0}figure svg{width:100%;height:auto;border:1px solid #eee}figcaption{color:#444;font-size:.92em;margin-top:.4em}
.missing{padding:2em;background:#fff8e1;border:1px dashed #e0b000}
svg.herd{width:100%;height:auto;border:1px solid #eee;background:#fcfcfc}
svg.herd text{paint-order:stroke;stroke:#fcfcfc;stroke-width:4px;stroke-linejoin:round}
svg.herd text.name{font-size:13px;text-anchor:middle;fill:#222}svg.herd text.count{font-size:11px;text-anchor:middle;fill:#333}
.legend span{display:inline-block;margin-right:1.5em}.sw{display:inline-block;width:2em;height:.3em;vertical-align:middle;margin-right:.4em}
code{background:#f4f4f4;padding:0 .25em}
)";

}  // namespace

std::string html_escape(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string inline_svg(const std::string& svg, const std::string& prefix, const std::string& title) {
    std::string s = svg;
    if (s.rfind("<?xml", 0) == 0) s.erase(0, s.find("?>") + 2);
    const auto start = s.find("<svg");
    if (start == std::string::npos) return {};
    s.erase(0, start);
    std::vector<std::string> ids;
    for (const char q : {'\'', '"'}) {
        const std::string key = std::string(" id=") + q;
        for (auto at = s.find(key); at != std::string::npos; at = s.find(key, at + 1)) {
            const auto from = at + key.size();
            ids.push_back(s.substr(from, s.find(q, from) - from));
        }
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (const auto& id : ids)
        for (const char* q : {"'", "\"", ")"}) {
            replace_all(s, "#" + id + q, "#" + prefix + "-" + id + q);
            if (*q != ')') replace_all(s, std::string("id=") + q + id + q, std::string("id=") + q + prefix + "-" + id + q);
        }
    replace_all(s, "<title>Gnuplot</title>", "<title>" + html_escape(title) + "</title>");
    return s;
}

std::vector<std::pair<double, double>> herd_layout(const run_data& r, std::size_t force_max) {
    const std::size_t n = r.servers.size();
    std::vector<std::pair<double, double>> p(n);
    for (std::size_t v = 0; v < n; ++v) {
        const double a = 2 * std::numbers::pi * static_cast<double>(v) / static_cast<double>(std::max<std::size_t>(n, 1)) - std::numbers::pi / 2;
        p[v] = {0.5 + 0.5 * std::cos(a), 0.5 + 0.5 * std::sin(a)};
    }
    if (n < 3 || n > force_max) return p;
    // Fruchterman–Reingold: neighbours attract, everyone repels, the step cools to nothing.
    const double k = std::sqrt(1.0 / static_cast<double>(n));
    double temperature = 0.1;
    std::vector<std::pair<double, double>> d(n);
    for (int it = 0; it < 300; ++it) {
        std::fill(d.begin(), d.end(), std::pair{0.0, 0.0});
        for (std::size_t a = 0; a < n; ++a)
            for (std::size_t b = a + 1; b < n; ++b) {
                const double dx = p[a].first - p[b].first, dy = p[a].second - p[b].second;
                const double dist = std::max(1e-6, std::hypot(dx, dy));
                const double f = k * k / dist;
                d[a].first += dx / dist * f, d[a].second += dy / dist * f;
                d[b].first -= dx / dist * f, d[b].second -= dy / dist * f;
            }
        for (const auto& [a, b] : r.links) {
            const double dx = p[a].first - p[b].first, dy = p[a].second - p[b].second;
            const double dist = std::max(1e-6, std::hypot(dx, dy));
            const double f = dist * dist / k;
            d[a].first -= dx / dist * f, d[a].second -= dy / dist * f;
            d[b].first += dx / dist * f, d[b].second += dy / dist * f;
        }
        for (std::size_t v = 0; v < n; ++v) {
            const double len = std::max(1e-9, std::hypot(d[v].first, d[v].second));
            const double step = std::min(len, temperature);
            p[v].first += d[v].first / len * step;
            p[v].second += d[v].second / len * step;
        }
        temperature *= 0.985;
    }
    // Fit into the unit square.
    double x0 = 1e9, x1 = -1e9, y0 = 1e9, y1 = -1e9;
    for (const auto& [x, y] : p) x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    const double sx = std::max(1e-9, x1 - x0), sy = std::max(1e-9, y1 - y0);
    for (auto& [x, y] : p) x = (x - x0) / sx, y = (y - y0) / sy;
    return p;
}

std::string report_html(const run_data& r, const std::vector<figure>& figures, const std::filesystem::path& plots_dir,
                        const std::string& missing_note) {
    const std::string title = "herd run: " + r.scenario + ", seed " + std::to_string(r.seed);
    const bool ok = r.summary.value("ok", false);
    std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
                    html_escape(title) + "</title>\n<style>\n" + style + "</style>\n</head>\n<body>\n";
    h += "<h1>" + html_escape(title) + "</h1>\n";
    const std::string file = r.scenario_file.empty() ? std::string("SCENARIO") : r.scenario_file;
    h += "<p>Scenario file <code>" + html_escape(r.scenario_file.empty() ? std::string("?") : file) +
         "</code>. Reproduce: <code>herd sim " + html_escape(file) + " --seed " + std::to_string(r.seed) + "</code>.</p>\n";

    std::size_t failed = 0, total = 0;
    if (const auto it = r.summary.find("expectations"); it != r.summary.end())
        for (const auto& e : *it) ++total, failed += e.value("ok", false) ? 0 : 1;
    h += std::string("<div class=\"banner ") + (ok ? "ok" : "bad") + "\">" +
         (ok ? "Every expectation holds (" + std::to_string(total) + ")."
             : std::to_string(failed) + " of " + std::to_string(total) + " expectations failed.") +
         " Converged: " + (r.summary.value("converged", false) ? "yes" : "no") + ".</div>\n";

    h += "<h2 id=\"summary\">Summary</h2>\n<table>\n";
    for (const auto& [key, v] : r.summary.items()) {
        if (key == "expectations" || key == "messages_by_link" || key == "topology" || key == "scenario" || key == "ok") continue;
        h += "<tr><th>" + html_escape(key) + "</th><td>" + html_escape(brief(v)) + "</td></tr>\n";
    }
    h += "</table>\n";

    h += "<h2 id=\"expectations\">Expectations</h2>\n";
    if (total == 0) {
        h += "<p>The scenario states no expectations.</p>\n";
    } else {
        h += "<table>\n<tr><th>expectation</th><th>result</th><th>detail</th></tr>\n";
        for (const auto& e : r.summary["expectations"]) {
            const bool eok = e.value("ok", false);
            h += "<tr><td>" + html_escape(e.value("name", std::string())) + "</td><td class=\"" + (eok ? "ok" : "bad") + "\">" +
                 (eok ? "ok" : "FAILED") + "</td><td>" + html_escape(e.value("detail", std::string())) + "</td></tr>\n";
        }
        h += "</table>\n";
    }

    h += "<h2 id=\"plots\">Plots</h2>\n";
    for (const auto& f : figures) {
        const std::string svg = read_text(plots_dir / (f.name + ".svg"));
        h += "<figure id=\"figure-" + f.name + "\">\n";
        if (svg.empty())
            h += "<div class=\"missing\">" + html_escape(f.name) + ": not rendered. " + html_escape(missing_note) + "</div>\n";
        else
            h += inline_svg(svg, f.name, f.name);
        h += "<figcaption>" + html_escape(f.caption) + " Files: <code>plots/" + f.name + ".png</code>, <code>plots/" + f.name +
             ".svg</code>, script <code>plots/" + f.name + ".gp</code>.</figcaption>\n</figure>\n";
    }

    const auto stories = link_stories(r);
    const auto traffic = traffic_by_link(r);
    h += "<h2 id=\"herd\">The herd</h2>\n";
    h += "<p>" + std::to_string(r.servers.size()) + " servers, " + std::to_string(r.links.size()) + " links (from " +
         html_escape(r.topology_source) + "). Link width grows with the messages it carried" +
         std::string(r.links.size() <= 40 ? "; the number on a link near a server is how many messages that server sent on it" : "") +
         "; hover a link or a server for its numbers." +
         (r.servers.size() > 200 ? " Servers are on a circle (a force layout is drawn up to 200 servers)." : "") + "</p>\n";
    h += "<p class=\"legend\"><span><i class=\"sw\" style=\"background:#6b7b8c\"></i>up throughout</span>"
         "<span><i class=\"sw\" style=\"background:#EE7733\"></i>was down, up at the end</span>"
         "<span><i class=\"sw\" style=\"background:#CC3311\"></i>down at the end (dashed)</span>"
         "<span><i class=\"sw\" style=\"background:#BBBBBB;height:.8em;width:.8em;border-radius:50%\"></i>server down at the end</span></p>\n";
    h += "<figure id=\"figure-herd\">\n" + herd_svg(r, stories, traffic) + "</figure>\n";

    const bool long_table = r.links.size() > 50;
    h += long_table ? "<details><summary>Every link (" + std::to_string(r.links.size()) + ")</summary>\n" : "";
    h += "<table>\n<tr><th>link</th><th>at the end</th><th>down (times, total)</th><th>sent A→B</th><th>sent B→A</th><th>dropped</th>"
         "<th>duplicated</th></tr>\n";
    for (std::size_t l = 0; l < r.links.size(); ++l) {
        const auto& a = r.servers[r.links[l].first];
        const auto& b = r.servers[r.links[l].second];
        const auto ab = traffic.count(a + "->" + b) ? traffic.at(a + "->" + b) : link_traffic{};
        const auto ba = traffic.count(b + "->" + a) ? traffic.at(b + "->" + a) : link_traffic{};
        const auto& st = stories[l];
        h += "<tr><td>" + html_escape(a + " – " + b) + "</td><td class=\"" + (st.up_at_end ? "ok" : "bad") + "\">" +
             (st.up_at_end ? "up" : "down") + "</td><td class=\"n\">" +
             (st.downs ? std::to_string(st.downs) + "×, " + format_ms(st.down_total) + " ms" : std::string("—")) + "</td><td class=\"n\">" +
             std::to_string(ab.sent) + "</td><td class=\"n\">" + std::to_string(ba.sent) + "</td><td class=\"n\">" +
             std::to_string(ab.dropped + ba.dropped) + "</td><td class=\"n\">" + std::to_string(ab.duplicated + ba.duplicated) + "</td></tr>\n";
    }
    h += "</table>\n";
    h += long_table ? "</details>\n" : "";
    h += "<p>Written by <code>herd plot</code> from this run directory's summary.json, timeline.jsonl and updates.csv; "
         "the figures' data files and gnuplot scripts are in <code>plots/</code>.</p>\n</body>\n</html>\n";
    return h;
}

}  // namespace herd::plots
