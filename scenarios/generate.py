#!/usr/bin/env python3
"""Writes the scenarios that are too long or too alike to keep by hand: random-100.json (100
servers, a random connected graph), grid-5x5.json (25 servers in a 5x5 grid, the broadcast
setting of Maelstrom's Gossip Glomers), and the repair pairs repair-*-none.json /
repair-*-on-connect.json / repair-*-periodic.json: the same fault on the seed's herd, once with
plain flooding (expected to end diverged) and once with repair (expected to converge soon after
the fault ends). Deterministic: run it again and the files come out the same.
    python3 scenarios/generate.py
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


def seed_topology():
    with open(os.path.join(HERE, "seed.json")) as f:
        topology = json.load(f)["topology"]
    topology["link_defaults"] = {"latency_ms": {"dist": "uniform", "min": 5, "max": 15},
                                 "loss": 0, "duplicate": 0, "fifo": True}
    return topology


def repair_pair(name, seed, about, faults, repaired_by_ms, link_defaults=None, to_ms=2800,
                mode="on_connect"):
    """Writes repair-NAME-none.json and repair-NAME-<mode>.json: one fault, two protocols."""
    topology = seed_topology()
    if link_defaults:
        topology["link_defaults"].update(link_defaults)
    for repair in ("none", mode):
        doc = {
            "name": f"repair-{name}-{repair.replace('_', '-')}",
            "seed": seed,
            "start_time": "1520023934.000000000",
            "topology": topology,
            "protocol": {"repair": repair},
            "workload": [
                # 40 clients moving at every server; no update after the fault ends, so that
                # nothing but repair can mend what the fault hid.
                {"generate": {"clients": 40, "rate_per_s": 100, "from_ms": 0, "to_ms": to_ms,
                              "move_km": 0.3}}
            ],
            "faults": faults,
            "expect": {"converged": False} if repair == "none"
            else {"converged": True, "converged_by_ms": repaired_by_ms},
        }
        if repair == "periodic":
            doc["protocol"]["repair_interval_ms"] = 250
        doc["about"] = about
        write(f"{doc['name']}.json", doc)


write("random-100.json", random_100())
write("grid-5x5.json", grid_5x5())
repair_pair(
    "partition", 11,
    "Holiday and Welsh are cut off from the rest for 2 s while clients move on both sides.",
    [{"at_ms": 1000, "partition": [["Holiday", "Welsh"], ["Goloman", "Hands", "Wilkes"]]},
     {"at_ms": 3000, "heal": True}],
    3100)
repair_pair(
    "crash", 12,
    "Holiday crashes and loses its store for 1.5 s (Welsh, behind it, is cut off too).",
    [{"at_ms": 1500, "crash": "Holiday", "lose_state": True},
     {"at_ms": 3000, "restart": "Holiday"}],
    3100)
repair_pair(
    "lossy", 13,
    "Every link loses 5% of its messages; no link ever goes down, so only periodic repair helps.",
    [], 4000, link_defaults={"loss": 0.05}, to_ms=3000, mode="periodic")
