"""Refusal baseline of the raw model on MultiJail: per-language refusal / unsafe / other, and phrase vs first-token agreement.

python benchmarks/refusal_baseline.py --model qwen2.5-coder-1.5b-instruct --n-items 8
"""

from __future__ import annotations

import argparse
import time

import lasa_interp as li
from lasa_interp.evaluate import evaluate_refusal, first_token_refusal, judge_agreement, refusal_summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    parser.add_argument("--n-items", type=int, default=8, help="MultiJail prompts per language")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", default=None, help="write the per-prompt results to this CSV")
    args = parser.parse_args()

    model = li.load_model(args.model)
    prompts = li.load_multijail(n_items=args.n_items)
    start = time.perf_counter()
    results = evaluate_refusal(model, prompts, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size)
    print(f"{model.name}, {model.dtype}, greedy {args.max_new_tokens} tokens, {args.n_items} MultiJail prompts per language")
    print(f"generation + phrase judge {time.perf_counter() - start:.0f} s")
    if args.out:
        results.to_csv(args.out, index=False)
    counts = results.groupby("lang", sort=False)["outcome"].value_counts().unstack(fill_value=0)
    print(counts.reindex(columns=["refusal", "unsafe", "other"], fill_value=0).to_string())
    print(refusal_summary(results).pivot(index="lang", columns="metric", values="value").round(2).to_string())

    start = time.perf_counter()
    scores = first_token_refusal(model, prompts, batch_size=args.batch_size)
    print(f"first-token score {time.perf_counter() - start:.0f} s")
    by_lang = scores.groupby("lang", sort=False)
    print(by_lang.agg(first_token_refused=("refused", "sum"), mean_refusal_score=("refusal_score", "mean")).round(3).to_string())
    print(judge_agreement({"phrases": results, "first_token": scores}).round(3).to_string(index=False))

if __name__ == "__main__":
    main()
