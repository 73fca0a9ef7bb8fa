"""Steering sweeps: refusal on harmful and over-refusal on harmless prompts, per language, over layers x alpha x mode."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..directions import Direction
from ..models import LasaModel, load_model
from ..steer import Intervention
from .first_token import first_token_refusal
from .generate import InterventionLike
from .prompts import check_eval_prompts
from .refusal import Judge, evaluate_refusal
from .summary import _rate_rows, refusal_summary

SCORERS = ("first_token", "generate")
CONFIG = ("layer", "alpha", "mode")
BASELINE = "none"  # the ``mode`` of the rows without intervention


def score_prompts(
    model: Any,
    prompts: pd.DataFrame,
    intervention: InterventionLike = None,
    scorer: str = "first_token",
    judge: Judge | None = None,
    max_new_tokens: int = 48,
    batch_size: int = 16,
    chat_template: bool | str = True,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Per prompt, ``outcome`` and ``refused`` under ``intervention``, plus ``scorer``.

    ``scorer="first_token"``: :func:`first_token_refusal` (one forward pass, no generation;
    ``refusal_score``; outcome ``refusal`` or ``other``, as it cannot tell unsafe help from
    other replies). ``"generate"``: :func:`evaluate_refusal` with ``judge`` (default: phrases).
    """
    if scorer not in SCORERS:
        raise ValueError(f"Unknown scorer {scorer!r}; choose from {SCORERS}.")
    if scorer == "first_token":
        if judge is not None:
            raise ValueError("judge= reads generated replies: use it with scorer='generate', or drop it.")
        scored = first_token_refusal(model, prompts, intervention, batch_size=batch_size, chat_template=chat_template)
        scored = scored.assign(outcome=np.where(scored["refused"], "refusal", "other"))
    else:
        scored = evaluate_refusal(
            model, prompts, intervention, judge, max_new_tokens, batch_size, chat_template, progress=progress
        )
    return scored.assign(scorer=scorer)


def _configurations(
    model: LasaModel, directions: Direction | Mapping[int, Direction], layers: int | Sequence[int] | None,
    alphas: float | Sequence[float], modes: str | Sequence[str], probe: Any, threshold: float | None, positions: str,
) -> list[tuple[int, float, str, Intervention]]:
    """Every ``(layer, alpha, mode, intervention)`` to run, all checked before any runs (ablate: once per layer, alpha NaN)."""
    by_layer = {directions.layer: directions} if isinstance(directions, Direction) else dict(directions)
    if not by_layer or not all(isinstance(d, Direction) for d in by_layer.values()):
        raise TypeError("directions must be a Direction or a non-empty {layer: Direction} dict (li.safety_directions).")
    chosen = model.resolve_layers(sorted(by_layer) if layers is None else layers)
    wanted = {model.resolve_layers(key)[0]: d for key, d in by_layer.items()}
    missing = [layer for layer in chosen if layer not in wanted]
    if missing:
        raise ValueError(
            f"No direction for layer(s) {missing} (directions at {sorted(wanted)}); compute them with "
            f"li.safety_directions(model, layers={chosen})."
        )
    alphas = [alphas] if isinstance(alphas, (int, float)) else list(alphas)
    modes = [modes] if isinstance(modes, str) else list(modes)
    if not alphas or not modes:
        raise ValueError(f"Give at least one alpha and one mode; got alphas={alphas!r}, modes={modes!r}.")
    runs = []
    for layer in chosen:
        for mode in dict.fromkeys(modes):
            for alpha in [math.nan] if mode == "ablate" else alphas:
                steering = Intervention(wanted[layer], 0.0 if mode == "ablate" else alpha, mode, layer, positions, probe,
                                        threshold)  # checks alpha, mode and the gate
                runs.append((layer, float(alpha), mode, steering))
    return runs


def sweep_prompts(
    model: Any,
    directions: Direction | Mapping[int, Direction],
    prompts: pd.DataFrame,
    layers: int | Sequence[int] | None = None,
    alphas: float | Sequence[float] = (0.0, 0.1, 0.25),
    modes: str | Sequence[str] = ("add", "conditional"),
    probe: Any = None,
    threshold: float | None = None,
    positions: str = "all",
    scorer: str = "first_token",
    judge: Judge | None = None,
    max_new_tokens: int = 48,
    batch_size: int = 16,
    chat_template: bool | str = True,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Per-prompt scores without intervention and under ``steer`` at every layer x alpha x mode.

    ``directions``: one :class:`Direction` or ``{layer: Direction}`` (``li.safety_directions``);
    the direction of each layer is steered at that layer. ``layers`` defaults to every layer
    with a direction. ``prompts``: a DataFrame with ``text``, ``lang`` and ``harmful``
    (:func:`eval_prompts`). ``probe``/``threshold``: the gate of ``mode="conditional"``.
    ``ablate`` ignores alpha and runs once per layer (alpha NaN). Rows: ``layer`` (``<NA>``
    for the baseline), ``alpha``, ``mode`` (``"none"`` for the baseline), the prompt's
    columns and :func:`score_prompts`' columns. Summarise with :func:`sweep_summary`.
    """
    model = model if isinstance(model, LasaModel) else load_model(model)
    prompts = check_eval_prompts(prompts)
    runs = _configurations(model, directions, layers, alphas, modes, probe, threshold, positions)
    options = dict(scorer=scorer, judge=judge, max_new_tokens=max_new_tokens, batch_size=batch_size,
                   chat_template=chat_template, progress=False)
    frames = [score_prompts(model, prompts, **options).assign(layer=pd.NA, alpha=0.0, mode=BASELINE)]
    show = progress if progress is not None else len(runs) * len(prompts) >= 512
    for layer, alpha, mode, intervention in tqdm(runs, desc="sweep", unit="setting", disable=not show):
        frames.append(score_prompts(model, prompts, intervention, **options).assign(layer=layer, alpha=alpha, mode=mode))
    out = pd.concat(frames, ignore_index=True)
    out["layer"] = out["layer"].astype("Int64")
    return out[[*CONFIG, *[c for c in out.columns if c not in CONFIG]]]


def sweep_summary(results: pd.DataFrame, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Tidy rates per setting and language: ``layer, alpha, mode, lang, metric, n, value, ci_low, ci_high``.

    Metrics as :func:`refusal_summary` (``refusal_rate``/``asr``/``other_rate`` on harmful
    rows, ``over_refusal`` on harmless ones); with the first-token scorer ``asr`` and
    ``other_rate`` are left out (it cannot tell them apart) and the mean ``refusal_score`` on
    harmful and ``over_refusal_score`` on harmless rows are added. Settings are the ``layer,
    alpha, mode`` columns present (none: one setting, e.g. a plain :func:`score_prompts` run).
    """
    results = check_eval_prompts(results)
    config = [c for c in CONFIG if c in results.columns]
    groups = results.groupby(config, dropna=False, sort=False) if config else [((), results)]
    parts = []
    for key, part in groups:
        summary = _with_scores(refusal_summary(part, n_boot=n_boot, level=level, seed=seed), part, n_boot, level, seed)
        parts.append(summary.assign(**dict(zip(config, key if isinstance(key, tuple) else (key,)))))
    out = pd.concat(parts, ignore_index=True)
    if "layer" in out:
        out["layer"] = out["layer"].astype("Int64")
    return out[[*config, *[c for c in out.columns if c not in config]]]


def _with_scores(summary: pd.DataFrame, part: pd.DataFrame, n_boot: int, level: float, seed: int) -> pd.DataFrame:
    """First-token results: drop ``asr``/``other_rate``, add mean refusal scores per language (and ``all``)."""
    if set(part.get("scorer", ())) != {"first_token"}:
        return summary
    rng = np.random.default_rng(seed)
    rows = []
    for lang in [*dict.fromkeys(part["lang"]), "all"]:
        rows_of = part if lang == "all" else part[part["lang"] == lang]
        for metric, flag in (("refusal_score", True), ("over_refusal_score", False)):
            scores = rows_of.loc[rows_of["harmful"] == flag, "refusal_score"].to_numpy(float)
            if len(scores):
                rows.append(_rate_rows(lang, metric, scores, n_boot, level, rng))
    scores = pd.DataFrame(rows, columns=summary.columns)
    return pd.concat([summary[~summary["metric"].isin(["asr", "other_rate"])], scores], ignore_index=True)


def sweep(
    model: Any,
    directions: Direction | Mapping[int, Direction],
    prompts: pd.DataFrame,
    n_boot: int = 1000,
    seed: int = 0,
    **options: Any,
) -> pd.DataFrame:
    """:func:`sweep_summary` of :func:`sweep_prompts` (``options``: its ``layers``, ``alphas``, ``modes``, ``probe``,
    ``scorer``, ...): one tidy row per setting, language and metric; plot with ``lasa_interp.plots.pareto_plot``."""
    return sweep_summary(sweep_prompts(model, directions, prompts, **options), n_boot=n_boot, seed=seed)
