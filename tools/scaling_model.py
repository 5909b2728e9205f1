#!/usr/bin/python3
"""scaling_model.py -- the tables of docs/SCALING.md ("Several machines"): data-parallel
Self-MM on N machines, compute per accumulation window against a ring allreduce.

  window(N, b) = W * t(b) + T_ar(N)        W = update_epochs = 4 batches
  T_ar(N)      = 2 (N-1)/N * S / B  +  (N-1)/N * G  +  2 (N-1) * alpha
  efficiency   = W * t(B_global) / N / window(N, B_global / N)   (strong scaling)
               = W * t(b) / window(N, b)                         (per-rank batch b)

t(b) is one machine's training step (forward + loss + backward) on b samples, measured
with `selfmm-cli bench --preset sims --batch b` (2 threads); between measured sizes it
is interpolated linearly. S is the gradient arena in bytes, B the link's bandwidth
(Gb/s / 8), G the time one machine takes to add S bytes once (memory-bound; measured
with `mpirun -np 2 selfmm-cli bench` over shared memory, see the doc), alpha the
latency of one message. No overlap of the allreduce with compute: Adam needs the sum
before the next window's first forward.

Usage: tools/scaling_model.py [--arena FLOATS] [--add-s G] [--step b=seconds ...]
(defaults: the figures in docs/SCALING.md). Prints Markdown tables.
"""
import argparse
import math

LINKS = [10, 25, 100]          # Gb/s
NS = [1, 2, 4, 8, 16, 32, 64]


def pct(x):
    """A percentage rounded down, so that 89.6% never reads as 90%."""
    return f"{math.floor(x * 100 + 1e-9)}%"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arena", type=float, default=110e6,
                    help="gradient arena in floats (bert-base-uncased: 109,689,280; "
                         "bert-base-chinese: 102,649,088)")
    ap.add_argument("--add-s", type=float, default=0.12,
                    help="seconds to add the arena once on one machine (G)")
    ap.add_argument("--alpha", type=float, default=30e-6, help="latency of one message (s)")
    ap.add_argument("--window", type=int, default=4, help="batches per optimizer step")
    ap.add_argument("--step", action="append", default=[],
                    help="b=seconds: measured training step of b samples (repeatable)")
    a = ap.parse_args()
    # docs/SCALING.md: the shape of t(b) measured on one thread, scaled to the
    # README's 3.2 s for a batch of 32 on 2 threads
    steps = {1: 0.20, 2: 0.29, 4: 0.47, 8: 0.87, 16: 1.65, 32: 3.20}
    if a.step:
        steps = {int(k): float(v) for k, v in (s.split("=") for s in a.step)}
    S = a.arena * 4
    W = a.window
    sizes = sorted(steps)

    def t(b):
        if b in steps:
            return steps[b]
        lo = max([s for s in sizes if s < b], default=sizes[0])
        hi = min([s for s in sizes if s > b], default=sizes[-1])
        if lo == hi:
            return steps[lo] * b / lo
        return steps[lo] + (steps[hi] - steps[lo]) * (b - lo) / (hi - lo)

    def t_ar(n, gbps):
        if n == 1:
            return 0.0
        return 2 * (n - 1) / n * S / (gbps / 8 * 1e9) + (n - 1) / n * a.add_s + 2 * (n - 1) * a.alpha

    print(f"Arena {S / 1e6:.0f} MB, window {W} batches, G = {a.add_s} s, alpha = {a.alpha * 1e6:.0f} us\n")
    print("Ring allreduce of the gradient arena (s):\n")
    print("| N | " + " | ".join(f"{g} Gb/s" for g in LINKS) + " |")
    print("|---|" + "---|" * len(LINKS))
    for n in NS[1:]:
        print(f"| {n} | " + " | ".join(f"{t_ar(n, g):.3f}" for g in LINKS) + " |")

    print("\nStrong scaling at the reference's global batch of 32 (window time, efficiency):\n")
    print("| N | per-rank batch | compute per window | " + " | ".join(f"{g} Gb/s" for g in LINKS) + " |")
    print("|---|---|---|" + "---|" * len(LINKS))
    for n in NS:
        if n > 32:
            print(f"| {n} | — | — | " + " | ".join("—" for _ in LINKS) + " |")
            continue
        b = math.ceil(32 / n)
        comp = W * t(b)
        cells = []
        for g in LINKS:
            tw = comp + t_ar(n, g)
            cells.append(f"{tw:.2f} s, {pct(W * t(32) / n / tw)}")
        print(f"| {n} | {b} | {comp:.2f} s | " + " | ".join(cells) + " |")

    print("\nA larger global batch (N x b, b per rank; other hyper-parameters, other results):")
    print("efficiency W t(b) / (W t(b) + T_ar(N)), per link\n")
    for g in LINKS:
        print(f"{g} Gb/s:\n")
        print("| N | " + " | ".join(f"b = {b}" for b in sizes) + " |")
        print("|---|" + "---|" * len(sizes))
        for n in NS[1:]:
            print(f"| {n} | " + " | ".join(f"{pct(W * t(b) / (W * t(b) + t_ar(n, g)))}" for b in sizes) + " |")
        print()

    print("Smallest measured per-rank batch that keeps 80% / 90% at N = 64:\n")
    print("| link | >= 80% | >= 90% |")
    print("|---|---|---|")
    for g in LINKS:
        ar = t_ar(64, g)
        cells = []
        for e in (0.8, 0.9):
            ok = [b for b in sizes if W * t(b) / (W * t(b) + ar) >= e]
            cells.append(f"b >= {ok[0]}" if ok else f"none up to {sizes[-1]}")
        print(f"| {g} Gb/s | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
