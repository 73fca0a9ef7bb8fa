"""Judge agreement on the same outputs: the phrase judge vs a model judge (default: the bundled 1.5B model).

Reads the per-prompt CSV of ``benchmarks/steering_table.py`` (``text, lang, response, outcome``
and ``condition``), draws ``--n`` responses per condition, has the model judge read them and
prints agreement and Cohen's kappa per language and overall, on ``refused`` and on the
three-way ``outcome``. A weak local judge measures consistency, not truth: read a sample.

python benchmarks/judge_agreement.py --responses /tmp/steer.csv --n 40
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from lasa_interp.evaluate import ModelJudge, judge_agreement


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", required=True, help="per-prompt CSV written by steering_table.py --out")
    parser.add_argument("--judge", default="qwen2.5-coder-1.5b-instruct", help="bundled alias, HF id or path")
    parser.add_argument("--n", type=int, default=40, help="responses per condition")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="CSV of both judges' verdicts per response")
    args = parser.parse_args()

    frame = pd.read_csv(args.responses, keep_default_na=False)
    sample = frame.groupby("condition", group_keys=False).apply(
        lambda g: g.sample(min(args.n, len(g)), random_state=args.seed)
    ).reset_index(drop=True)
    start = time.perf_counter()
    judged = ModelJudge(args.judge, batch_size=args.batch_size)(sample["response"].tolist(), sample["text"].tolist())
    print(f"{len(sample)} responses judged by {args.judge} in {time.perf_counter() - start:.0f} s "
          f"({(~judged['parsed']).sum()} answers named no outcome)")
    both = sample.assign(model_outcome=judged["outcome"].to_numpy(), model_refused=judged["refused"].to_numpy())
    if args.out:
        both.to_csv(args.out, index=False)

    rows = []
    for lang, group in [("all", both), *both.groupby("lang")]:
        for column in ("refused", "outcome"):
            pair = {"phrases": group[column], "model": group[f"model_{column}"]}
            rows.append(judge_agreement(pair).assign(lang=lang, column=column))
    table = pd.concat(rows, ignore_index=True)[["column", "lang", "n", "agreement", "kappa"]]
    print(table.round(2).to_string(index=False))
    print("\nconfusion (rows: phrase judge, columns: model judge)")
    print(pd.crosstab(both["outcome"], both["model_outcome"]).to_string())


if __name__ == "__main__":
    main()
