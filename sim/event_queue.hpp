#pragma once
// The simulator's event queue: a min-heap of events, four children a node.
//
// Events are ordered by their operator< (time, then sequence number, in the simulator), which
// is a strict total order over the events in the queue, so they come out in one order whatever
// the heap's shape: this queue gives the same run as std::priority_queue, faster. A 4-ary heap
// is half as deep as a binary one, and a node's children share a cache line or two; and
// replace_top() puts a new event in the place of the first in one pass down (the next message
// of a FIFO link takes the place of the one being delivered), where pop() then push() would
// make two.

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <vector>

namespace herd::sim {

template <class Event>
class event_queue {
public:
    bool empty() const { return heap_.empty(); }
    std::size_t size() const { return heap_.size(); }

    // The first event. The queue must not be empty.
    const Event& top() const {
        assert(!heap_.empty());
        return heap_.front();
    }

    // The event that will be first once top() is gone (the least of its children), unless
    // the one that replaces it is earlier; null when top() is alone. For a host that prefetches
    // what the next events will touch.
    const Event* next_after_top() const {
        const std::size_t n = heap_.size();
        if (n < 2) return nullptr;
        const std::size_t end = std::min(n, arity + 1);
        std::size_t least = 1;
        for (std::size_t c = 2; c < end; ++c)
            if (heap_[c] < heap_[least]) least = c;
        return &heap_[least];
    }
    // The children of the event at `e` (in this queue): `count` of them from the returned pointer.
    const Event* children_of(const Event* e, std::size_t& count) const {
        const std::size_t first = arity * static_cast<std::size_t>(e - heap_.data()) + 1;
        count = heap_.size() > first ? std::min(heap_.size() - first, arity) : 0;
        return heap_.data() + std::min(first, heap_.size());
    }

    void push(const Event& e) {
        heap_.push_back(e);
        std::size_t i = heap_.size() - 1;
        while (i > 0) {
            const std::size_t parent = (i - 1) / arity;
            if (!(e < heap_[parent])) break;
            heap_[i] = heap_[parent];
            i = parent;
        }
        heap_[i] = e;
    }

    // Removes the first event. The queue must not be empty.
    void pop() {
        assert(!heap_.empty());
        const Event last = heap_.back();
        heap_.pop_back();
        if (!heap_.empty()) sift_down(last);
    }

    // Removes the first event and adds `e`: pop() then push(e), in one pass.
    void replace_top(const Event& e) {
        assert(!heap_.empty());
        sift_down(e);
    }

private:
    static constexpr std::size_t arity = 4;

    // Puts `e` in the root's place and moves it down to where it belongs.
    void sift_down(const Event& e) {
        const std::size_t n = heap_.size();
        std::size_t i = 0;
        for (;;) {
            const std::size_t first = arity * i + 1;
            if (first >= n) break;
            const std::size_t end = first + arity < n ? first + arity : n;
            std::size_t least = first;
            for (std::size_t c = first + 1; c < end; ++c)
                if (heap_[c] < heap_[least]) least = c;
            if (!(heap_[least] < e)) break;
            heap_[i] = heap_[least];
            i = least;
        }
        heap_[i] = e;
    }

    std::vector<Event> heap_;
};

}  // namespace herd::sim
