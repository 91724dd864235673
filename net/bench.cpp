#include "net/bench.hpp"

#include <utility>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <optional>
#include <random>

#include "core/protocol.hpp"
#include "net/clock.hpp"
#include "net/herd.hpp"
#include "net/server.hpp"

namespace herd::net {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

double ms_between(steady::time_point a, steady::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
    return v[std::clamp<std::size_t>(k, 1, v.size()) - 1];
}


tcp::endpoint endpoint_of(const core::server_info& s) {
    return {asio::ip::make_address(s.host), s.port};
}

// The server most hops away from `origin` (breadth first over the links).
std::string farthest_from(const core::topology& herd, const std::string& origin) {
    std::map<std::string, int> hops{{origin, 0}};
    std::deque<std::string> queue{origin};
    std::string last = origin;
    while (!queue.empty()) {
        const std::string v = queue.front();
        queue.pop_front();
        last = v;
        for (const auto& n : herd.neighbours(v))
            if (hops.emplace(n, hops[v] + 1).second) queue.push_back(n);
    }
    return last;
}

// What one load connection measured: its own, so that connections may run on several threads.
struct load_stats {
    std::vector<double> latencies_ms;
    std::uint64_t errors = 0;
};

struct shared_state {
    steady::time_point deadline;
    std::vector<load_stats> loads;  // one per connection
    std::vector<double> probe_ms;
    std::vector<double> spread_ms;  // from the origin taking the update (watched only)
};

// Appends `t` as a client time (seconds, '.', 9 digits).
void append_client_time(std::string& out, core::nanos t) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, t / 1'000'000'000);
    *r.ptr++ = '.';
    long long ns = t % 1'000'000'000;
    for (int i = 8; i >= 0; --i, ns /= 10) r.ptr[i] = static_cast<char>('0' + ns % 10);
    out.append(buf, r.ptr + 9);
}

std::string client_time(core::nanos t) {
    std::string s;
    append_client_time(s, t);
    return s;
}

// One client connection in a closed loop: `pipeline` requests written at once, then their
// replies read in order. Cheap on purpose: it shares the machine with the herd it measures.
asio::awaitable<void> load(tcp::endpoint ep, int id, const bench_options& o, steady::time_point deadline,
                           load_stats& st) {
    tcp::socket socket(co_await asio::this_coro::executor);
    error_code ec;
    co_await socket.async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        ++st.errors;
        co_return;
    }
    socket.set_option(tcp::no_delay(true));
    std::minstd_rand rnd(static_cast<std::uint32_t>(id + 1));
    std::uniform_real_distribution<double> coin(0, 1);
    const std::string client = "bench" + std::to_string(id);
    const std::string iamat = "IAMAT " + client + " +34.068930-118.445127 ";
    const std::string whatsat = "WHATSAT " + client + " 10 5\n";
    std::string out;
    std::string in(64 * 1024, '\0');
    std::size_t have = 0;  // bytes of in that hold unread replies
    std::vector<char> is_whatsat(static_cast<std::size_t>(o.pipeline));
    bool known = false;
    std::uint64_t k = 0;
    while (steady::now() < deadline) {
        out.clear();
        for (auto& w : is_whatsat) {
            w = known && coin(rnd) < o.whatsat_fraction;
            if (w) {
                out += whatsat;
            } else {
                out += iamat;
                append_client_time(out, 1'700'000'000'000'000'000 + static_cast<core::nanos>(++k));
                out += '\n';
            }
            known = true;
        }
        const auto t0 = steady::now();
        co_await asio::async_write(socket, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        // The replies, in order: an AT line, or for a WHATSAT, up to its blank line.
        std::size_t at = 0;
        for (const char w : is_whatsat) {
            for (;;) {
                const std::string_view rest(in.data() + at, have - at);
                const auto end = w ? rest.find("\n\n") : rest.find('\n');
                if (end != std::string_view::npos) {
                    if (!rest.starts_with("AT ")) ++st.errors;
                    at += end + (w ? 2 : 1);
                    st.latencies_ms.push_back(ms_between(t0, steady::now()));
                    break;
                }
                // Keep the unfinished reply at the front, and read more.
                std::memmove(in.data(), in.data() + at, have - at);
                have -= at;
                at = 0;
                if (have == in.size()) in.resize(in.size() * 2);
                const std::size_t n = co_await socket.async_read_some(asio::buffer(in.data() + have, in.size() - have),
                                                                      asio::redirect_error(asio::use_awaitable, ec));
                if (ec) break;
                have += n;
            }
            if (ec) break;
        }
        if (ec) break;
        std::memmove(in.data(), in.data() + at, have - at);
        have -= at;
    }
    if (ec && steady::now() < deadline) ++st.errors;
}

// One connection that asks a line at a time, connecting (again) when it has none: the probe's
// own connections are made once, so that the delay it measures is the herd's, not the cost of
// connecting.
struct asker {
    tcp::endpoint ep;
    std::optional<tcp::socket> socket;
    std::string in;

    // The reply's first line ("" on an error); a WHATSAT's answer is read to its blank line.
    asio::awaitable<std::string> ask(std::string line) {
        error_code ec;
        if (!socket) {
            socket.emplace(co_await asio::this_coro::executor);
            co_await socket->async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                socket.reset();
                co_return std::string();
            }
            socket->set_option(tcp::no_delay(true), ec);
            in.clear();
        }
        co_await asio::async_write(*socket, asio::buffer(line), asio::redirect_error(asio::use_awaitable, ec));
        std::size_t n = 0;
        if (!ec)
            n = co_await asio::async_read_until(*socket, asio::dynamic_buffer(in), '\n',
                                                asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            socket.reset();
            co_return std::string();
        }
        std::string first = in.substr(0, n);
        in.erase(0, n);
        if (line.starts_with("WHATSAT ") && first.starts_with("AT ")) {
            n = co_await asio::async_read_until(*socket, asio::dynamic_buffer(in), "\n\n",
                                                asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                socket.reset();
                co_return std::string();
            }
            in.erase(0, n);
        }
        co_return first;
    }
};

// Updates at `origin`, each watched for at `farthest` by asking WHATSAT there, one after the
// other, until it shows: the delay is from the IAMAT's write to the reply that shows it.
asio::awaitable<void> probe(tcp::endpoint origin_ep, std::string origin, tcp::endpoint far_ep,
                            shared_state& st) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    asker at_origin{origin_ep, {}, {}}, at_far{far_ep, {}, {}};
    for (int i = 0; steady::now() < st.deadline; ++i) {
        const std::string client = "probe" + std::to_string(i);
        const auto t0 = steady::now();
        co_await at_origin.ask("IAMAT " + client + " +1+1 " + client_time(system_now()) + "\n");
        // An update that has not arrived within a second was sent before the links were up
        // (or lost with a link): count it missing and take the next.
        for (;;) {
            const std::string r = co_await at_far.ask("WHATSAT " + client + " 1 1\n");
            if (r.starts_with("AT " + origin + " ")) {
                st.probe_ms.push_back(ms_between(t0, steady::now()));
                break;
            }
            if (steady::now() - t0 > std::chrono::seconds(1)) break;
        }
        timer.expires_after(std::chrono::milliseconds(20));
        co_await timer.async_wait(asio::use_awaitable);
    }
}

// The probe update being watched for, in a herd running in this process. The servers' line
// observers (on their threads) take the time the origin took a probe IAMAT and the farthest
// server applied its FLOOD, and post them to the bench's thread, where the probe waits.
struct probe_watch {
    std::mutex m;
    asio::io_context* io = nullptr;  // the bench's, while the probe runs (guarded by m)
    // On the bench's thread only:
    std::string client;  // the update watched for
    std::optional<steady::time_point> taken, applied;  // at the origin, at the farthest server
    asio::steady_timer* wake = nullptr;  // the probe, while it waits

    void seen(const std::string& who, bool at_origin, steady::time_point t) {
        if (who != client) return;
        auto& when = at_origin ? taken : applied;
        if (when) return;
        when = t;
        if (taken && applied && wake != nullptr) wake->cancel();
    }

    // A line observer for a server that posts the time of each probe line `kind` (its client in
    // field `field`) to the bench.
    static std::function<void(std::string_view)> observer(std::shared_ptr<probe_watch> w, std::string_view kind,
                                                          int field) {
        return [w, kind, field](std::string_view line) {
            if (!line.starts_with(kind)) return;
            const std::string_view client = field_of(line, field);
            if (!client.starts_with("probe")) return;
            const auto t = steady::now();
            std::lock_guard lock(w->m);
            if (w->io != nullptr)
                asio::post(*w->io, [w, who = std::string(client), origin = kind == "IAMAT ", t] { w->seen(who, origin, t); });
        };
    }

    // Field `i` of a line as the node and the bench write them (one space between fields).
    static std::string_view field_of(std::string_view line, int i) {
        std::size_t at = 0;
        for (; i > 0; --i) {
            at = line.find(' ', at);
            if (at == std::string_view::npos) return {};
            ++at;
        }
        return line.substr(at, line.find(' ', at) - at);
    }
};

// Updates at the origin, each watched for at the origin and the farthest server of a herd in
// this process: the delays are from the IAMAT's write, and from the origin taking it, to the
// farthest server applying it (its FLOOD in). The next update goes once the IAMAT's reply came
// and the update arrived, as with polling.
asio::awaitable<void> probe_applied(tcp::endpoint origin_ep, std::shared_ptr<probe_watch> w, shared_state& st) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    asker at_origin{origin_ep, {}, {}};
    for (int i = 0; steady::now() < st.deadline; ++i) {
        w->client = "probe" + std::to_string(i);
        w->taken.reset();
        w->applied.reset();
        const auto t0 = steady::now();
        co_await at_origin.ask("IAMAT " + w->client + " +1+1 " + client_time(system_now()) + "\n");
        // An update that has not arrived within a second was sent before the links were up
        // (or lost with a link): count it missing and take the next.
        if (!w->taken || !w->applied) {
            error_code ec;
            timer.expires_at(t0 + std::chrono::seconds(1));
            w->wake = &timer;
            co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            w->wake = nullptr;
        }
        if (w->taken && w->applied) {
            st.probe_ms.push_back(ms_between(t0, *w->applied));
            st.spread_ms.push_back(ms_between(*w->taken, *w->applied));
        }
        timer.expires_after(std::chrono::milliseconds(20));
        co_await timer.async_wait(asio::use_awaitable);
    }
}

}  // namespace

bench_result run_bench(const core::herd_config& cfg, const bench_options& o, running_servers* in_process) {
    raise_open_file_limit();  // a connection a descriptor: --connections may pass 1,024
    asio::io_context io(1);
    shared_state st;
    const auto start = steady::now();
    st.deadline = start + std::chrono::microseconds(static_cast<std::int64_t>(o.seconds * 1e6));
    const auto& servers = cfg.herd.servers;
    st.loads.resize(static_cast<std::size_t>(o.connections));
    // The load: on the bench's own thread, or on the herd's threads, each connection on the
    // thread of the server it loads (a busy third thread on two cores has the scheduler take
    // turns, and every switch holds a thread's clients for a time slice).
    std::atomic<int> loads_running = o.connections;
    std::promise<void> loads_done;
    for (int i = 0; i < o.connections; ++i) {
        const auto& target = servers[static_cast<std::size_t>(i) % servers.size()];
        auto& stats = st.loads[static_cast<std::size_t>(i)];
        server* host = o.load_on_herd_threads && in_process != nullptr ? in_process->find(target.name) : nullptr;
        if (host == nullptr) {
            asio::co_spawn(io, load(endpoint_of(target), i, o, st.deadline, stats), asio::detached);
            if (--loads_running == 0) loads_done.set_value();
            continue;
        }
        asio::co_spawn(host->io(), load(endpoint_of(target), i, o, st.deadline, stats),
                       [&loads_running, &loads_done](std::exception_ptr) {
                           if (--loads_running == 0) loads_done.set_value();
                       });
    }
    bench_result r;
    r.origin = servers.front().name;
    r.farthest = farthest_from(cfg.herd, r.origin);
    server* origin = in_process != nullptr && !o.poll_farthest ? in_process->find(r.origin) : nullptr;
    server* far = in_process != nullptr && !o.poll_farthest ? in_process->find(r.farthest) : nullptr;
    std::shared_ptr<probe_watch> watch;
    // (A herd of one server has no farthest other server: it is asked, as before.)
    if (origin != nullptr && far != nullptr && origin != far) {
        // Watch the servers take and apply the probe's updates, rather than ask the farthest:
        // asking adds a client round trip there to every figure.
        r.farthest_method = "applied";
        watch = std::make_shared<probe_watch>();
        watch->io = &io;
        asio::post(origin->io(), [origin, watch] { origin->set_line_observer(probe_watch::observer(watch, "IAMAT ", 1)); });
        asio::post(far->io(), [far, watch] { far->set_line_observer(probe_watch::observer(watch, "FLOOD ", 3)); });
        asio::co_spawn(io, probe_applied(endpoint_of(servers.front()), watch, st), asio::detached);
    } else {
        r.farthest_method = "WHATSAT";
        asio::co_spawn(io, probe(endpoint_of(servers.front()), r.origin, endpoint_of(*cfg.herd.find(r.farthest)), st),
                       asio::detached);
    }
    io.run();
    loads_done.get_future().wait();
    if (watch) {
        // The observer stays set on the server (it may be running now): it posts nothing more.
        std::lock_guard lock(watch->m);
        watch->io = nullptr;
    }
    r.seconds = std::min(ms_between(start, steady::now()), o.seconds * 1000) / 1000;
    std::vector<double> latencies_ms;
    for (const auto& l : st.loads) {
        latencies_ms.insert(latencies_ms.end(), l.latencies_ms.begin(), l.latencies_ms.end());
        r.errors += l.errors;
    }
    r.requests = latencies_ms.size();
    r.latency_p50_ms = percentile(latencies_ms, 0.5);
    r.latency_p99_ms = percentile(latencies_ms, 0.99);
    r.latency_max_ms = latencies_ms.empty() ? 0 : latencies_ms.back();
    r.probes = st.probe_ms.size();
    r.farthest_p50_ms = percentile(st.probe_ms, 0.5);
    r.farthest_max_ms = st.probe_ms.empty() ? 0 : st.probe_ms.back();
    r.spread_p50_ms = percentile(st.spread_ms, 0.5);
    r.spread_max_ms = st.spread_ms.empty() ? 0 : st.spread_ms.back();
    return r;
}

void print_bench(const bench_result& r, const bench_options& o, std::ostream& out) {
    char buf[1024];
    int n = std::snprintf(buf, sizeof buf,
                          "%d connections, pipeline %d, %.0f%% WHATSAT, %.1f s\n"
                          "  requests     %llu (%.0f/s), errors %llu\n"
                          "  latency ms   p50 %.3f  p99 %.3f  max %.3f\n",
                          o.connections, o.pipeline, o.whatsat_fraction * 100, r.seconds,
                          static_cast<unsigned long long>(r.requests), static_cast<double>(r.requests) / r.seconds,
                          static_cast<unsigned long long>(r.errors), r.latency_p50_ms, r.latency_p99_ms,
                          r.latency_max_ms);
    if (r.farthest_method == "applied")
        std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n),
                      "  update %s -> %s (farthest), watched at the servers, over %llu probes:\n"
                      "    from the IAMAT's write  p50 %.3f ms  max %.3f ms\n"
                      "    from %s taking it  p50 %.3f ms  max %.3f ms\n",
                      r.origin.c_str(), r.farthest.c_str(), static_cast<unsigned long long>(r.probes),
                      r.farthest_p50_ms, r.farthest_max_ms, r.origin.c_str(), r.spread_p50_ms, r.spread_max_ms);
    else
        std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n),
                      "  update %s -> %s (farthest), asked by WHATSAT there, over %llu probes: p50 %.3f ms  max %.3f ms\n",
                      r.origin.c_str(), r.farthest.c_str(), static_cast<unsigned long long>(r.probes),
                      r.farthest_p50_ms, r.farthest_max_ms);
    out << buf;
}

}  // namespace herd::net
