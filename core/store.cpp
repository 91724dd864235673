#include "core/store.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace herd::core {
namespace {

std::string join_fields(std::string_view head, const record& r) {
    const std::string* const fields[] = {&r.origin, &r.diff_text, &r.client, &r.location_text, &r.time_text};
    std::size_t size = head.size();
    for (const std::string* f : fields) size += 1 + f->size();
    // Sized once and filled in place (every FLOOD sent is one of these), with one byte of room
    // more for the '\n' a node adds before it sends the line.
    std::string out;
    out.reserve(size + 1);
    out.resize(size);
    char* p = out.data();
    std::memcpy(p, head.data(), head.size());
    p += head.size();
    for (const std::string* f : fields) {
        *p++ = ' ';
        std::memcpy(p, f->data(), f->size());
        p += f->size();
    }
    return out;
}

int sign(int v) { return (v > 0) - (v < 0); }

constexpr std::size_t min_slots = 16;

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

stored_record::stored_record(record rec)
    : r(std::move(rec)), key(client_hash(r.client)), hash(record_hash(r.view())) {}

stored_record::stored_record(const record_view& v) : stored_record(v, client_hash(v.client)) {}

stored_record::stored_record(const record_view& v, std::uint64_t client_key)
    : r{std::string(v.client), std::string(v.location_text), std::string(v.time_text), v.time,
        std::string(v.origin), std::string(v.diff_text)},
      key(client_key),
      hash(record_hash(v)) {
    assert(key == client_hash(r.client));
}

std::size_t store::probe(std::string_view client, std::uint64_t key) const {
    assert(!slots_.empty());
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = key & mask;; i = (i + 1) & mask) {
        const slot& s = slots_[i];
        if (!s.rec || (s.key == key && s.rec->r.client == client)) return i;
    }
}

const record* store::put(std::size_t i, record_ptr r) {
    slot* s = &slots_[i];
    if (s->rec) {
        sums_[bucket_of_hash(s->key)] -= s->rec->hash;
    } else {
        if ((size_ + 1) * 4 > slots_.size() * 3) {
            // Grow: twice the slots, every record probed in again (none is equal to another).
            std::vector<slot> old(slots_.size() * 2);
            old.swap(slots_);
            const std::size_t mask = slots_.size() - 1;
            for (auto& o : old) {
                if (!o.rec) continue;
                std::size_t j = o.key & mask;
                while (slots_[j].rec) j = (j + 1) & mask;
                slots_[j] = std::move(o);
            }
            i = probe(r->r.client, r->key);
            s = &slots_[i];
        }
        ++size_;
    }
    s->key = r->key;
    s->rec = std::move(r);
    sums_[bucket_of_hash(s->key)] += s->rec->hash;
    ++version_;
    last_changed_ = i;
    return &s->rec->r;
}

const record* store::merge(record r) { return merge(std::make_shared<const stored_record>(std::move(r))); }

const record* store::merge(const record_ptr& r) {
    if (slots_.empty()) slots_.resize(min_slots);
    const std::size_t i = probe(r->r.client, r->key);
    const record_ptr& held = slots_[i].rec;
    // The same shared record (a FLOOD that reached this server by another path) needs no compare.
    if (held && (held == r || compare(r->r.view(), held->r.view()) <= 0)) return nullptr;
    return put(i, r);
}

const record* store::merge(const record_view& v) { return merge(v, client_hash(v.client)); }

const record* store::merge(const record_view& v, std::uint64_t key) {
    assert(key == client_hash(v.client));
    if (slots_.empty()) slots_.resize(min_slots);
    const std::size_t i = probe(v.client, key);
    const record_ptr& held = slots_[i].rec;
    if (held && compare(v, held->r.view()) <= 0) return nullptr;
    return put(i, std::make_shared<const stored_record>(v, key));
}

const record* store::find(std::string_view client) const { return find(client, client_hash(client)); }

const record* store::find(std::string_view client, std::uint64_t key) const {
    assert(key == client_hash(client));
    if (slots_.empty()) return nullptr;
    const auto& held = slots_[probe(client, key)].rec;
    return held ? &held->r : nullptr;
}

record_ptr store::shared(std::string_view client) const {
    if (slots_.empty()) return nullptr;
    return slots_[probe(client, client_hash(client))].rec;
}

bool store::holds(const record_ptr& r) const {
    if (slots_.empty()) return false;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = r->key & mask;; i = (i + 1) & mask) {
        const slot& s = slots_[i];
        if (s.rec == r) return true;
        if (!s.rec || (s.key == r->key && s.rec->r.client == r->r.client)) return false;
    }
}

const record* store::last_changed() const {
    return last_changed_ == npos ? nullptr : &slots_[last_changed_].rec->r;
}

const record_ptr& store::last_changed_shared() const {
    static const record_ptr none;
    return last_changed_ == npos ? none : slots_[last_changed_].rec;
}

bool operator==(const store& a, const store& b) {
    if (a.size_ != b.size_) return false;
    for (const auto& s : a.slots_) {
        if (!s.rec) continue;
        const auto& other = b.slots_[b.probe(s.rec->r.client, s.key)].rec;
        if (!other || (other != s.rec && !(other->r == s.rec->r))) return false;
    }
    return true;
}

std::vector<std::size_t> store::slots_in_buckets(unsigned bits, const std::vector<bool>& buckets) const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < slots_.size(); ++i)
        if (slots_[i].rec && buckets[bucket_of_hash(slots_[i].key) >> (fine_bits - bits)]) out.push_back(i);
    std::sort(out.begin(), out.end(),
              [&](std::size_t a, std::size_t b) { return slots_[a].rec->r.client < slots_[b].rec->r.client; });
    return out;
}

std::vector<const record*> store::in_buckets(unsigned bits, const std::vector<bool>& buckets) const {
    std::vector<const record*> out;
    for (std::size_t i : slots_in_buckets(bits, buckets)) out.push_back(&slots_[i].rec->r);
    return out;
}

std::vector<record_ptr> store::shared_in_buckets(unsigned bits, const std::vector<bool>& buckets) const {
    std::vector<record_ptr> out;
    for (std::size_t i : slots_in_buckets(bits, buckets)) out.push_back(slots_[i].rec);
    return out;
}

std::vector<const record*> store::sorted() const {
    std::vector<const record*> out;
    out.reserve(size_);
    for (const auto& s : slots_)
        if (s.rec) out.push_back(&s.rec->r);
    std::sort(out.begin(), out.end(), [](const record* a, const record* b) { return a->client < b->client; });
    return out;
}

}  // namespace herd::core
