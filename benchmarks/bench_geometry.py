"""Time each geometry metric and the full ``layer_metrics`` on random states: 10 languages x 100 items, 24 layers, d=896.

Times are the median of ``--repeats`` runs after a warm-up, in one process, on however many
threads torch and BLAS are given (``taskset -c 0,1`` for 2 cores).

    python benchmarks/bench_geometry.py --langs 10 --items 100 --layers 24 --dim 896
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from lasa_interp.geometry import (
    cka_by_language, cka_matrix, language_probe, layer_metrics, prepare, retrieval_hits, silhouette_samples,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--langs", type=int, default=10)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--layers", type=int, default=24)
    parser.add_argument("--dim", type=int, default=896)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    g = torch.Generator().manual_seed(0)
    langs = np.repeat(["en"] + [f"l{k}" for k in range(1, args.langs)], args.items)
    items = np.tile(np.arange(args.items), args.langs)
    states = torch.randn(args.layers, len(langs), args.dim, generator=g)
    x = prepare(states)
    runs = {
        "prepare (l2)": lambda: prepare(states),
        "prepare (standardize)": lambda: prepare(states, "standardize"),
        "silhouette, item labels": lambda: silhouette_samples(x, items),
        "silhouette, language labels": lambda: silhouette_samples(x, langs),
        "language probe + control (5-fold)": lambda: language_probe(x, langs, items),
        "CKA by language + 5 permutations": lambda: cka_by_language(x, langs, items),
        "CKA layer x layer matrix": lambda: cka_matrix(x),
        "retrieval": lambda: retrieval_hits(x, langs, items),
        "layer_metrics, all metrics, 1000 boots": lambda: layer_metrics(states, langs, items),
    }
    print(f"n={len(langs)} ({args.langs} languages x {args.items} items), {args.layers} layers, d={args.dim}, "
          f"{torch.get_num_threads()} torch threads, median of {args.repeats}")
    print("| step | seconds |\n|---|---|")
    for label, fn in runs.items():
        fn()  # warm-up
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        print(f"| {label} | {statistics.median(times):.3f} |")


if __name__ == "__main__":
    main()
