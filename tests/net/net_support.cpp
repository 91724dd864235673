#include "tests/net/net_support.hpp"

#include <utility>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>

#include "net/server.hpp"

namespace herd::testing {

// A port that was free is not free for long: once its socket is closed the kernel may give it
// to anyone, and under `ctest -j` another test process's connection once took one as its local
// port before the server it was meant for listened ("Address already in use"). So the socket
// that found the port stays bound, with SO_REUSEADDR and never listening, for the life of the
// process: the kernel then gives the port to no bind(0) and no outgoing connection (each
// treats it as taken), while a server, which binds with SO_REUSEADDR too, can still listen on
// it. A second listener still fails, as a port in use should.
std::uint16_t free_port() {
    static std::mutex m;
    static std::vector<int> held;  // closed when the process ends
    const std::lock_guard lock(m);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("no free loopback port");
    }
    held.push_back(fd);
    return ntohs(a.sin_port);
}

core::herd_config seed_config_on_free_ports() {
    core::herd_config cfg = core::seed_config();
    for (auto& s : cfg.herd.servers) s.port = free_port();
    cfg.net.redial_min_ms = 20;
    cfg.net.redial_max_ms = 200;
    return cfg;
}

void line_client::set_timeouts(std::chrono::milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = timeout.count() / 1000;
    tv.tv_usec = (timeout.count() % 1000) * 1000;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

line_client::line_client(int fd, std::chrono::milliseconds timeout) : fd_(fd) { set_timeouts(timeout); }

line_client::line_client(std::uint16_t port, std::chrono::milliseconds timeout) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    set_timeouts(timeout);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

line_client::~line_client() {
    if (fd_ >= 0) ::close(fd_);
}

void line_client::send(std::string_view bytes) {
    while (fd_ >= 0 && !bytes.empty()) {
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) return;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

void line_client::shutdown_send() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

std::string line_client::read_until(std::string_view end) {
    for (;;) {
        if (const auto at = buffered_.find(end); at != std::string::npos) {
            std::string out = buffered_.substr(0, at + end.size());
            buffered_.erase(0, at + end.size());
            return out;
        }
        char buf[65536];
        const ssize_t n = fd_ < 0 ? -1 : ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return std::exchange(buffered_, {});
        buffered_.append(buf, static_cast<std::size_t>(n));
    }
}

std::string line_client::read_line() { return read_until("\n"); }
std::string line_client::read_until_blank_line() { return read_until("\n\n"); }

std::string line_client::read_all() {
    for (;;) {
        char buf[65536];
        const ssize_t n = fd_ < 0 ? -1 : ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return std::exchange(buffered_, {});
        buffered_.append(buf, static_cast<std::size_t>(n));
    }
}

bool line_client::closed_by_server() {
    if (fd_ < 0) return true;
    char buf[256];
    for (;;) {
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n == 0) return true;
        if (n < 0) return false;  // timeout or error
    }
}

line_listener::line_listener(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

line_listener::~line_listener() {
    if (fd_ >= 0) ::close(fd_);
}

std::unique_ptr<line_client> line_listener::accept(std::chrono::milliseconds timeout) {
    if (fd_ < 0) return nullptr;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return nullptr;
    const int fd = ::accept(fd_, nullptr, nullptr);
    if (fd < 0) return nullptr;
    return std::make_unique<line_client>(fd, std::chrono::milliseconds(3000));
}

std::string ask(std::uint16_t port, const std::string& line) {
    line_client c(port);
    c.send(line + "\n");
    std::string first = c.read_line();
    if (line.starts_with("WHATSAT") && first.starts_with("AT ")) first += c.read_until_blank_line();
    return first;
}

std::string ask_until(std::uint16_t port, const std::string& line, std::string_view prefix,
                      std::chrono::milliseconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    std::string reply;
    while (std::chrono::steady_clock::now() < until) {
        reply = ask(port, line);
        if (reply.starts_with(prefix)) return reply;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return reply;
}

bool spread_everywhere(std::uint16_t origin_port, const std::string& client,
                       const std::vector<std::uint16_t>& ports, std::string_view prefix,
                       std::chrono::milliseconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    for (int i = 0; std::chrono::steady_clock::now() < until; ++i) {
        ask(origin_port, "IAMAT " + client + " +34.068930-118.445127 " + std::to_string(1600000000 + i));
        bool everywhere = true;
        for (const auto port : ports)
            everywhere = everywhere && ask_until(port, "WHATSAT " + client + " 1 1", prefix,
                                                 std::chrono::milliseconds(100)).starts_with(prefix);
        if (everywhere) return true;
    }
    return false;
}

struct running_herd::impl {
    boost::asio::io_context io;
    std::vector<std::unique_ptr<net::server>> servers;
    std::thread thread;
};

running_herd::running_herd(const core::herd_config& cfg, const std::vector<std::string>& names,
                           const std::filesystem::path& log_dir, net::clock_fn clock)
    : impl_(std::make_unique<impl>()) {
    for (const auto& n : names) {
        impl_->servers.push_back(std::make_unique<net::server>(impl_->io, cfg, n, log_dir, clock));
        impl_->servers.back()->start();
    }
    impl_->thread = std::thread([this] { impl_->io.run(); });
}

running_herd::~running_herd() {
    boost::asio::post(impl_->io, [this] {
        for (auto& s : impl_->servers) s->stop();
    });
    impl_->thread.join();
}

std::uint16_t running_herd::port(std::string_view name) const {
    for (const auto& s : impl_->servers)
        if (s->name() == name) return s->port();
    return 0;
}

void running_herd::on_io(const std::function<void()>& fn) {
    std::promise<void> done;
    boost::asio::post(impl_->io, [&] {
        fn();
        done.set_value();
    });
    done.get_future().wait();
}

net::server& running_herd::server(std::string_view name) {
    for (const auto& s : impl_->servers)
        if (s->name() == name) return *s;
    throw std::invalid_argument("no server " + std::string(name) + " in this running_herd");
}

child_process::child_process(const std::vector<std::string>& args, const std::filesystem::path& stderr_file) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(HERD_BINARY));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
        if (!stderr_file.empty()) {
            const int fd = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) ::dup2(fd, 2);
        }
        ::execv(HERD_BINARY, argv.data());
        ::_exit(127);
    }
}

child_process::~child_process() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

void child_process::kill(int signal) {
    if (pid_ > 0) ::kill(pid_, signal);
}

int child_process::wait() {
    int status = 0;
    if (pid_ <= 0 || ::waitpid(pid_, &status, 0) < 0) return -1;
    pid_ = -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

bool listening(std::uint16_t port, std::chrono::milliseconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
        if (line_client(port, std::chrono::milliseconds(200)).connected()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

serve_processes::serve_processes(std::filesystem::path config, std::filesystem::path log_dir)
    : config_(std::move(config)), log_dir_(std::move(log_dir)) {}

bool serve_processes::start(const std::string& name, std::uint16_t port) {
    procs_[name] = std::make_unique<child_process>(
        std::vector<std::string>{"serve", name, "--config", config_.string(), "--log-dir", log_dir_.string()});
    return listening(port, std::chrono::milliseconds(2000));
}

std::filesystem::path temp_folder(const std::string& prefix) {
    std::random_device rd;  // names only; nothing deterministic depends on it
    for (;;) {
        auto p = std::filesystem::temp_directory_path() / (prefix + "-" + std::to_string(rd()));
        if (std::filesystem::create_directories(p)) return p;
    }
}

std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool file_contains(const std::filesystem::path& file, std::string_view text, std::chrono::milliseconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
        if (read_file(file).find(text) != std::string::npos) return true;
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

}  // namespace herd::testing
