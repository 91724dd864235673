#!/usr/bin/env python3
"""Writes the two large scenarios, whose server and link lists are too long to keep by hand:
random-100.json (100 servers, a random connected graph) and grid-5x5.json (25 servers in a
5x5 grid, the broadcast setting of Maelstrom's Gossip Glomers). Deterministic: run it again and
the files come out the same.   python3 scenarios/generate.py
"""
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, doc):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def random_100():
    rnd = random.Random(100)
    n = 100
    names = [f"S{i:03d}" for i in range(n)]
    edges = set()
    for v in range(1, n):  # a random spanning tree keeps it connected
        edges.add((rnd.randrange(v), v))
    while len(edges) < 250:  # then extra links up to an average degree of 5
        a, b = rnd.sample(range(n), 2)
        edges.add((min(a, b), max(a, b)))
    return {
        "name": "random-100",
        "seed": 7,
        "start_time": "1700000000.000000000",
        "topology": {
            "servers": [{"name": s} for s in names],
            "links": [{"between": [names[a], names[b]]} for a, b in sorted(edges)],
            "link_defaults": {"latency_ms": {"dist": "lognormal", "median": 8, "sigma": 0.5},
                              "loss": 0, "duplicate": 0, "fifo": True},
        },
        "protocol": {"repair": "none"},
        "workload": [
            {"generate": {"clients": 200, "rate_per_s": 200, "from_ms": 0, "to_ms": 5000,
                          "whatsat_fraction": 0.1, "move_km": 1}}
        ],
        "timeline": {"messages": False},
        "expect": {"converged": True, "delay_ms_p99_max": 150, "messages_per_update_max": 401},
    }


def grid_5x5():
    names = [f"N{r}{c}" for r in range(5) for c in range(5)]
    links = []
    for r in range(5):
        for c in range(5):
            if c < 4:
                links.append({"between": [f"N{r}{c}", f"N{r}{c + 1}"]})
            if r < 4:
                links.append({"between": [f"N{r}{c}", f"N{r + 1}{c}"]})
    return {
        "name": "grid-5x5",
        "seed": 25,
        "start_time": "1700000000.000000000",
        "topology": {
            "servers": [{"name": s} for s in names],
            "links": links,
            "link_defaults": {"latency_ms": {"dist": "constant", "value": 100},
                              "loss": 0, "duplicate": 0, "fifo": True},
        },
        "protocol": {"repair": "none"},
        "workload": [
            {"generate": {"clients": 500, "rate_per_s": 100, "from_ms": 0, "to_ms": 20000,
                          "move_km": 0.2}}
        ],
        "timeline": {"messages": False},
        # 8 hops corner to corner at 100 ms; 2|E| - (n - 1) = 80 - 24 = 56 FLOODs an update.
        "expect": {"converged": True, "delay_ms_max": 800, "messages_per_update_max": 56},
    }


write("random-100.json", random_100())
write("grid-5x5.json", grid_5x5())
