"""The README's per-model bottleneck table: every bundled model, both criteria, with timings.

    python benchmarks/bottleneck_table.py --n-items 60 [--models smollm2-135m-instruct,gemma-3-270m]

States are cached once per model (last token of the raw FLORES sentence, the 10 MultiJail
languages); each criterion / preprocessing is then located on the same states.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

import lasa_interp as li
from lasa_interp.models import BUNDLED


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(BUNDLED))
    parser.add_argument("--n-items", type=int, default=60)
    parser.add_argument("--n-boot", type=int, default=200)
    args = parser.parse_args()
    rows = []
    for alias in args.models.split(","):
        model = li.load_model(alias)
        data = li.load_flores(n_items=args.n_items)
        start = time.perf_counter()
        cache = li.cache_activations(model, data, pooling="last", progress=False)
        forward = time.perf_counter() - start
        for criterion, preprocess in [("lasa", "l2"), ("lasa", "standardize"), ("combined", "l2")]:
            t0 = time.perf_counter()
            r = li.locate_bottleneck(cache, criterion=criterion, preprocess=preprocess, n_boot=args.n_boot,
                                     n_layers=model.n_layers)
            at = r.metrics[(r.metrics["layer"] == r.layer) & (r.metrics["lang"] == "all")].set_index("metric")["value"]
            rows.append({
                "model": alias, "criterion": criterion, "preprocess": preprocess,
                "layer": f"{r.layer}/{model.n_layers}", "depth": round(r.depth, 2), "stability (±1)": round(r.stability, 2),
                "LASA score": round(at["lasa"], 3), "retrieval": round(at["retrieval"], 2),
                "probe acc": round(at["probe_acc"], 2), "forward s": round(forward, 1),
                "metrics s": round(time.perf_counter() - t0, 1),
            })
        print(pd.DataFrame(rows[-3:]).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    print()
    print(table.to_markdown(index=False))


if __name__ == "__main__":
    main()
