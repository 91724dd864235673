#include "plots/analysis.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <map>
#include <numeric>

namespace herd::plots {
namespace {

std::string join(const std::vector<std::string>& names, std::size_t shown_max) {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < shown_max; ++i) out += (i ? " " : "") + names[i];
    if (names.size() > shown_max) out += " …";
    return out;
}

std::string partition_label(const fault_event& f) {
    std::size_t total = 0;
    for (const auto& g : f.groups) total += g.size();
    std::string label = f.fault == "partition_one_way" ? "one-way partition: " : "partition: ";
    for (std::size_t g = 0; g < f.groups.size(); ++g) {
        label += g ? " | " : "";
        // Names while they fit; sizes for big herds.
        label += total <= 8 ? join(f.groups[g], 8) : std::to_string(f.groups[g].size()) + " servers";
    }
    return label;
}

// The row offsets of each update in r.applied (rows of update u: [first[u], first[u + 1])).
std::vector<std::size_t> rows_by_update(const run_data& r, std::vector<std::size_t>& order) {
    std::vector<std::size_t> first(r.updates.size() + 1, 0);
    for (const auto& a : r.applied) ++first[a.update + 1];
    std::partial_sum(first.begin(), first.end(), first.begin());
    order.assign(r.applied.size(), 0);
    auto next = first;
    for (std::size_t i = 0; i < r.applied.size(); ++i) order[next[r.applied[i].update]++] = i;
    return first;
}

}  // namespace

std::vector<fault_window> fault_windows(const run_data& r) {
    std::vector<fault_window> out;
    std::map<std::string, std::size_t> open;  // key -> index in out
    auto start = [&](const std::string& key, nanos t, std::string kind, std::string label) {
        if (open.count(key)) return;
        open[key] = out.size();
        out.push_back({t, r.end, std::move(kind), std::move(label)});
    };
    auto stop = [&](const std::string& key, nanos t) {
        const auto it = open.find(key);
        if (it == open.end()) return;
        out[it->second].to = t;
        open.erase(it);
    };
    std::size_t partitions = 0;
    for (const auto& f : r.faults) {
        const std::string a = f.names.empty() ? "?" : f.names[0];
        const std::string link = f.names.size() == 2 ? f.names[0] + "–" + f.names[1] : a;
        if (f.fault == "link_down") {
            start("link " + link, f.t, "link", "link " + link + " down");
        } else if (f.fault == "link_up") {
            stop("link " + link, f.t);
        } else if (f.fault == "partition" || f.fault == "partition_one_way") {
            start("partition " + std::to_string(partitions++), f.t, "partition", partition_label(f));
        } else if (f.fault == "heal") {
            for (std::size_t p = 0; p < partitions; ++p) stop("partition " + std::to_string(p), f.t);
        } else if (f.fault == "crash") {
            start("crash " + a, f.t, "crash", a + " down" + (f.lose_state ? ", state lost" : ""));
        } else if (f.fault == "restart") {
            stop("crash " + a, f.t);
        } else if (f.fault == "set_link") {
            out.push_back({f.t, f.t, "set_link", "link " + link + " changed"});
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const fault_window& x, const fault_window& y) { return x.from < y.from; });
    return out;
}

reach_table reach_times(const run_data& r, std::size_t cells_max) {
    reach_table table;
    const std::size_t n = std::max<std::size_t>(r.servers.size(), 1);
    const std::size_t u_count = r.updates.size();
    while (u_count / table.stride * n > cells_max) ++table.stride;

    std::vector<std::size_t> order;
    const auto first = rows_by_update(r, order);
    std::vector<std::vector<std::uint32_t>> by_client(r.clients.size());
    for (std::uint32_t u = 0; u < u_count; ++u)
        if (r.updates[u].client != none) by_client[r.updates[u].client].push_back(u);

    std::vector<std::vector<nanos>> reach(u_count);
    constexpr nanos never = std::numeric_limits<nanos>::max();
    std::vector<nanos> earliest(n, never);  // per server: first time it held an update this new
    std::vector<std::uint32_t> touched;
    for (auto& list : by_client) {
        // Newest first: a server's earliest time for update u is its earliest over all updates
        // of rank >= u's.
        std::sort(list.begin(), list.end(), [&](std::uint32_t a, std::uint32_t b) { return r.updates[a].rank > r.updates[b].rank; });
        for (const auto u : list) {
            for (std::size_t k = first[u]; k < first[u + 1]; ++k) {
                const auto& row = r.applied[order[k]];
                if (earliest[row.server] == never) touched.push_back(row.server);
                earliest[row.server] = std::min(earliest[row.server], row.applied);
            }
            if (u % table.stride) continue;
            auto& v = reach[u];
            v.reserve(touched.size());
            for (const auto s : touched) v.push_back(std::max<nanos>(0, earliest[s] - r.updates[u].issued));
            std::sort(v.begin(), v.end());
        }
        for (const auto s : touched) earliest[s] = never;
        touched.clear();
    }
    for (std::uint32_t u = 0; u < u_count; u += static_cast<std::uint32_t>(table.stride)) {
        if (r.updates[u].client == none) continue;
        table.updates.push_back(u);
        table.since_issue.push_back(std::move(reach[u]));
    }
    return table;
}

double reached_fraction(const std::vector<nanos>& since_issue, nanos t, std::size_t servers) {
    const auto k = std::upper_bound(since_issue.begin(), since_issue.end(), t) - since_issue.begin();
    return servers ? static_cast<double>(k) / static_cast<double>(servers) : 0.0;
}

std::vector<fan_point> fan(const reach_table& table, std::size_t servers, nanos until, std::size_t points) {
    std::vector<fan_point> out;
    const std::size_t m = table.since_issue.size();
    if (m == 0 || points < 2) return out;
    std::vector<std::size_t> pos(m, 0);   // per update: reach times <= t so far
    std::vector<std::size_t> counts(m);
    auto rank = [&](double p) { return std::min(m - 1, static_cast<std::size_t>(std::max(1.0, std::ceil(p * static_cast<double>(m)))) - 1); };
    for (std::size_t i = 0; i < points; ++i) {
        const nanos t = static_cast<nanos>(static_cast<long double>(until) * static_cast<long double>(i) / static_cast<long double>(points - 1));
        for (std::size_t u = 0; u < m; ++u) {
            const auto& v = table.since_issue[u];
            while (pos[u] < v.size() && v[pos[u]] <= t) ++pos[u];
            counts[u] = pos[u];
        }
        std::sort(counts.begin(), counts.end());
        const double n = static_cast<double>(std::max<std::size_t>(servers, 1));
        out.push_back({t, static_cast<double>(counts[rank(0.05)]) / n, static_cast<double>(counts[rank(0.50)]) / n,
                       static_cast<double>(counts[rank(0.95)]) / n});
    }
    return out;
}

std::vector<std::vector<nanos>> delays_by_server(const run_data& r) {
    std::vector<std::vector<nanos>> out(r.servers.size());
    for (const auto& a : r.applied) out[a.server].push_back(a.applied - r.updates[a.update].issued);
    for (auto& v : out) std::sort(v.begin(), v.end());
    return out;
}

staleness_grid staleness(const run_data& r, std::size_t columns_max, std::size_t cells_max) {
    staleness_grid g;
    const std::size_t n = r.servers.size();
    const std::size_t c_count = r.clients.size();
    if (r.stale.empty()) return g;
    g.end_total = r.stale.back().stale;
    if (c_count * n > cells_max) {
        g.skipped = true;
        return g;
    }
    // Columns: every sample but the last (the end, kept apart: it is off the sampling grid).
    std::vector<std::size_t> columns;
    const std::size_t regular = r.stale.size() - 1;
    while ((regular + g.stride - 1) / g.stride > columns_max) ++g.stride;
    for (std::size_t k = 0; k < regular; k += g.stride) columns.push_back(k);

    // Events in time order; at one time: issues, then applications, then crashes and restarts
    // (a server applies nothing while down, and an application before a crash that loses state
    // is lost with it).
    struct event {
        nanos t;
        std::uint8_t type;  // 0 issue, 1 apply, 2 fault
        std::uint32_t a, b;  // issue: update; apply: update, server; fault: index into r.faults
    };
    std::vector<event> events;
    events.reserve(r.updates.size() + r.applied.size() + r.faults.size());
    for (std::uint32_t u = 0; u < r.updates.size(); ++u)
        if (r.updates[u].client != none) events.push_back({r.updates[u].issued, 0, u, 0});
    for (const auto& a : r.applied) events.push_back({a.applied, 1, a.update, a.server});
    for (std::uint32_t f = 0; f < r.faults.size(); ++f)
        if (r.faults[f].fault == "crash" || r.faults[f].fault == "restart") events.push_back({r.faults[f].t, 2, f, 0});
    std::stable_sort(events.begin(), events.end(), [](const event& x, const event& y) { return std::tie(x.t, x.type) < std::tie(y.t, y.type); });

    std::vector<std::uint32_t> held(c_count * n, none);  // client-major
    std::vector<std::uint32_t> latest(c_count, none);
    std::vector<std::int64_t> stale(n, 0);
    std::vector<bool> live(n, true);
    std::int64_t clients_with_updates = 0;

    auto apply_event = [&](const event& e) {
        if (e.type == 0) {
            const auto& u = r.updates[e.a];
            const std::uint32_t old = latest[u.client];
            if (old != none && r.updates[old].rank >= u.rank) return;
            latest[u.client] = e.a;
            if (old == none) ++clients_with_updates;
            const std::uint32_t* h = &held[static_cast<std::size_t>(u.client) * n];
            for (std::size_t s = 0; s < n; ++s) {
                // A client's first update starts counting it everywhere.
                const bool was_stale = old != none && h[s] != old;
                const bool is_stale = h[s] != e.a;
                stale[s] += static_cast<int>(is_stale) - static_cast<int>(was_stale);
            }
        } else if (e.type == 1) {
            const auto c = r.updates[e.a].client;
            auto& h = held[static_cast<std::size_t>(c) * n + e.b];
            if (latest[c] != none) stale[e.b] += static_cast<int>(e.a != latest[c]) - static_cast<int>(h != latest[c]);
            h = e.a;
        } else {
            const auto& f = r.faults[e.a];
            const auto s = f.names.empty() ? none : r.server_index(f.names[0]);
            if (s == none) return;
            live[s] = f.fault == "restart";
            if (f.fault == "crash" && f.lose_state) {
                for (std::size_t c = 0; c < c_count; ++c) held[c * n + s] = none;
                stale[s] = clients_with_updates;
            }
        }
    };
    auto snapshot = [&](std::vector<std::int64_t>& out) {
        out.resize(n);
        for (std::size_t s = 0; s < n; ++s) out[s] = live[s] ? stale[s] : -1;
    };

    g.cells.assign(n * columns.size(), 0);
    std::size_t next = 0;
    std::vector<std::int64_t> column;
    for (std::size_t k = 0; k < columns.size(); ++k) {
        const auto& sample = r.stale[columns[k]];
        while (next < events.size() && events[next].t < sample.t) apply_event(events[next++]);
        snapshot(column);
        for (std::size_t s = 0; s < n; ++s) g.cells[s * columns.size() + k] = column[s];
        g.times.push_back(sample.t);
        g.totals.push_back(sample.stale);
    }
    while (next < events.size()) apply_event(events[next++]);
    snapshot(g.end);
    return g;
}

nanos round_bin(nanos span, std::size_t bins_max) {
    nanos bin = 1000;
    for (nanos decade = 1000;; decade *= 10) {
        for (const nanos m : {1, 2, 5}) {
            bin = m * decade;
            if (span / bin + 1 <= static_cast<nanos>(bins_max)) return bin;
        }
    }
}

message_rates message_rates_of(const run_data& r, std::size_t bins_max) {
    message_rates m;
    m.bin = round_bin(std::max<nanos>(r.end, 1), bins_max);
    const std::size_t bins = static_cast<std::size_t>(r.end / m.bin) + 1;
    auto series = [&](std::string name) { return count_series{std::move(name), std::vector<std::uint64_t>(bins, 0)}; };
    auto bin_of = [&](nanos t) { return std::min(bins - 1, static_cast<std::size_t>(std::max<nanos>(t, 0) / m.bin)); };
    for (const auto& k : r.message_kinds) m.sent.push_back(series(k));
    for (const auto& k : r.drop_reasons) m.dropped.push_back(series(k));
    m.duplicated = series("duplicated");
    m.requests = series("client requests");
    m.issued = series("updates issued");
    std::uint64_t sends = 0;
    for (const auto& e : r.messages) {
        const auto b = bin_of(e.t);
        switch (e.what) {
            case message_what::send: ++m.sent[e.kind].counts[b]; ++sends; break;
            case message_what::drop: ++m.dropped[e.reason].counts[b]; break;
            case message_what::duplicate: ++m.duplicated.counts[b]; break;
        }
    }
    for (const auto t : r.requests) ++m.requests.counts[bin_of(t)];
    for (const auto& u : r.updates)
        if (u.client != none) ++m.issued.counts[bin_of(u.issued)];
    std::uint64_t summary_sends = 0;
    if (const auto it = r.summary.find("messages"); it != r.summary.end())
        for (const auto& [kind, c] : it->items()) summary_sends += c.value("sent", std::uint64_t{0});
    m.complete = sends == summary_sends;
    return m;
}

}  // namespace herd::plots
