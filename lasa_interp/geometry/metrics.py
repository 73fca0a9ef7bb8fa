"""``layer_metrics``: every geometry metric per layer and language in one tidy DataFrame, with item-bootstrap CIs."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch

from .cka import cka_by_language
from .preprocess import aligned_index, check_states, encode_labels, one_hot, prepare
from .probe import language_probe
from .retrieval import retrieval_hits
from .silhouette import silhouette_samples

METRICS = ("silhouette", "probe", "cka", "retrieval")
COLUMNS = ["layer", "depth", "metric", "lang", "value", "ci_low", "ci_high"]


class _ItemBootstrap:
    """Means of per-row values over all rows and each language's rows, with percentile CIs from resampled items.

    Each replicate draws item ids with replacement and keeps all their rows (in every
    language), so translations of one item stay together; all metrics share the replicates.
    """

    def __init__(self, langs: np.ndarray, items: np.ndarray, n_boot: int, seed: int, level: float = 0.95) -> None:
        lang_codes, lang_names = encode_labels(langs, "langs")
        item_codes, item_names = encode_labels(items, "items")
        self.names = ["all"] + [str(name) for name in lang_names]
        everyone = torch.ones(len(lang_codes), 1, dtype=torch.float64)
        self.groups = torch.cat([everyone, one_hot(lang_codes, len(lang_names), torch.float64)], 1)  # [n, 1 + n_langs]
        self.items = one_hot(item_codes, len(item_names), torch.float64)
        rng = np.random.default_rng(seed)
        draws = rng.multinomial(len(item_names), np.full(len(item_names), 1 / len(item_names)), size=n_boot)
        self.weights = torch.from_numpy(draws).double()  # [n_boot, n_items]: times each item is drawn
        self.quantiles = torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=torch.float64)

    def __call__(self, metric: str, values: torch.Tensor | np.ndarray) -> pd.DataFrame:
        """Tidy rows (without depth) for per-row ``values`` ``[n_layers, n]``; NaN marks rows a metric does not cover."""
        values = torch.as_tensor(values).double()
        valid = ~values.isnan()
        # per layer, group and item: sum of values and number of rows
        sums = torch.einsum("ln,ng,nm->lgm", values.nan_to_num(), self.groups, self.items)
        counts = torch.einsum("ln,ng,nm->lgm", valid.double(), self.groups, self.items)
        value = sums.sum(-1) / counts.sum(-1)
        if len(self.weights):
            boot = torch.einsum("bm,lgm->blg", self.weights, sums) / torch.einsum("bm,lgm->blg", self.weights, counts)
            low, high = boot.quantile(self.quantiles, dim=0)
        else:
            low = high = torch.full_like(value, torch.nan)
        keep = counts.sum((0, 2)) > 0  # groups with at least one covered row
        return _tidy(metric, [n for n, k in zip(self.names, keep) if k], value[:, keep], low[:, keep], high[:, keep])


def _tidy(metric: str, langs: list[str], value, low=None, high=None) -> pd.DataFrame:
    """Long rows from ``[n_layers, n_langs]`` arrays; ``layer`` holds positions along the states' first axis."""
    value = np.asarray(value, dtype=np.float64)
    n_layers, n_langs = value.shape
    nan = np.full_like(value, np.nan)
    return pd.DataFrame({
        "layer": np.repeat(np.arange(n_layers), n_langs),
        "metric": metric,
        "lang": np.tile(langs, n_layers),
        "value": value.ravel(),
        "ci_low": np.asarray(nan if low is None else low, dtype=np.float64).ravel(),
        "ci_high": np.asarray(nan if high is None else high, dtype=np.float64).ravel(),
    })


def _layer_ids(layers: Sequence[int] | None, n_layers_total: int | None, n_states: int) -> tuple[np.ndarray, int]:
    """Model layer ids of the states' first axis and the model's number of layers."""
    if layers is None:
        ids = np.arange(n_states)
        total = n_states if n_layers_total is None else n_layers_total
    else:
        ids = np.asarray(layers)
        if ids.shape != (n_states,) or not np.issubdtype(ids.dtype, np.integer) or (ids < 0).any():
            raise ValueError(f"layers must be {n_states} non-negative ints, one per layer of states; got {layers!r}.")
        if n_layers_total is None:
            raise ValueError("Pass n_layers_total (the model's number of layers, e.g. model.n_layers) with layers.")
        total = n_layers_total
    if ids.max() >= total:
        raise ValueError(f"n_layers_total={total} but layers go up to {ids.max()}.")
    return ids, total


def layer_metrics(
    states: torch.Tensor | np.ndarray,
    langs: Sequence,
    items: Sequence,
    layers: Sequence[int] | None = None,
    n_layers_total: int | None = None,
    pivot: str = "en",
    preprocess: str = "l2",
    metrics: Sequence[str] = METRICS,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Language-vs-meaning geometry of ``states`` ``[n_layers, n, d]`` per layer, as a tidy DataFrame.

    ``langs`` and ``items`` give each row's language and item id; every item must appear once
    in every language. ``layers`` are the model layers of the states' first axis (default
    ``0..n_layers-1``; then pass ``n_layers_total`` too); ``depth = (layer + 1) / n_layers_total``.
    States are prepared once with ``preprocess`` (``l2``, ``standardize`` or ``center_lang``).

    Columns ``layer, depth, metric, lang, value, ci_low, ci_high``; ``lang`` is ``"all"`` on
    aggregate rows. Metrics: ``sil_meaning`` (cosine silhouette with item labels),
    ``sil_language`` (with language labels), ``lasa`` (their per-row difference; positive
    where meaning governs), ``probe_acc``, ``probe_control`` and ``probe_selectivity``
    (language ID, see :func:`language_probe`), ``cka`` and ``cka_baseline`` (unbiased CKA
    against the pivot, see :func:`cka_by_language`; ``all`` is the mean over languages) and
    ``retrieval`` (pivot -> language top-1 accuracy). CIs are 95% percentile intervals over
    ``n_boot`` resamples of items of the per-row values (for the probe and retrieval, of
    held-out correctness, with probes and nearest neighbours kept as fitted on all data).
    CKA rows have NaN CIs: a bootstrap would duplicate rows, which the unbiased estimator
    does not allow.
    """
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    unknown = [m for m in metrics if m not in METRICS]
    if unknown or not metrics:
        raise ValueError(f"Unknown or no metrics {unknown}; choose from {METRICS}.")
    index, lang_names = aligned_index(langs, items)
    if len(lang_names) < 2 or index.shape[1] < 2:
        raise ValueError(f"Need >= 2 languages and >= 2 items; got {len(lang_names)} and {index.shape[1]}.")
    if "all" in lang_names.tolist():
        raise ValueError("'all' is reserved for aggregate rows; rename that language.")
    if pivot not in lang_names and {"cka", "retrieval"} & set(metrics):
        raise ValueError(f"pivot {pivot!r} is not among the languages {lang_names.tolist()}.")
    if n_boot < 0:
        raise ValueError(f"n_boot must be >= 0, got {n_boot}.")
    langs, items = np.asarray(langs), np.asarray(items)
    x = prepare(check_states(states, len(langs)), preprocess, langs)
    layer_ids, total = _layer_ids(layers, n_layers_total, x.shape[0])
    summarise = _ItemBootstrap(langs, items, n_boot, seed)
    frames = []
    if "silhouette" in metrics:
        meaning, language = silhouette_samples(x, items), silhouette_samples(x, langs)
        frames += [
            summarise("sil_meaning", meaning), summarise("sil_language", language), summarise("lasa", meaning - language),
        ]
    if "probe" in metrics:
        probe = language_probe(x, langs, items, seed=seed)
        frames += [
            summarise("probe_acc", probe.correct),
            summarise("probe_control", probe.control_correct),
            summarise("probe_selectivity", probe.correct.astype(float) - probe.control_correct),
        ]
    if "cka" in metrics:
        result = cka_by_language(x, langs, items, pivot=pivot, seed=seed)
        for name, values in (("cka", result.cka), ("cka_baseline", result.baseline)):
            frames.append(_tidy(name, result.langs + ["all"], torch.cat([values, values.mean(1, keepdim=True)], 1)))
    if "retrieval" in metrics:
        frames.append(summarise("retrieval", retrieval_hits(x, langs, items, pivot=pivot)))
    table = pd.concat(frames, ignore_index=True)
    table["layer"] = layer_ids[table["layer"].to_numpy()]
    table.insert(1, "depth", (table["layer"] + 1) / total)
    return table[COLUMNS]
