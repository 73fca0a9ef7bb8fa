"""Steering table: refusal, ASR and over-refusal under no, unconditional and probe-gated steering, per language.

Harmful prompts: MultiJail (``--n-harmful`` per language); harmless: PolyRefuse's test split
(``--n-harmless`` per language it has: not zh, vi, bn, sw, jv). Directions: language-pooled
difference of means on PolyRefuse train requests, at every layer a condition steers; gate: a
safety probe at ``--layer`` trained on ``--probe-languages`` with its threshold calibrated to
``--target-fpr`` on held-out folds of the training requests. A condition is ``baseline`` or
``MODE@LAYER`` (MODE ``add`` or ``conditional``; the gate stays at ``--layer``).

python benchmarks/steering_table.py --n-harmful 6 --n-harmless 4 --max-new-tokens 32 --out /tmp/steer.csv
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

import lasa_interp as li
from lasa_interp.cache import cache_activations
from lasa_interp.data import POLYREFUSE_LANGUAGES
from lasa_interp.evaluate import eval_prompts, evaluate_refusal, refusal_summary

MULTIJAIL = "en,zh,it,vi,ar,ko,th,bn,sw,jv"


def per_language(summary: pd.DataFrame) -> pd.DataFrame:
    """Wide table (language x metric) with a ``mean`` row: the unweighted mean over languages."""
    table = summary[summary["lang"] != "all"].pivot(index="lang", columns="metric", values="value")
    table = table.reindex(columns=[c for c in ("refusal_rate", "asr", "other_rate", "over_refusal") if c in table])
    table.loc["mean"] = table.mean()
    return table


def parse_condition(condition: str) -> tuple[str, int | None]:
    """``baseline`` -> (baseline, None); ``add@15`` -> (add, 15)."""
    if condition == "baseline":
        return condition, None
    mode, _, layer = condition.partition("@")
    if mode not in ("add", "conditional") or not layer.lstrip("-").isdigit():
        raise ValueError(f"Unknown condition {condition!r}: use baseline, add@LAYER or conditional@LAYER.")
    return mode, int(layer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--layer", type=int, default=15, help="bottleneck (0-indexed block output): gate layer")
    parser.add_argument("--conditions", default="baseline,conditional@15,add@15,conditional@8,conditional@22")
    parser.add_argument("--alpha", type=float, default=0.25, help="in units of the layer's mean activation norm")
    parser.add_argument("--n-harmful", type=int, default=8, help="MultiJail prompts per language")
    parser.add_argument("--n-harmless", type=int, default=8, help="PolyRefuse test harmless requests per language")
    parser.add_argument("--n-train", type=int, default=24, help="train requests per kind and language (direction, probe)")
    parser.add_argument("--n-probe-eval", type=int, default=8, help="held-out requests per kind and language (probe report)")
    parser.add_argument("--probe-languages", default="all", help="languages the gate is trained on ('all': PolyRefuse's 14)")
    parser.add_argument("--target-fpr", type=float, default=0.05, help="gate threshold: this share of harmless training requests flagged")
    parser.add_argument("--languages", default=MULTIJAIL)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="per-prompt CSV, appended after each condition")
    args = parser.parse_args()
    conditions = [parse_condition(c) for c in args.conditions.split(",")]
    probe_languages = list(POLYREFUSE_LANGUAGES) if args.probe_languages == "all" else args.probe_languages.split(",")

    start = time.perf_counter()
    model = li.load_model(args.model, dtype=args.dtype)
    print(f"{model.name}, {model.dtype}: loaded in {time.perf_counter() - start:.0f} s", flush=True)

    start = time.perf_counter()
    layers = sorted({layer for _, layer in conditions if layer is not None})
    directions = li.safety_directions(model, layers, n_items=args.n_train, seed=args.seed, batch_size=args.batch_size)
    print(f"directions at layers {layers} ({args.n_train} per kind and language): {time.perf_counter() - start:.0f} s")

    start = time.perf_counter()
    probe = li.train_safety_probe(
        model, args.layer, train_languages=probe_languages, n_items=args.n_train, n_eval_items=args.n_probe_eval,
        target_fpr=args.target_fpr, seed=args.seed, batch_size=args.batch_size,
    )
    print(f"gate at layer {args.layer} (trained on {','.join(probe_languages)}; threshold {probe.threshold:.3f} "
          f"for {args.target_fpr:.0%} false positives): {time.perf_counter() - start:.0f} s")
    print(probe.report.round(3).to_string(index=False), flush=True)

    prompts = eval_prompts(args.languages.split(","), args.n_harmful, args.n_harmless, args.seed)
    states = cache_activations(model, prompts, layers=[args.layer], pooling="last", chat_template=True,
                               batch_size=args.batch_size, progress=False)
    flagged = prompts.assign(flagged=probe.flags(states.at(args.layer)).numpy())
    rates = flagged.pivot_table(index="lang", columns="harmful", values="flagged", aggfunc="mean")
    print("\ngate flag rate on the evaluation prompts (True: harmful = recall; False: harmless = false positives)")
    print(rates.round(2).to_string(na_rep="-"), flush=True)
    print(f"{int(prompts['harmful'].sum())} harmful + {int((~prompts['harmful']).sum())} harmless prompts, "
          f"greedy {args.max_new_tokens} tokens, alpha {args.alpha}", flush=True)

    tables = {}
    for k, (mode, layer) in enumerate(conditions):
        name = mode if layer is None else f"{mode}@{layer}"
        intervention = None if layer is None else li.steer(
            model, directions[layer], args.alpha, mode=mode, probe=probe if mode == "conditional" else None,
        )
        start = time.perf_counter()
        results = evaluate_refusal(
            model, prompts, intervention=intervention, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size,
        ).assign(condition=name)
        if args.out:
            results.to_csv(args.out, mode="w" if k == 0 else "a", header=k == 0, index=False)
        tables[name] = per_language(refusal_summary(results, n_boot=0))
        print(f"\n== {name}: {time.perf_counter() - start:.0f} s", flush=True)
        print(tables[name].round(2).to_string(na_rep="-"), flush=True)

    means = pd.DataFrame({name: table.loc["mean"] for name, table in tables.items()}).T
    print("\n== mean over languages (harmful: refusal, asr, other; harmless: over_refusal)")
    print(means.round(3).to_string(na_rep="-"))


if __name__ == "__main__":
    main()
