#pragma once
// net::server: one server of the herd on real sockets, a thin host around core::node.
//
// Clients connect to the server's port and send protocol lines; replies go back whole, in
// order. Neighbours hold one persistent connection per link: the server whose name sorts first
// dials (to the neighbour's peer_port, or its port), opens with `HERD-PEER <name>`, and the other
// answers with its own; with a shared secret (net.secret_env) both prove it with HMAC-SHA256
// over fresh nonces first (net/peer_auth.hpp). A neighbour that is down is redialled with
// capped exponential backoff and jitter. If a neighbour identifies again while a link exists,
// the newer connection wins (the dialer only dials when its connection is gone, so the old one
// is dead). The node's timers (repair) are Asio timers. All I/O runs on one io_context; the node
// sees inputs one at a time with the time from `clock`.

#include <utility>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "core/config.hpp"
#include "core/node.hpp"
#include "net/clock.hpp"
#include "net/log.hpp"
#include "net/places_provider.hpp"

namespace herd::net {

class connection;

// Bytes of herd traffic on a server's links (identified links only; the handshake is not
// counted), by the first word of the line, newlines included.
struct peer_traffic {
    std::uint64_t flood = 0;
    std::uint64_t digest = 0;
    std::uint64_t repair = 0;
    std::uint64_t other = 0;  // refusals (`? …`)
};

class server;

// The servers that run on one thread, which hand over to their links together: a client read at
// any of them now and then reads every link of every one of them and writes what is queued
// (server::after_client_read). A flood that crosses two servers of one thread then waits for
// the thread's next hand-over, not for a client read at the second server, which may come only
// once per loop round (a millisecond on a loaded thread). Used on that thread only.
struct link_service {
    std::chrono::steady_clock::time_point next;  // the next hand-over, not before
    std::chrono::steady_clock::time_point last_read;  // the last client read (links_handed_over)
    std::vector<server*> servers;
};

// Raises this process's soft limit on open files to its hard limit (at most 1,048,576), as Go's
// runtime does, and returns the soft limit then: a server holds a descriptor a connection, and
// a login shell's soft limit (1,024) is far below net.connections_max. The hosts call it
// (running_servers, herd bench); a server alone leaves the process's limits as they are.
std::uint64_t raise_open_file_limit();

class server {
public:
    // The server `name` of `cfg`, logging to `log_dir`/<name>.log (no log when log_dir is empty).
    // Throws core::config_error when `name` is not a server of the config, the places provider
    // cannot be made (a missing data file, say), or net.secret_env names an environment
    // variable that is unset or empty. The node runs with cfg.protocol (repair).
    server(boost::asio::io_context& io, const core::herd_config& cfg, const std::string& name,
           const std::filesystem::path& log_dir, clock_fn clock = system_now);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Binds the listeners, then starts accepting and dialing. Throws core::config_error naming
    // the config file, the server's JSON path and the problem (e.g. the port is in use).
    void start();
    // Closes the listeners and every connection, cancels the timers and flushes the log. The
    // io_context then runs out of work for this server.
    void stop();

    // Closes every peer link now, as a network failure would; the dialer redials (for tests
    // and operators: with repair, the relinked servers compare digests).
    void drop_peer_links();

    const std::string& name() const { return name_; }
    // Whether neighbours are trusted by the name they give (no shared secret configured).
    bool trusts_peer_names() const { return secret_.empty(); }
    boost::asio::io_context& io() { return io_; }
    std::uint16_t port() const;
    const core::node& node() const { return node_; }
    server_log& log() { return log_; }
    // Herd traffic queued to neighbours, and read from them, since the server was made.
    const peer_traffic& peer_bytes_sent() const { return sent_; }
    const peer_traffic& peer_bytes_received() const { return received_; }
    // Called with every line a client or a neighbour sends, after the node handled it, on this
    // server's thread; set it there too. For `herd bench --start`, which watches when an update
    // is taken at one server and reaches another without asking them over client connections;
    // unset, it costs one test a line.
    void set_line_observer(std::function<void(std::string_view)> f) { line_observer_ = std::move(f); }
    // Shares the hand-over to links with the other servers of `group`, which must all run on
    // this server's thread (each server has a group of its own until then). Before start().
    void share_link_service(std::shared_ptr<link_service> group) { link_service_ = std::move(group); }

private:
    friend class connection;

    struct peer_state {
        std::shared_ptr<connection> conn;  // the identified link, if any
        std::unique_ptr<boost::asio::steady_timer> redial;
        std::shared_ptr<boost::asio::ip::tcp::socket> connecting;  // a dial in progress
        double backoff_ms = 0;
        bool dials = false;  // this server dials this neighbour
        std::chrono::steady_clock::time_point up_since;  // of the link in conn
    };

    struct node_timer {
        std::unique_ptr<boost::asio::steady_timer> timer;
        std::uint64_t generation = 0;  // of the latest set_timer
    };

    void accept(boost::asio::ip::tcp::acceptor& acceptor, bool peer_listener);
    void on_flush_timer(boost::system::error_code ec);
    void dial(const std::string& peer);
    void schedule_dial(const std::string& peer);

    // Called by connections.
    void on_line(connection& c, std::string_view line);
    void on_closed(connection& c);
    // Writes what every peer link has queued now.
    void flush_peer_links();
    // Whether client reads hand over to the links now (one came within the last
    // link_service_period): then what a link read forwards, or a line queues for a link, waits
    // for that hand-over (the first client read a period after the last one: up to about two
    // periods) rather than take a write of its own, so a loaded link writes about once a
    // period. Otherwise it is written at once.
    bool links_handed_over() const;
    // After the lines of a client read: now and then, reads the links of every server of the
    // link_service group and flushes them (service_links).
    void after_client_read();
    void service_links();
    // The handshake (docs/net.md): a HERD-PEER line on an accepted connection, the answer to
    // our HERD-PEER on a dialed one, a HERD-AUTH line after our challenge.
    void on_hello(connection& c, std::string_view line);
    void on_answer(connection& c, std::string_view line, bool first);
    void on_auth(connection& c, std::string_view line);
    // Cuts a REPAIR burst in effects_ that would overflow a link's queue to whole buckets that fit.
    void fit_repair_bursts();
    // Calls f(peer) for each neighbour a send effect goes to (every target of a FLOOD).
    template <class F>
    void for_each_target(const core::send_effect& s, F&& f) const;
    // Queues `line` on the link to `peer` (and logs it), or logs that the link is down.
    void send_to_peer(const std::string& peer, std::string_view line);
    // Performs a set_timer effect.
    void set_timer(core::timer_id id, core::nanos at);

    // Performs the node's effects; `from_conn` is the client whose input produced them and
    // `slot` the place of its reply in that connection's order.
    void perform(std::optional<core::conn_id> from_conn, std::uint64_t slot = 0);
    void link_up(const std::string& peer, const std::shared_ptr<connection>& c);
    std::string json_path() const;

    boost::asio::io_context& io_;
    const core::herd_config& cfg_;
    std::string name_;
    std::size_t index_;  // in cfg_.herd.servers
    clock_fn clock_;
    core::node node_;
    server_log log_;
    std::unique_ptr<places_provider> places_;
    std::optional<boost::asio::ip::tcp::acceptor> client_acceptor_, peer_acceptor_;
    boost::asio::steady_timer flush_timer_;
    boost::asio::steady_timer accept_retry_;
    std::map<core::conn_id, std::shared_ptr<connection>> conns_;
    std::map<std::string, peer_state, std::less<>> peers_;
    std::vector<core::effect> effects_;
    std::map<core::timer_id, node_timer> timers_;
    std::string secret_;  // the herd's shared secret; empty: peers are trusted by name
    peer_traffic sent_, received_;
    std::function<void(std::string_view)> line_observer_;
    std::shared_ptr<link_service> link_service_;  // after_client_read
    core::conn_id next_conn_ = 1;
    std::size_t clients_ = 0;
    bool stopping_ = false;
    std::minstd_rand jitter_;
};

}  // namespace herd::net
