"""Distillation table: probe-gated steering at the bottleneck (teacher) vs its LoRA-distilled student, per MultiJail language.

Teacher: conditional addition of the language-pooled safety direction at ``--layer``, gated by a
safety probe trained on English at that layer (``--mode add`` for unconditional addition).
Student: ``distill_trained`` on PolyRefuse train requests (``--n-items`` per kind and language of
``--train-languages``: the MultiJail languages PolyRefuse has; vi, bn, sw and jv stay unseen).
Evaluation: held-out MultiJail harmful prompts and PolyRefuse test harmless ones
(``distill_report``); ``base_*_kl`` is the untrained model's KL to the teacher, for scale.
``--method kto``: the student is trained with the LASA recipe instead (``distill_kto``: KTO towards a
refusal where the teacher's gate fires); ``base_refusal``/``base_over_refusal`` are the untrained
model's rates.

python benchmarks/distill_table.py --threshold 0.2 --n-direction 4 --n-items 6 --n-harmful 6 --n-harmless 6 --threads 1 --out /tmp/distill.csv
python benchmarks/distill_table.py --method kto --probe-languages all --target-fpr 0.1 --n-items 4 --epochs 2 --lr 2e-4 --threads 1
"""

from __future__ import annotations

import argparse
import time

import torch

import lasa_interp as li
from lasa_interp.distill.kto import distill_kto
from lasa_interp.distill.report import distill_report, kl_by_language
from lasa_interp.distill.trained import distill_trained
from lasa_interp.evaluate import evaluate_refusal, refusal_summary

MULTIJAIL = "en,zh,it,vi,ar,ko,th,bn,sw,jv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--dtype", default="float32", help="float32 recommended: LoRA updates merged into bf16 round away")
    parser.add_argument("--layer", type=int, default=14, help="bottleneck (0-indexed block output)")
    parser.add_argument("--alpha", type=float, default=0.25, help="in units of the layer's mean activation norm")
    parser.add_argument("--mode", default="conditional", choices=("conditional", "add"))
    parser.add_argument("--method", default="trained", choices=("trained", "kto"), help="kto needs --mode conditional")
    parser.add_argument("--probe-languages", default="en", help="PolyRefuse languages the gate is trained on, or 'all'")
    parser.add_argument("--target-fpr", type=float, default=None, help="calibrate the gate's threshold (instead of --threshold)")
    parser.add_argument("--threshold", type=float, default=None, help="gate threshold (default: the probe's, 0.5)")
    parser.add_argument("--n-direction", type=int, default=8, help="train requests per kind and language (direction, probe)")
    parser.add_argument("--n-items", type=int, default=4, help="distillation requests per kind and training language")
    parser.add_argument("--train-languages", default="en,zh,it,ar,ko,th", help="PolyRefuse languages to distil on")
    parser.add_argument("--n-steps", type=int, default=None, help="default: --epochs passes")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--lora-rank", type=int, default=8)
    parser.add_argument("--train-tokens", type=int, default=24, help="max new tokens of the teacher's training continuations")
    parser.add_argument("--n-harmful", type=int, default=4, help="MultiJail prompts per language")
    parser.add_argument("--n-harmless", type=int, default=4, help="PolyRefuse test harmless requests per language")
    parser.add_argument("--eval-tokens", type=int, default=24)
    parser.add_argument("--languages", default=MULTIJAIL)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (1 is fastest on a busy machine)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="per-prompt CSV (teacher and student)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    clock = time.perf_counter()
    model = li.load_model(args.model, dtype=args.dtype)
    direction = li.safety_direction(model, args.layer, n_items=args.n_direction, seed=args.seed, batch_size=args.batch_size)
    probe = None
    if args.mode == "conditional":
        probe = li.train_safety_probe(
            model, args.layer, train_languages=None if args.probe_languages == "all" else args.probe_languages.split(","),
            n_items=2 * args.n_direction, n_eval_items=2, seed=args.seed, batch_size=args.batch_size,
            target_fpr=args.target_fpr,
        )
        print(probe.report.round(3).to_string(index=False))
    intervention = li.Intervention(direction, args.alpha, args.mode, probe=probe, threshold=args.threshold)
    print(f"{model.name} {model.dtype}; {args.mode} alpha={args.alpha} at layer {args.layer}: "
          f"direction and probe in {time.perf_counter() - clock:.0f} s", flush=True)

    clock = time.perf_counter()
    common = {
        "languages": args.train_languages.split(","), "n_items": args.n_items, "n_steps": args.n_steps,
        "epochs": args.epochs, "lora_rank": args.lora_rank, "max_new_tokens": args.train_tokens,
        "batch_size": args.batch_size, "seed": args.seed, "progress": True,
    }
    if args.method == "kto":
        student = distill_kto(model, intervention, lr=args.lr or 5e-5, **common)
        card = student.lasa_interp_card["training"]
        print(f"KTO examples: {card['n_desirable']} desirable, {card['n_undesirable']} undesirable; gate flagged "
              f"{card['n_flagged']} of {card['n_requests']} requests")
    else:
        student = distill_trained(model, intervention, lr=args.lr, **common)
    log = student.distill_log
    print(f"distilled in {time.perf_counter() - clock:.0f} s, {len(log)} steps; loss per step: "
          + " ".join(f"{x:.3f}" for x in log["loss"]), flush=True)

    clock = time.perf_counter()
    report = distill_report(
        model, intervention, student, languages=args.languages.split(","), n_harmful=args.n_harmful,
        n_harmless=args.n_harmless, seed=args.seed, max_new_tokens=args.eval_tokens, batch_size=args.batch_size,
    )
    teacher_rows = report.results[report.results["model"] == "teacher"].reset_index(drop=True)
    base = kl_by_language(model, intervention, model.hf_model, teacher_rows, args.eval_tokens, args.batch_size)
    table = report.table.join(base.add_prefix("base_"))
    if args.method == "kto":
        prompts = teacher_rows[["text", "lang", "harmful"]]
        untrained = evaluate_refusal(model, prompts, max_new_tokens=args.eval_tokens, batch_size=args.batch_size)
        rates = refusal_summary(untrained, n_boot=0).pivot(index="lang", columns="metric", values="value")
        table = table.join(rates.reindex(columns=["refusal_rate", "over_refusal"]).add_prefix("base_"))
    print(f"evaluated in {time.perf_counter() - clock:.0f} s ({args.n_harmful} harmful MultiJail + {args.n_harmless} "
          "harmless PolyRefuse test prompts per language; rates in [0, 1], KL in nats/token)")
    print(table.round(3).to_string(na_rep="-"))
    if args.out:
        report.results.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
