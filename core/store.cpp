#include "core/store.hpp"

#include <algorithm>

namespace herd::core {
namespace {

std::string join_fields(std::string_view head, const record& r) {
    std::string out;
    out.reserve(head.size() + r.origin.size() + r.diff_text.size() + r.client.size() +
                r.location_text.size() + r.time_text.size() + 5);
    out += head;
    for (const std::string* f : {&r.origin, &r.diff_text, &r.client, &r.location_text, &r.time_text}) {
        out += ' ';
        out += *f;
    }
    return out;
}

int sign(int v) { return (v > 0) - (v < 0); }

}  // namespace

std::string record::at_line() const { return join_fields("AT", *this); }
std::string record::flood_line() const { return join_fields("FLOOD", *this); }
std::string record::repair_line() const { return join_fields("REPAIR", *this); }

int compare(const record_view& a, const record_view& b) {
    if (a.time != b.time) return a.time < b.time ? -1 : 1;
    if (int c = a.origin.compare(b.origin)) return sign(c);
    if (int c = a.location_text.compare(b.location_text)) return sign(c);
    if (int c = a.time_text.compare(b.time_text)) return sign(c);
    return sign(a.diff_text.compare(b.diff_text));
}

bool operator==(const record& a, const record& b) {
    return a.client == b.client && compare(a, b) == 0;
}

const record* store::merge(record r) {
    auto it = records_.find(r.client);
    if (it == records_.end()) {
        std::string key = r.client;
        it = records_.emplace(std::move(key), std::move(r)).first;
    } else {
        if (compare(r, it->second) <= 0) return nullptr;
        sums_[bucket_of(it->first)] -= record_hash(it->second.view());
        it->second = std::move(r);
    }
    return changed(it);
}

const record* store::merge(const record_view& v) {
    auto it = records_.find(v.client);
    if (it != records_.end() && compare(v, it->second.view()) <= 0) return nullptr;
    record r{std::string(v.client), std::string(v.location_text), std::string(v.time_text),
             v.time, std::string(v.origin), std::string(v.diff_text)};
    if (it == records_.end()) {
        it = records_.emplace(std::string(v.client), std::move(r)).first;
    } else {
        sums_[bucket_of(it->first)] -= record_hash(it->second.view());
        it->second = std::move(r);
    }
    return changed(it);
}

const record* store::changed(map_type::iterator it) {
    sums_[bucket_of(it->first)] += record_hash(it->second.view());
    ++version_;
    last_changed_ = it->first;
    return &it->second;
}

const record* store::find(std::string_view client) const {
    const auto it = records_.find(client);
    return it == records_.end() ? nullptr : &it->second;
}

bool operator==(const store& a, const store& b) { return a.records_ == b.records_; }

std::vector<const record*> store::in_buckets(unsigned bits, const std::vector<bool>& buckets) const {
    std::vector<const record*> out;
    for (const auto& [client, r] : records_)
        if (buckets[bucket_of(client) >> (fine_bits - bits)]) out.push_back(&r);
    std::sort(out.begin(), out.end(), [](const record* a, const record* b) { return a->client < b->client; });
    return out;
}

std::vector<const record*> store::sorted() const {
    std::vector<const record*> out;
    out.reserve(records_.size());
    for (const auto& [client, r] : records_) out.push_back(&r);
    std::sort(out.begin(), out.end(), [](const record* a, const record* b) { return a->client < b->client; });
    return out;
}

}  // namespace herd::core
