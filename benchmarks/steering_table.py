"""Steering table: refusal, ASR and over-refusal under no, unconditional and probe-gated steering at the bottleneck.

Harmful prompts: MultiJail (``--n-harmful`` per language); harmless: PolyRefuse's test split
(``--n-harmless`` per language it has; no Chinese). Directions: language-pooled difference of
means on PolyRefuse train requests; gate: a safety probe trained on English at the bottleneck.

python benchmarks/steering_table.py --n-harmful 6 --n-harmless 4 --max-new-tokens 32 --out /tmp/steer.csv
"""

from __future__ import annotations

import argparse
import time
from contextlib import AbstractContextManager
from typing import Callable

import pandas as pd

import lasa_interp as li
from lasa_interp.evaluate import evaluate_refusal, refusal_summary

MULTIJAIL = "en,zh,it,vi,ar,ko,th,bn,sw,jv"
CONDITIONS = ("baseline", "conditional", "add", "add_other")


def eval_prompts(languages: list[str], n_harmful: int, n_harmless: int, seed: int) -> pd.DataFrame:
    """MultiJail harmful prompts plus PolyRefuse test harmless requests in ``languages`` it has, with a ``harmful`` column."""
    harmful = li.load_multijail(languages, n_items=n_harmful, seed=seed).assign(harmful=True)
    harmless = li.load_polyrefuse("test", "harmless", n_items=n_harmless, seed=seed)
    harmless = harmless[harmless["lang"].isin(languages)].assign(harmful=False)
    columns = ["text", "lang", "item_id", "harmful"]
    return pd.concat([harmful[columns], harmless[columns]], ignore_index=True)


def per_language(summary: pd.DataFrame) -> pd.DataFrame:
    """Wide table (language x metric) with a ``mean`` row: the unweighted mean over languages."""
    table = summary[summary["lang"] != "all"].pivot(index="lang", columns="metric", values="value")
    table = table.reindex(columns=[c for c in ("refusal_rate", "asr", "other_rate", "over_refusal") if c in table])
    table.loc["mean"] = table.mean()
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--layer", type=int, default=15, help="bottleneck (0-indexed block output)")
    parser.add_argument("--other-layer", type=int, default=6, help="comparison layer for unconditional steering")
    parser.add_argument("--alpha", type=float, default=0.25, help="in units of the layer's mean activation norm")
    parser.add_argument("--n-harmful", type=int, default=8, help="MultiJail prompts per language")
    parser.add_argument("--n-harmless", type=int, default=8, help="PolyRefuse test harmless requests per language")
    parser.add_argument("--n-train", type=int, default=16, help="train requests per kind and language (direction, probe)")
    parser.add_argument("--n-probe-eval", type=int, default=8, help="held-out requests per kind and language (probe report)")
    parser.add_argument("--languages", default=MULTIJAIL)
    parser.add_argument("--conditions", default=",".join(CONDITIONS), help=f"subset of {CONDITIONS}, in run order")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="per-prompt CSV, appended after each condition")
    args = parser.parse_args()
    conditions = args.conditions.split(",")
    if not set(conditions) <= set(CONDITIONS):
        parser.error(f"--conditions must be among {CONDITIONS}")

    start = time.perf_counter()
    model = li.load_model(args.model, dtype=args.dtype)
    print(f"{model.name}, {model.dtype}: loaded in {time.perf_counter() - start:.0f} s", flush=True)

    start = time.perf_counter()
    layers = [args.layer] + ([args.other_layer] if "add_other" in conditions else [])
    directions = li.safety_directions(model, layers, n_items=args.n_train, seed=args.seed, batch_size=args.batch_size)
    print(f"directions at layers {layers} ({args.n_train} per kind x 14 languages): {time.perf_counter() - start:.0f} s")

    start = time.perf_counter()
    probe = li.train_safety_probe(
        model, args.layer, train_languages=["en"], n_items=args.n_train, n_eval_items=args.n_probe_eval,
        seed=args.seed, batch_size=args.batch_size,
    )
    print(f"probe at layer {args.layer} (trained on en): {time.perf_counter() - start:.0f} s")
    print(probe.report.round(3).to_string(index=False), flush=True)

    bottleneck = directions[args.layer]
    interventions: dict[str, Callable[[], AbstractContextManager] | None] = {
        "baseline": None,
        "conditional": lambda: li.steer(model, bottleneck, args.alpha, mode="conditional", probe=probe),
        "add": lambda: li.steer(model, bottleneck, args.alpha, mode="add"),
        "add_other": lambda: li.steer(model, directions[args.other_layer], args.alpha, mode="add"),
    }
    prompts = eval_prompts(args.languages.split(","), args.n_harmful, args.n_harmless, args.seed)
    print(f"{int(prompts['harmful'].sum())} harmful + {int((~prompts['harmful']).sum())} harmless prompts, "
          f"greedy {args.max_new_tokens} tokens, alpha {args.alpha}", flush=True)

    tables = {}
    for k, condition in enumerate(conditions):
        start = time.perf_counter()
        results = evaluate_refusal(
            model, prompts, intervention=interventions[condition], max_new_tokens=args.max_new_tokens,
            batch_size=args.batch_size,
        ).assign(condition=condition)
        if args.out:
            results.to_csv(args.out, mode="w" if k == 0 else "a", header=k == 0, index=False)
        tables[condition] = per_language(refusal_summary(results, n_boot=0))
        print(f"\n== {condition}: {time.perf_counter() - start:.0f} s", flush=True)
        print(tables[condition].round(2).to_string(na_rep="-"), flush=True)

    means = pd.DataFrame({condition: table.loc["mean"] for condition, table in tables.items()}).T
    print("\n== mean over languages (harmful: refusal, asr, other; harmless: over_refusal)")
    print(means.round(3).to_string(na_rep="-"))


if __name__ == "__main__":
    main()
