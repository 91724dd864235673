#include "net/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>

#include "core/protocol.hpp"
#include "core/repair.hpp"
#include "net/peer_auth.hpp"

namespace herd::net {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::size_t client_out_bytes_max = 16 << 20;  // a client that stops reading is dropped
constexpr auto log_flush_period = std::chrono::milliseconds(250);
// Connect, then the neighbour's HERD-PEER answer (and, with a secret, the dialer's HERD-AUTH),
// each within this.
constexpr int dial_timeout_ms = 3000;
constexpr std::size_t slots_max = 100'000;  // replies held behind a slow WHATSAT, per connection
// A link that stays up this long resets its redial backoff; one that drops sooner (a neighbour
// that refuses it, or cannot keep up) is redialled ever later, up to the cap.
constexpr auto link_stable = std::chrono::seconds(1);
// How often client reads hand over to the links at most (after_client_read): under load each
// hop of a flood waits up to this, and each link writes about once in it; each hand-over costs
// a read and maybe a write per link.
constexpr auto link_service_period = std::chrono::microseconds(300);
// A node timer further off than this waits this long (the node sets it again when it fires).
constexpr core::nanos timer_delay_max_ns = 365LL * 24 * 3600 * 1'000'000'000;

// The largest DIGEST line (2^fine_bits sums of 16 hex digits and a space each) must fit in a line.
static_assert(core::line_bytes_max >= 16 + core::fine_buckets * 17);

const char* level_name(core::log_level l) {
    switch (l) {
        case core::log_level::debug: return "debug";
        case core::log_level::info: return "info";
        case core::log_level::warn: return "warn";
        case core::log_level::error: return "error";
    }
    return "info";
}

// The node's options for the real host: sends that carry a record come without its line, and a
// FLOOD as one effect for all its targets (node_options::compact_sends). The host makes each line
// once and appends it to every link's queue, where a line an effect would cost a copy a target.
core::node_options compact(core::node_options o) {
    o.compact_sends = true;
    return o;
}

// A carried record's line as it is sent: record::flood_line() or repair_line(), and '\n' (for
// which they leave room).
std::string sent_line(const core::send_effect& s) {
    std::string line = s.to_neighbours ? s.carried->r.flood_line() : s.carried->r.repair_line();
    line += '\n';
    return line;
}

// The bytes of what a send effect sends to each of its targets.
std::size_t sent_bytes(const core::send_effect& s) {
    if (!s.carried) return s.line.size();
    return s.carried->r.sent_bytes(s.to_neighbours ? "FLOOD" : "REPAIR");
}

// A compact send that carries a REPAIR (one neighbour; a FLOOD goes to_neighbours).
bool is_repair(const core::send_effect& s) { return s.carried && !s.to_neighbours && s.line.empty(); }

// The kind of a line on a link, for peer_traffic.
std::uint64_t& traffic_of(peer_traffic& t, std::string_view line) {
    if (line.starts_with("FLOOD ")) return t.flood;
    if (line.starts_with("DIGEST ")) return t.digest;
    if (line.starts_with("REPAIR ")) return t.repair;
    return t.other;
}

}  // namespace

std::uint64_t raise_open_file_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    const rlim_t wanted = std::min<rlim_t>(rl.rlim_max, 1 << 20);
    if (rl.rlim_cur < wanted) {
        rlimit raised = rl;
        raised.rlim_cur = wanted;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
    }
    return static_cast<std::uint64_t>(rl.rlim_cur);
}

// One TCP connection: a client, or (once identified) the link to a neighbour. A reader
// coroutine takes what has arrived and hands every complete line in it to the server; what the
// lines produce is queued whole, in order, and written by a chain of async_writes that starts
// from a posted handler, so the replies and floods of every handler ready at that moment leave
// in one write per connection.
class connection : public std::enable_shared_from_this<connection> {
public:
    connection(server& s, tcp::socket socket, core::conn_id id, bool peer_listener, std::string dialed)
        : id_(id),
          peer_listener_(peer_listener),
          dialed_(std::move(dialed)),
          srv_(s),
          socket_(std::move(socket)),
          idle_(socket_.get_executor()) {
        error_code ec;
        const auto ep = socket_.remote_endpoint(ec);
        remote_ = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
        // A link reads and writes without blocking (read_now, flush_now); the asynchronous
        // operations are the same either way.
        socket_.non_blocking(true, ec);
    }

    void start() {
        auto self = shared_from_this();
        asio::co_spawn(socket_.get_executor(), [self] { return self->reader(); }, asio::detached);
        if (!dialed_.empty()) {
            send(peer_auth::format_hello({srv_.name_, my_nonce_, {}}));
            await_handshake();
        }
        if (is_client()) touch();
    }

    // Queues `text` (whole lines) and wakes the writer.
    void send(std::string_view text) {
        if (closed_) return;
        if (out_.size() + text.size() > out_max()) {
            if (peer_.empty())
                srv_.log_.write("drop", "conn " + std::to_string(id_) + ": output queue full, closing");
            else
                // A neighbour that does not keep up (repair answers are cut to fit before they
                // get here: fit_repair_bursts). The dialer redials; repair mends what was lost.
                srv_.log_.write("drop", "peer " + peer_ + ": " + std::to_string(out_.size() + text.size()) +
                                            " bytes of herd traffic unsent, over net.peer_queue_bytes_max (" +
                                            std::to_string(out_max()) + "); closing the link");
            abort();
            return;
        }
        out_ += text;
        kick();
    }

    // Replies leave in the order of the lines that asked, though a WHATSAT's answer comes
    // later than the lines after it: every client line takes a slot, filled by its reply.
    std::uint64_t open_slot() {
        if (slots_.size() >= slots_max) {
            srv_.log_.write("drop", "conn " + std::to_string(id_) + ": too many replies waiting, closing");
            abort();
        }
        slots_.emplace_back();
        return first_slot_ + slots_.size() - 1;
    }
    void fill(std::uint64_t slot, std::string_view text) {
        if (slot < first_slot_ || slot - first_slot_ >= slots_.size()) return;
        if (slot == first_slot_) {
            // The usual case: no reply waits before this one.
            send(text);
            slots_.pop_front();
            ++first_slot_;
        } else {
            slots_[slot - first_slot_] = std::string(text);
        }
        while (!slots_.empty() && slots_.front()) {
            send(*slots_.front());
            slots_.pop_front();
            ++first_slot_;
        }
    }

    // Writes what is queued now, without waiting for the posted write (floods on a link: they
    // must not wait behind every client of the loop). A link writes without blocking first, so
    // that no completion handler, queued behind those clients too, holds up its next flush;
    // what the socket does not take goes by async_write.
    void flush_now() {
        if (closed_ || in_flight_ || out_.empty()) return;
        if (!peer_.empty()) {
            error_code ec;
            const std::size_t n = socket_.write_some(asio::buffer(out_), ec);
            if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
                abort();
                return;
            }
            out_.erase(0, n);
            if (out_.empty()) return;
        }
        write();
    }

    // Reads and handles what has arrived on a link, if anything (between client reads: the
    // link's own reader waits for the socket to be readable and holds no buffer, so the lines
    // stay in order whichever reads them).
    void drain() {
        if (closed_ || closing_ || peer_.empty()) return;
        if (read_now() == read_state::more) read_more_later();
    }

    // Stops reading; closes once everything queued is written.
    void finish() {
        closing_ = true;
        kick();
    }

    void abort() {
        if (closed_) return;
        closed_ = true;
        error_code ec;
        socket_.shutdown(tcp::socket::shutdown_both, ec);
        socket_.close(ec);
        idle_.cancel();
        kick();  // the writer ends (at once, or when the write in flight fails)
    }

    // A places lookup for this client started or ended: a client that half-closed is answered
    // before its connection closes.
    void places_started() { ++pending_places_; }
    void places_ended() {
        if (pending_places_ > 0) --pending_places_;
        maybe_finish();
    }

    bool is_client() const { return peer_.empty() && dialed_.empty() && claimed_.empty(); }
    // The connection became a peer link: no idle timeout for it.
    void stop_idle() { idle_.cancel(); }
    // Bytes queued and not yet handed to the socket.
    std::size_t queued_bytes() const { return out_.size(); }
    // The next handshake line must come within the hello timeout.
    void await_handshake() { arm_idle(std::chrono::milliseconds(dial_timeout_ms)); }

    core::conn_id id_;
    bool counted_ = false;  // counts against connections_max (an accepted client)
    bool peer_listener_;
    std::string dialed_;  // the neighbour this server dialed, until it identifies
    std::string peer_;    // the neighbour this connection links to, once identified
    // With a shared secret: the neighbour an accepted connection claims to be, until its
    // HERD-AUTH proves it; and the handshake's nonces (ours, and the other end's).
    std::string claimed_;
    std::string my_nonce_, their_nonce_;
    bool first_line_ = true;
    std::string remote_;

private:
    std::size_t out_max() const { return peer_.empty() ? client_out_bytes_max : srv_.cfg_.net.peer_queue_bytes_max; }

    void maybe_finish() {
        if (read_done_ && pending_places_ == 0) finish();
    }

    // Notes activity; the idle timer is armed once and re-armed for the time that is left, so a
    // busy connection costs no timer operation per line.
    void touch() {
        last_active_ = std::chrono::steady_clock::now();
        if (!idle_armed_) arm_idle(idle_timeout());
    }

    std::chrono::steady_clock::duration idle_timeout() const {
        return std::chrono::microseconds(static_cast<std::int64_t>(srv_.cfg_.net.idle_timeout_ms * 1000));
    }

    void arm_idle(std::chrono::steady_clock::duration after) {
        idle_armed_ = true;
        idle_.expires_after(after);
        idle_.async_wait([weak = weak_from_this()](error_code ec) {
            auto self = weak.lock();
            if (!self) return;
            self->idle_armed_ = false;
            if (ec || self->closed_) return;
            if (!self->dialed_.empty()) {
                self->srv_.log_.write("peer", self->dialed_ + " did not identify in time; redialling");
                self->abort();
                return;
            }
            if (!self->claimed_.empty()) {
                self->srv_.log_.write("peer", "conn " + std::to_string(self->id_) + " claiming to be " +
                                                  self->claimed_ + " sent no HERD-AUTH in time; dropped");
                self->abort();
                return;
            }
            if (!self->is_client()) return;
            const auto quiet = std::chrono::steady_clock::now() - self->last_active_;
            if (quiet < self->idle_timeout()) {
                self->arm_idle(self->idle_timeout() - quiet);
                return;
            }
            self->srv_.log_.write("idle", "conn " + std::to_string(self->id_) + " closed after the idle timeout");
            self->abort();
        });
    }

    // Processes the complete lines of in_[begin, end); returns where the unfinished line begins,
    // or npos when the connection stops reading (closing, closed, or a line over the limit).
    std::size_t process(std::size_t begin, std::size_t end) {
        const std::size_t line_max = core::line_bytes_max + 2;  // a line, "\r\n"
        while (begin < end) {
            const char* start = in_.data() + begin;
            const auto* nl = static_cast<const char*>(std::memchr(start, '\n', std::min(end - begin, line_max)));
            if (nl == nullptr) break;
            const auto n = static_cast<std::size_t>(nl - start);
            srv_.on_line(*this, std::string_view(start, n));
            begin += n + 1;
            if (closed_ || closing_) return std::string_view::npos;  // e.g. the peer port refused the line
        }
        if (end - begin >= line_max) {
            // Over 64 KiB without a newline: answer with its first bytes, then close.
            srv_.log_.write("overlong", "conn " + std::to_string(id_) + ": line over 64 KiB, closing");
            send(core::format_refusal(std::string_view(in_).substr(begin, core::overlong_echo_bytes)));
            finish();
            return std::string_view::npos;
        }
        return begin;
    }

    asio::awaitable<void> reader() {
        for (;;) {
            error_code ec;
            if (!peer_.empty()) {
                // A link waits until something arrived and reads it without blocking, rather
                // than leave a read with its buffer pending: the server may then read it first,
                // between client reads (drain), and its lines stay in order.
                co_await socket_.async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
                if (closed_ || closing_) break;
                if (ec) {
                    abort();
                    break;
                }
                const read_state r = read_now();
                if (r == read_state::ended) break;
                if (r == read_state::more) read_more_later();
                // What its lines forward leaves at once, or with the next hand-over.
                if (!srv_.links_handed_over()) srv_.flush_peer_links();
                continue;
            }
            reserve_read();
            const std::size_t n = co_await socket_.async_read_some(
                asio::buffer(in_.data() + in_end_, in_.size() - in_end_), asio::redirect_error(asio::use_awaitable, ec));
            if (closed_ || closing_) break;
            if (!consume(n, ec)) break;
            if (!peer_.empty()) srv_.flush_peer_links();  // the lines made this connection a link
            else if (is_client()) srv_.after_client_read();
        }
        in_ = std::string();
        ended();
    }

    // Room for the next read after the unfinished line. A read asks for 4 KiB, doubled each time
    // a read fills it, up to 64 KiB: an idle connection holds little memory, a busy one reads in
    // large pieces.
    void reserve_read() {
        if (in_.size() < in_end_ + read_bytes_) in_.resize(in_end_ + read_bytes_);
    }

    // Hands the lines of the `n` bytes just read after the unfinished line to the server (or
    // ends reading on `ec`); returns whether the connection reads on.
    bool consume(std::size_t n, error_code ec) {
        if (ec) {
            // EOF: a last line without '\n' is still a command, answered before the close.
            if (ec == asio::error::eof && in_end_ > 0) srv_.on_line(*this, std::string_view(in_.data(), in_end_));
            read_done_ = true;
            if (!is_client())
                abort();
            else
                maybe_finish();
            return false;
        }
        if (n == in_.size() - in_end_ && read_bytes_ < read_bytes_max) read_bytes_ *= 2;
        // Every complete line that arrived, before the next read.
        const std::size_t rest = process(0, in_end_ + n);
        if (rest == std::string_view::npos) return false;
        in_end_ = in_end_ + n - rest;
        if (rest > 0 && in_end_ > 0) std::memmove(in_.data(), in_.data() + rest, in_end_);
        if (is_client() && !closed_) touch();
        return true;
    }

    // Reads what has arrived on a link without waiting, one read's worth (up to 64 KiB), and
    // hands its lines to the server: `more` if the read filled its buffer (there may be more),
    // `idle` if it took all there was, `ended` if the connection reads no more.
    enum class read_state { idle, more, ended };
    read_state read_now() {
        reserve_read();
        const std::size_t room = in_.size() - in_end_;
        error_code ec;
        const std::size_t n = socket_.read_some(asio::buffer(in_.data() + in_end_, room), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) return read_state::idle;
        if (!consume(n, ec) || closed_ || closing_) return read_state::ended;
        return n < room ? read_state::idle : read_state::more;  // a short read took all there was
    }

    // A link that had more to read than one read took reads on after the handlers ready now, as
    // an asynchronous read would: a neighbour that sends without pause must not keep the
    // server's thread from its clients. (The link's own wait would not do: the reactor reports
    // a socket readable when data arrives, not while unread data is left.)
    void read_more_later() {
        if (read_more_posted_) return;
        read_more_posted_ = true;
        asio::post(socket_.get_executor(), [self = shared_from_this()] {
            self->read_more_posted_ = false;
            if (self->closed_ || self->closing_) return;
            const read_state r = self->read_now();
            if (r == read_state::more) self->read_more_later();
            if (r != read_state::ended && !self->srv_.links_handed_over()) self->srv_.flush_peer_links();
        });
    }

    // The reader and the writer each call this as they end; the second reports the close to the
    // server.
    void ended() {
        if (--running_ == 0) srv_.on_closed(*this);
    }

    // Starts the writer unless it runs: posted, so that what the other handlers ready now queue
    // leaves in the same write. A link writes without blocking (flush_now): an async_write's
    // completion comes a loop round later, and until then every flush_now would wait for it.
    void kick() {
        if (in_flight_ || write_posted_) return;
        write_posted_ = true;
        asio::post(socket_.get_executor(), [self = shared_from_this()] {
            self->write_posted_ = false;
            if (self->in_flight_) return;
            if (!self->peer_.empty() && !self->closed_ && !self->closing_) {
                // Under load the hand-over writes it; asked again a loop round later, in case
                // the clients fell quiet meanwhile.
                if (self->srv_.links_handed_over()) {
                    if (!self->out_.empty()) self->kick();
                    return;
                }
                self->flush_now();
            } else {
                self->write();
            }
        });
    }

    // Writes everything queued in one write, then what was queued meanwhile, until nothing is
    // left (or the connection closes).
    void write() {
        if (closed_) return writer_ended();
        if (out_.empty()) {
            if (closing_) {
                abort();
                return writer_ended();
            }
            return;
        }
        batch_.clear();
        batch_.swap(out_);
        in_flight_ = true;
        asio::async_write(socket_, asio::buffer(batch_), [self = shared_from_this()](error_code ec, std::size_t) {
            self->in_flight_ = false;
            if (ec) {
                self->abort();  // ends the reader too, if it is still waiting
                return self->writer_ended();
            }
            self->write();
        });
    }

    void writer_ended() {
        if (writer_ended_) return;
        writer_ended_ = true;
        batch_ = std::string();
        abort();
        ended();
    }

    static constexpr std::size_t read_bytes_max = 64 * 1024;

    server& srv_;
    tcp::socket socket_;
    asio::steady_timer idle_;
    std::string in_;
    std::size_t in_end_ = 0;  // in_[0, in_end_) holds an unfinished line
    std::size_t read_bytes_ = 4 * 1024;
    std::string out_, batch_;
    bool write_posted_ = false;  // kick() posted a write()
    bool in_flight_ = false;     // an async_write is in flight
    bool writer_ended_ = false;
    bool read_done_ = false;
    bool closing_ = false;
    bool read_more_posted_ = false;  // read_more_later() posted a read
    bool closed_ = false;
    bool idle_armed_ = false;
    std::deque<std::optional<std::string>> slots_;
    std::uint64_t first_slot_ = 0;
    std::chrono::steady_clock::time_point last_active_;
    int running_ = 2;  // the reader and the writer
    std::size_t pending_places_ = 0;
};

server::server(asio::io_context& io, const core::herd_config& cfg, const std::string& name,
               const std::filesystem::path& log_dir, clock_fn clock)
    : io_(io),
      cfg_(cfg),
      name_(name),
      index_([&] {
          for (std::size_t i = 0; i < cfg.herd.servers.size(); ++i)
              if (cfg.herd.servers[i].name == name) return i;
          throw core::config_error((cfg.file.empty() ? std::string("herd") : cfg.file) +
                                   ": $.topology.servers: no server named " + name);
      }()),
      clock_(std::move(clock)),
      node_(name, cfg.herd, {}, compact(cfg.protocol)),
      log_(log_dir.empty() ? server_log() : server_log(log_dir / (name + ".log"))),
      flush_timer_(io),
      accept_retry_(io),
      jitter_(static_cast<std::uint32_t>(system_now() ^ std::hash<std::string>{}(name))) {
    link_service_ = std::make_shared<link_service>();
    link_service_->servers.push_back(this);
    // The real host needs an address and a port for this server and every neighbour it dials.
    auto require_address = [&](const core::server_info& s) {
        std::size_t i = 0;
        while (cfg.herd.servers[i].name != s.name) ++i;
        const std::string path = (cfg.file.empty() ? std::string("herd") : cfg.file) +
                                 ": $.topology.servers[" + std::to_string(i) + "]";
        error_code ec;
        asio::ip::make_address(s.host, ec);
        if (ec) throw core::config_error(path + ".host: expected an IP address, not " + s.host);
        if (s.port == 0) throw core::config_error(path + ": missing field port (the real host needs one)");
    };
    require_address(cfg.herd.servers[index_]);
    if (!cfg.net.secret_env.empty()) {
        // Read once, kept in memory only: never logged, never sent (only proofs made with it).
        const std::string path = (cfg.file.empty() ? std::string("herd") : cfg.file) + ": $.net.secret_env: ";
        const char* value = std::getenv(cfg.net.secret_env.c_str());
        if (value == nullptr || *value == '\0')
            throw core::config_error(path + "environment variable " + cfg.net.secret_env + " is not set or empty");
        secret_ = value;
        if (secret_.size() > peer_auth::secret_bytes_max)
            throw core::config_error(path + "the secret in " + cfg.net.secret_env + " is longer than " +
                                     std::to_string(peer_auth::secret_bytes_max) + " bytes");
    }
    for (const auto& n : node_.neighbours()) require_address(*cfg.herd.find(n));
    places_ = make_places_provider(io.get_executor(), cfg.places, cfg.file.empty() ? "herd" : cfg.file,
                                   [this](std::string text) { log_.write("places", text); });
    for (const auto& n : node_.neighbours()) {
        peer_state p;
        p.dials = name_ < n;
        p.redial = std::make_unique<asio::steady_timer>(io_);
        p.backoff_ms = cfg_.net.redial_min_ms;
        peers_.emplace(n, std::move(p));
    }
}

server::~server() { log_.flush(); }

std::string server::json_path() const {
    return (cfg_.file.empty() ? std::string("herd (built-in seed herd)") : cfg_.file) +
           ": $.topology.servers[" + std::to_string(index_) + "]";
}

void server::start() {
    const auto& me = cfg_.herd.servers[index_];
    auto listen = [&](std::uint16_t port, const char* field) {
        error_code ec;
        const auto address = asio::ip::make_address(me.host, ec);
        if (ec) throw core::config_error(json_path() + ".host: not an IP address: " + me.host);
        tcp::acceptor a(io_);
        const tcp::endpoint ep(address, port);
        a.open(ep.protocol(), ec);
        if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec) a.bind(ep, ec);
        if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
        if (ec)
            throw core::config_error(json_path() + "." + field + ": cannot listen on " + me.host + ":" +
                                     std::to_string(port) + ": " + ec.message());
        return a;
    };
    client_acceptor_.emplace(listen(me.port, "port"));
    if (me.peer_port != 0) peer_acceptor_.emplace(listen(me.peer_port, "peer_port"));
    log_.write("start", name_ + " listening on " + me.host + ":" + std::to_string(me.port) +
                            (me.peer_port ? " (peers on " + std::to_string(me.peer_port) + ")" : ""));
    if (secret_.empty()) {
        // The host says so on stderr once all its servers started (running_servers).
        log_.write("start", "no shared secret (net.secret_env): peers are trusted by the name they give");
    } else {
        log_.write("start", "peers must prove the shared secret from " + cfg_.net.secret_env);
        if (secret_.size() < peer_auth::secret_bytes_min_advised)
            log_.write("warn", "the shared secret is shorter than " +
                                   std::to_string(peer_auth::secret_bytes_min_advised) + " bytes");
    }
    log_.write("start", std::string("repair ") + core::repair_mode_name(cfg_.protocol.repair));
    accept(*client_acceptor_, false);
    if (peer_acceptor_) accept(*peer_acceptor_, true);
    for (auto& [peer, p] : peers_)
        if (p.dials) dial(peer);
    flush_timer_.expires_after(log_flush_period);
    flush_timer_.async_wait([this](error_code ec) { on_flush_timer(ec); });
}

void server::on_flush_timer(error_code ec) {
    if (ec || stopping_) return;
    log_.flush();
    flush_timer_.expires_after(log_flush_period);
    flush_timer_.async_wait([this](error_code e) { on_flush_timer(e); });
}

void server::stop() {
    if (stopping_) return;
    stopping_ = true;
    error_code ec;
    if (client_acceptor_) client_acceptor_->close(ec);
    if (peer_acceptor_) peer_acceptor_->close(ec);
    flush_timer_.cancel();
    accept_retry_.cancel();
    for (auto& [peer, p] : peers_) {
        p.redial->cancel();
        if (p.connecting) p.connecting->close(ec);  // a dial still in progress
    }
    for (auto& [id, t] : timers_) t.timer->cancel();
    places_.reset();  // abandons lookups in flight (their answers would go nowhere)
    const auto conns = conns_;  // abort() reports back into conns_
    for (const auto& [id, c] : conns) c->abort();
    log_.write("stop", name_ + " stopped");
    log_.flush();
}

std::uint16_t server::port() const {
    return client_acceptor_ ? client_acceptor_->local_endpoint().port() : 0;
}

void server::accept(tcp::acceptor& acceptor, bool peer_listener) {
    acceptor.async_accept([this, &acceptor, peer_listener](error_code ec, tcp::socket socket) {
        if (stopping_ || !acceptor.is_open()) return;
        if (!ec) {
            // Until it identifies, a connection on either listener counts against the limit.
            if (clients_ >= cfg_.net.connections_max) {
                log_.write("refuse", "too many client connections (" + std::to_string(clients_) + ")");
                error_code ignored;
                socket.close(ignored);
            } else {
                socket.set_option(tcp::no_delay(true), ec);
                const auto id = next_conn_++;
                auto c = std::make_shared<connection>(*this, std::move(socket), id, peer_listener, std::string());
                conns_.emplace(id, c);
                c->counted_ = true;
                ++clients_;
                log_.write("open", "conn " + std::to_string(id) + " from " + c->remote_ +
                                       (peer_listener ? " (peer port)" : ""));
                c->start();
            }
        } else {
            // Out of file descriptors, say: the pending connection stays queued, so accepting
            // again at once would fail again at once. Wait a little.
            log_.write("accept", ec.message());
            accept_retry_.expires_after(std::chrono::milliseconds(100));
            accept_retry_.async_wait([this, &acceptor, peer_listener](error_code e) {
                if (!e && !stopping_) accept(acceptor, peer_listener);
            });
            return;
        }
        accept(acceptor, peer_listener);
    });
}

void server::dial(const std::string& peer) {
    if (stopping_) return;
    const core::server_info* info = cfg_.herd.find(peer);
    error_code ec;
    const auto address = asio::ip::make_address(info->host, ec);
    if (ec) {
        log_.write("peer", "cannot dial " + peer + ": not an IP address: " + info->host);
        return;
    }
    const tcp::endpoint ep(address, info->peer_port ? info->peer_port : info->port);
    auto socket = std::make_shared<tcp::socket>(io_);
    peers_.at(peer).connecting = socket;
    // A neighbour behind a firewall that drops packets would hold a connect for minutes: the
    // redial timer bounds it.
    auto& timer = *peers_.at(peer).redial;
    timer.expires_after(std::chrono::milliseconds(dial_timeout_ms));
    timer.async_wait([socket](error_code e) {
        if (!e) socket->close(e);
    });
    socket->async_connect(ep, [this, peer, socket](error_code e) {
        if (stopping_) return;
        peers_.at(peer).redial->cancel();
        peers_.at(peer).connecting.reset();
        if (e) {
            schedule_dial(peer);
            return;
        }
        socket->set_option(tcp::no_delay(true), e);
        std::string nonce;
        if (!secret_.empty()) {
            const auto n = peer_auth::new_nonce();
            if (!n) {
                log_.write("peer", "cannot dial " + peer + ": no random nonce (RAND_bytes failed)");
                socket->close(e);
                schedule_dial(peer);
                return;
            }
            nonce = *n;
        }
        const auto id = next_conn_++;
        auto c = std::make_shared<connection>(*this, std::move(*socket), id, true, peer);
        c->my_nonce_ = std::move(nonce);
        conns_.emplace(id, c);
        log_.write("dial", "conn " + std::to_string(id) + " to " + peer + " at " + c->remote_);
        c->start();
    });
}

void server::schedule_dial(const std::string& peer) {
    auto& p = peers_.at(peer);
    if (stopping_ || !p.dials) return;
    // Full backoff with jitter in [backoff/2, backoff), doubled up to the cap.
    const double ms = p.backoff_ms * (0.5 + 0.5 * std::uniform_real_distribution<double>(0, 1)(jitter_));
    p.backoff_ms = std::min(p.backoff_ms * 2, cfg_.net.redial_max_ms);
    p.redial->expires_after(std::chrono::microseconds(static_cast<std::int64_t>(ms * 1000)));
    p.redial->async_wait([this, peer](error_code ec) {
        if (!ec) dial(peer);
    });
}

void server::on_line(connection& c, std::string_view line) {
    if (stopping_) return;
    if (!c.peer_.empty()) {
        log_.write_pair("peer-in", c.peer_, line);
        traffic_of(received_, line) += line.size() + 1;
        node_.peer_line(c.peer_, line, clock_());
        if (line_observer_) line_observer_(line);
        perform(std::nullopt);
        return;
    }
    const bool first = c.first_line_;
    c.first_line_ = false;
    if (!c.dialed_.empty()) {
        on_answer(c, line, first);
        return;
    }
    if (!c.claimed_.empty()) {
        on_auth(c, line);
        return;
    }
    if (first) {
        if (peer_auth::is_hello(line)) {
            on_hello(c, line);
            return;
        }
        if (c.peer_listener_) {
            // The peer port carries herd traffic only.
            log_.write_conn("in", c.id_, line);
            c.send(core::format_refusal(core::strip_cr(line)));
            c.finish();
            return;
        }
    }
    log_.write_conn("in", c.id_, line);
    const std::uint64_t slot = c.open_slot();
    node_.client_line(c.id_, line, clock_());
    if (line_observer_) line_observer_(line);
    perform(c.id_, slot);
}

void server::on_answer(connection& c, std::string_view line, bool first) {
    // The neighbour we dialed must answer with its own identification first, and with a
    // secret, prove it: HERD-PEER <its name> <its nonce> <proof(it, us, our nonce, its nonce)>.
    const auto h = first ? peer_auth::parse_hello(line) : std::nullopt;
    const char* why = nullptr;
    if (!h || h->name != c.dialed_)
        why = "not its identification";
    else if (secret_.empty() && !h->nonce.empty())
        why = "a proof, but this server has no shared secret";
    else if (!secret_.empty() && (h->nonce.empty() || h->proof.empty()))
        why = "no proof (does it have the shared secret?)";
    else if (!secret_.empty() && !peer_auth::verify(secret_, c.dialed_, name_, c.my_nonce_, h->nonce, h->proof))
        why = "a proof that does not verify (is its shared secret the same?)";
    if (why != nullptr) {
        log_.write("peer", "conn " + std::to_string(c.id_) + ": " + c.dialed_ + " answered " +
                               peer_auth::for_log(line) + ": " + why + "; dropped");
        c.abort();
        return;
    }
    if (!secret_.empty()) c.send(peer_auth::format_auth(peer_auth::proof(secret_, name_, c.dialed_, h->nonce, c.my_nonce_)));
    const std::string peer = c.dialed_;
    link_up(peer, conns_.at(c.id_));
}

void server::on_hello(connection& c, std::string_view line) {
    const auto h = peer_auth::parse_hello(line);
    // Without a secret, a refused claim leaves a client connection a client (whose FLOOD lines
    // the node refuses); with one, and on the peer port, the connection is closed.
    auto refuse = [&](const std::string& why) {
        log_.write("peer", "conn " + std::to_string(c.id_) + " from " + c.remote_ + ": " + why + "; refused");
        c.send(core::format_refusal(core::strip_cr(line)));
        if (c.peer_listener_ || !secret_.empty()) c.finish();
    };
    if (!h) return refuse("malformed identification " + peer_auth::for_log(line));
    const auto it = peers_.find(h->name);
    const bool right_port = c.peer_listener_ || !cfg_.herd.servers[index_].peer_port;
    // This server dials the neighbours whose names sort after its own: such a neighbour never
    // dials in, so a connection claiming to be one is refused (it would take the link over).
    const char* why = it == peers_.end() ? ", not a neighbour"
                      : !right_port      ? ", on the client port"
                      : it->second.dials ? ", which this server dials itself"
                                         : nullptr;
    if (why != nullptr) return refuse("claims to be " + h->name + why);
    if (secret_.empty()) {
        if (!h->nonce.empty()) return refuse(h->name + " offers a proof, but this server has no shared secret");
        c.send(peer_auth::format_hello({name_, {}, {}}));
        link_up(it->first, conns_.at(c.id_));
        return;
    }
    if (h->nonce.empty() || !h->proof.empty())
        return refuse(h->name + (h->nonce.empty() ? " sent no nonce (does it have the shared secret?)"
                                                  : " sent a proof in its hello"));
    const auto nonce = peer_auth::new_nonce();
    if (!nonce) {
        log_.write("peer", "conn " + std::to_string(c.id_) + ": no random nonce (RAND_bytes failed); dropped");
        c.abort();
        return;
    }
    // Prove ourselves, then wait for its proof: until it comes the connection is no link and
    // nothing it sends is applied.
    c.claimed_ = h->name;
    c.my_nonce_ = *nonce;
    c.their_nonce_ = h->nonce;
    c.send(peer_auth::format_hello({name_, c.my_nonce_, peer_auth::proof(secret_, name_, h->name, h->nonce, c.my_nonce_)}));
    c.await_handshake();
}

void server::on_auth(connection& c, std::string_view line) {
    const auto given = peer_auth::parse_auth(line);
    const char* why = !given ? "expected HERD-AUTH <proof>"
                      : !peer_auth::verify(secret_, c.claimed_, name_, c.my_nonce_, c.their_nonce_, *given)
                          ? "its proof does not verify (is its shared secret the same? a replayed handshake?)"
                          : nullptr;
    if (why != nullptr) {
        log_.write("peer", "conn " + std::to_string(c.id_) + " from " + c.remote_ + " claiming to be " +
                               c.claimed_ + " sent " + peer_auth::for_log(line) + ": " + why + "; dropped");
        c.abort();
        return;
    }
    const std::string peer = std::exchange(c.claimed_, {});
    link_up(peer, conns_.at(c.id_));
}

void server::link_up(const std::string& peer, const std::shared_ptr<connection>& c) {
    auto& p = peers_.at(peer);
    if (c->counted_) --clients_;  // an accepted connection stops being a client
    c->counted_ = false;
    c->stop_idle();
    c->dialed_.clear();
    c->claimed_.clear();
    c->peer_ = peer;
    bool replaced = false;
    if (p.conn && p.conn != c) {
        log_.write("peer", peer + " identified again: the newer connection replaces conn " +
                               std::to_string(p.conn->id_));
        auto old = std::move(p.conn);
        old->peer_.clear();  // its close must not take the link down
        old->abort();
        replaced = true;
    }
    p.conn = c;
    p.up_since = std::chrono::steady_clock::now();
    log_.write("peer-up", peer + " on conn " + std::to_string(c->id_) + " (" + c->remote_ + ")" +
                              (secret_.empty() ? "" : ", proved the shared secret"));
    // What was queued on a replaced connection may be lost: for the node the link went down and
    // came up again (with repair, the two servers compare digests).
    if (replaced && node_.is_up(peer)) node_.peer_down(peer, clock_());
    if (!node_.is_up(peer)) node_.peer_up(peer, clock_());
    perform(std::nullopt);
}

void server::on_closed(connection& c) {
    const auto it = conns_.find(c.id_);
    if (it == conns_.end()) return;
    const auto self = it->second;  // keep it alive through this call
    conns_.erase(it);
    if (!c.peer_.empty()) {
        auto& p = peers_.at(c.peer_);
        if (p.conn.get() == &c) {
            p.conn.reset();
            const auto up_for = std::chrono::steady_clock::now() - p.up_since;
            if (up_for >= link_stable) p.backoff_ms = cfg_.net.redial_min_ms;
            log_.write("peer-down", c.peer_ + " (conn " + std::to_string(c.id_) + ", up " +
                                        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(up_for).count()) +
                                        " ms)");
            if (!stopping_) {
                node_.peer_down(c.peer_, clock_());
                perform(std::nullopt);
            }
            schedule_dial(c.peer_);
        }
        return;
    }
    if (!c.dialed_.empty()) {
        log_.write("peer", "conn " + std::to_string(c.id_) + " to " + c.dialed_ + " closed before it identified");
        schedule_dial(c.dialed_);
        return;
    }
    if (c.counted_) --clients_;
    log_.write("close", "conn " + std::to_string(c.id_) +
                            (c.claimed_.empty() ? "" : " (claiming to be " + c.claimed_ + ", before it proved it)"));
}

void server::send_to_peer(const std::string& peer, std::string_view line) {
    const auto it = peers_.find(peer);
    if (it != peers_.end() && it->second.conn) {
        log_.write_pair("peer-out", peer, line);
        traffic_of(sent_, line) += line.size();
        it->second.conn->send(line);
    } else {
        log_.write("peer-drop", peer + " is down: " + std::string(line));
    }
}

template <class F>
void server::for_each_target(const core::send_effect& s, F&& f) const {
    if (!s.to_neighbours) return f(s.peer);
    // A FLOOD: every neighbour the node has up but `except`, in neighbour order.
    const auto& names = node_.neighbours();
    for (std::size_t i = 0; i < names.size(); ++i)
        if (i != s.except && node_.is_up_at(i)) f(names[i]);
}

void server::perform(std::optional<core::conn_id> from_conn, std::uint64_t slot) {
    // Nothing below re-enters perform(): places answers are posted, and sends only queue.
    node_.poll_effects(effects_);
    fit_repair_bursts();
    for (auto& e : effects_) {
        if (auto* r = std::get_if<core::reply_effect>(&e)) {
            const auto it = conns_.find(r->conn);
            log_.write_conn("out", r->conn, r->text);
            // Every client reply answers the line (or the lookup) this input came from.
            if (it != conns_.end()) it->second->fill(slot, r->text);
        } else if (auto* s = std::get_if<core::send_effect>(&e)) {
            if (s->to_neighbours) {
                const std::string line = sent_line(*s);
                for_each_target(*s, [&](const std::string& peer) { send_to_peer(peer, line); });
            } else if (is_repair(*s)) {
                send_to_peer(s->peer, sent_line(*s));
            } else {
                send_to_peer(s->peer, s->line);
            }
        } else if (auto* q = std::get_if<core::query_places_effect>(&e)) {
            const core::request_id request = q->request;
            std::optional<core::conn_id> conn = from_conn;
            if (conn) {
                const auto it = conns_.find(*conn);
                if (it != conns_.end()) it->second->places_started();
            }
            if (!places_) continue;  // stopping
            places_->lookup(*q, [this, request, conn, slot](core::places_result result) {
                if (stopping_) return;
                if (!result.ok) log_.write("places-error", result.error);
                node_.places_done(request, result, clock_());
                perform(conn, slot);
                if (conn) {
                    const auto it = conns_.find(*conn);
                    if (it != conns_.end()) it->second->places_ended();
                }
            });
        } else if (auto* l = std::get_if<core::log_effect>(&e)) {
            log_.write(level_name(l->level), l->text);
        } else if (auto* t = std::get_if<core::set_timer_effect>(&e)) {
            set_timer(t->id, t->at);
        }
    }
}

void server::set_timer(core::timer_id id, core::nanos at) {
    if (stopping_) return;
    auto& t = timers_[id];
    if (!t.timer) t.timer = std::make_unique<asio::steady_timer>(io_);
    // A later set_timer replaces the earlier one, even if that one has expired and its handler
    // is already queued: the handler checks that it is still the latest.
    const std::uint64_t generation = ++t.generation;
    // `at` is on the node's clock (clock_), which may be fixed or offset: wait the difference.
    const core::nanos delay = std::clamp<core::nanos>(core::diff_saturated(at, clock_()), 0, timer_delay_max_ns);
    t.timer->expires_after(std::chrono::nanoseconds(delay));
    t.timer->async_wait([this, id, generation](error_code ec) {
        if (ec || stopping_) return;
        if (timers_.at(id).generation != generation) return;
        node_.timer(id, clock_());
        perform(std::nullopt);
    });
}

void server::fit_repair_bursts() {
    const bool any_repair = std::any_of(effects_.begin(), effects_.end(), [](const core::effect& e) {
        const auto* s = std::get_if<core::send_effect>(&e);
        return s != nullptr && is_repair(*s);
    });
    if (!any_repair) return;
    // Sends queued by this step, per neighbour: REPAIR lines, and the rest.
    struct burst {
        std::size_t repair_bytes = 0, other_bytes = 0;
    };
    std::map<std::string_view, burst> bursts;
    for (const auto& e : effects_)
        if (const auto* s = std::get_if<core::send_effect>(&e)) {
            const std::size_t bytes = sent_bytes(*s);
            for_each_target(*s, [&](const std::string& peer) {
                auto& b = bursts[peer];
                (is_repair(*s) ? b.repair_bytes : b.other_bytes) += bytes;
            });
        }
    std::vector<bool> drop;
    for (const auto& [peer, b] : bursts) {
        const auto it = peers_.find(peer);
        if (b.repair_bytes == 0 || it == peers_.end() || !it->second.conn) continue;
        const std::size_t queued = it->second.conn->queued_bytes() + b.other_bytes;
        const std::size_t max = cfg_.net.peer_queue_bytes_max;
        // A repair may fill the queue to this; the rest is for floods and digests while it drains.
        const std::size_t repair_max = max / 4 * 3;
        if (queued + b.repair_bytes <= repair_max) continue;
        // The answer to a DIGEST is larger than the link may queue (a large store, an empty
        // neighbour). Dropping the link would not help: its redial meets the same answer. Send
        // the records of whole fine buckets, lowest first, that fit; the buckets sent then
        // agree, and the neighbour's next DIGEST (periodic repair, or the next reconnect) asks
        // for the rest.
        const std::size_t room = repair_max > queued ? repair_max - queued : 0;
        std::vector<std::pair<std::uint32_t, std::size_t>> order;  // (fine bucket, effect index)
        for (std::size_t i = 0; i < effects_.size(); ++i) {
            const auto* s = std::get_if<core::send_effect>(&effects_[i]);
            if (s == nullptr || s->peer != peer || !is_repair(*s)) continue;
            order.emplace_back(core::bucket_of(s->carried->r.client), i);
        }
        std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        drop.resize(effects_.size());
        std::size_t used = 0, kept = 0;
        bool full = false;
        for (std::size_t j = 0; j < order.size();) {
            std::size_t k = j, bytes = 0;
            for (; k < order.size() && order[k].first == order[j].first; ++k)
                bytes += sent_bytes(std::get<core::send_effect>(effects_[order[k].second]));
            full = full || used + bytes > room;
            if (full) {
                for (std::size_t x = j; x < k; ++x) drop[order[x].second] = true;
            } else {
                used += bytes;
                kept += k - j;
            }
            j = k;
        }
        log_.write("warn", "repair to " + std::string(peer) + " cut short: " + std::to_string(kept) + " of " +
                               std::to_string(order.size()) + " records (" + std::to_string(used) + " of " +
                               std::to_string(b.repair_bytes) + " bytes) fit in 3/4 of net.peer_queue_bytes_max (" +
                               std::to_string(max) + "); the link stays up, and the next DIGEST asks for the rest");
    }
    if (drop.empty()) return;
    std::size_t out = 0;
    for (std::size_t i = 0; i < effects_.size(); ++i)
        if (!drop[i]) {
            if (out != i) effects_[out] = std::move(effects_[i]);
            ++out;
        }
    effects_.resize(out);
}

void server::flush_peer_links() {
    for (auto& [peer, p] : peers_)
        if (p.conn) p.conn->flush_now();
}

void server::after_client_read() {
    // A link's reads and the writes the loop posts run in the order their handlers became
    // ready, behind some thirty client reads on a loaded thread: about a millisecond per hop.
    // Every link_service_period at most (one clock read per client read otherwise), a client
    // read hands over to the links of every server on this thread: what arrived on them is
    // handled and what is queued for them written, so a flood waits for at most that long at
    // each server.
    auto& group = *link_service_;
    const auto now = std::chrono::steady_clock::now();
    group.last_read = now;
    if (now < group.next) return;
    group.next = now + link_service_period;
    for (server* s : group.servers) s->service_links();
}

bool server::links_handed_over() const {
    return std::chrono::steady_clock::now() - link_service_->last_read < link_service_period;
}

void server::service_links() {
    for (auto& [peer, p] : peers_)
        if (const auto c = p.conn) c->drain();
    flush_peer_links();
}

void server::drop_peer_links() {
    if (stopping_) return;
    std::vector<std::shared_ptr<connection>> links;
    for (const auto& [peer, p] : peers_)
        if (p.conn) links.push_back(p.conn);
    log_.write("peer", "dropping " + std::to_string(links.size()) + " peer links (asked by the host)");
    for (const auto& c : links) c->abort();
}

}  // namespace herd::net
