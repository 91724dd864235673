#include "net/places_provider.hpp"

#include <boost/asio/post.hpp>

#include "net/google_places.hpp"
#include "places/offline.hpp"

namespace herd::net {
namespace {

class offline_provider final : public places_provider {
public:
    offline_provider(boost::asio::any_io_executor ex, std::shared_ptr<const places::offline_index> index)
        : ex_(std::move(ex)), index_(std::move(index)) {}

    void lookup(const core::query_places_effect& q, done_fn done) override {
        // The index answers in microseconds: no thread, just a later turn of the event loop.
        boost::asio::post(ex_, [index = index_, q, done = std::move(done)] {
            done({true, index->nearby_json(q.lat, q.lon, q.radius_m, q.limit), {}});
        });
    }

private:
    boost::asio::any_io_executor ex_;
    std::shared_ptr<const places::offline_index> index_;
};

class google_provider final : public places_provider {
public:
    google_provider(boost::asio::any_io_executor ex, net::google_config cfg, std::function<void(std::string)> log)
        : google_(std::move(ex), std::move(cfg), std::move(log)) {}

    void lookup(const core::query_places_effect& q, done_fn done) override {
        google_.lookup(q.lat, q.lon, q.radius_m, q.limit, std::move(done));
    }

private:
    google_places google_;
};

}  // namespace

std::unique_ptr<places_provider> make_places_provider(boost::asio::any_io_executor ex,
                                                      const core::places_config& cfg,
                                                      const std::string& config_file,
                                                      std::function<void(std::string)> log) {
    if (cfg.provider == "offline") {
        std::shared_ptr<const places::offline_index> index;
        try {
            index = places::open_index(cfg.data);
        } catch (const places::load_error& e) {
            throw core::config_error(config_file + ": $.places.data: " + e.what());
        }
        return std::make_unique<offline_provider>(std::move(ex), std::move(index));
    }
    google_config g;
    g.endpoint = cfg.endpoint;
    g.key_env = cfg.key_env;
    g.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(cfg.timeout_ms));
    try {
        return std::make_unique<google_provider>(std::move(ex), std::move(g), std::move(log));
    } catch (const std::invalid_argument& e) {
        throw core::config_error(config_file + ": $.places.endpoint: " + e.what());
    }
}

}  // namespace herd::net
