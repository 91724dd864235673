#include "net/herd.hpp"

#include <boost/asio/signal_set.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <ostream>
#include <sstream>
#include <thread>

#include "net/server.hpp"

namespace herd::net {

core::herd_config load_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw core::config_error(path + ": cannot open the file");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (ss.str().size() > 64 * 1024 * 1024) throw core::config_error(path + ": $: larger than 64 MiB");
    return core::read_config(core::parse_json(ss.str(), path), path);
}

std::vector<std::size_t> assign_threads(const core::topology& herd, const std::vector<std::string>& names,
                                        std::size_t threads) {
    threads = std::max<std::size_t>(threads, 1);
    std::vector<std::size_t> work(names.size()), order(names.size()), out(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        work[i] = herd.neighbours(names[i]).size() + 2;
        order[i] = i;
    }
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return work[a] > work[b]; });
    std::vector<std::size_t> load(threads, 0);
    for (const std::size_t i : order) {
        const auto t = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
        out[i] = t;
        load[t] += work[i];
    }
    return out;
}

struct running_servers::impl {
    std::vector<std::unique_ptr<boost::asio::io_context>> ios;
    std::vector<std::unique_ptr<server>> servers;
    std::vector<std::thread> threads;
    std::filesystem::path log_dir;
};

running_servers::running_servers(const core::herd_config& cfg, const std::vector<std::string>& names,
                                 const std::filesystem::path& log_dir, std::size_t threads_max)
    : impl_(std::make_unique<impl>()) {
    impl_->log_dir = log_dir;
    const std::uint64_t open_files = raise_open_file_limit();
    std::vector<std::string> which = names;
    if (which.empty())
        for (const auto& s : cfg.herd.servers) which.push_back(s.name);
    // One io_context and thread per core (at most one per server); servers are spread by
    // assign_threads. A server's handlers all run on its io_context's one thread, so they are
    // serialised.
    std::size_t threads = threads_max > 0 ? threads_max : std::thread::hardware_concurrency();
    threads = std::clamp<std::size_t>(threads, 1, which.size());
    for (std::size_t i = 0; i < threads; ++i) impl_->ios.push_back(std::make_unique<boost::asio::io_context>(1));
    const auto thread_of = assign_threads(cfg.herd, which, threads);
    std::vector<std::shared_ptr<link_service>> services(threads);
    for (auto& g : services) g = std::make_shared<link_service>();
    for (std::size_t i = 0; i < which.size(); ++i) {
        impl_->servers.push_back(std::make_unique<server>(*impl_->ios[thread_of[i]], cfg, which[i], log_dir));
        impl_->servers.back()->share_link_service(services[thread_of[i]]);
        services[thread_of[i]]->servers.push_back(impl_->servers.back().get());
    }
    // Bind everything first, so that a port in use is an error before anything runs.
    for (auto& s : impl_->servers) s->start();
    notices(cfg, open_files);
    for (auto& io : impl_->ios) impl_->threads.emplace_back([&io = *io] { io.run(); });
}

// What an operator should know once the servers listen (after a config error, nothing but that
// error is printed): on stderr, once a process.
void running_servers::notices(const core::herd_config& cfg, std::uint64_t open_files) const {
    static std::atomic<bool> trust_told{false}, files_told{false};
    bool trusting = false;
    std::uint64_t wanted = 64;  // the process's own: logs, the places data, stdio
    for (const auto& s : impl_->servers) {
        trusting = trusting || s->trusts_peer_names();
        wanted += cfg.net.connections_max + 2 * cfg.herd.neighbours(s->name()).size() + 2;
    }
    if (trusting && !trust_told.exchange(true))
        std::fprintf(stderr, "herd: no shared secret (net.secret_env): peers are trusted by the name they give\n");
    if (open_files < wanted && !files_told.exchange(true))
        std::fprintf(stderr,
                     "herd: open files are limited to %llu (ulimit -n), under the %llu that net.connections_max "
                     "(%llu a server) asks for: clients past it wait to be accepted\n",
                     static_cast<unsigned long long>(open_files), static_cast<unsigned long long>(wanted),
                     static_cast<unsigned long long>(cfg.net.connections_max));
}

running_servers::~running_servers() {
    for (auto& s : impl_->servers) boost::asio::post(s->io(), [s = s.get()] { s->stop(); });
    for (auto& t : impl_->threads) t.join();
}

void running_servers::describe(std::ostream& out) const {
    for (const auto& s : impl_->servers)
        out << s->name() << " listening on port " << s->port()
            << (impl_->log_dir.empty() ? std::string() : ", log " + s->log().path().string()) << "\n";
    out.flush();
}

server* running_servers::find(const std::string& name) const {
    for (const auto& s : impl_->servers)
        if (s->name() == name) return s.get();
    return nullptr;
}

int run_herd(const core::herd_config& cfg, const std::vector<std::string>& names,
             const std::filesystem::path& log_dir, std::ostream& out, std::size_t threads_max) {
    boost::asio::io_context main_io;
    boost::asio::signal_set signals(main_io, SIGINT, SIGTERM);  // before the threads start
    running_servers servers(cfg, names, log_dir, threads_max);
    servers.describe(out);
    signals.async_wait([](const boost::system::error_code&, int) {});
    main_io.run();  // returns once a signal arrived
    return 0;       // ~running_servers stops the servers and flushes the logs
}

}  // namespace herd::net
