"""Per-layer bottleneck scores from per-sample contributions, so that a bootstrap over items can redo them."""

from __future__ import annotations

import numpy as np
import torch

from ..geometry import prepare, silhouette_samples

CRITERIA = ("lasa", "combined")


def check_criterion(criterion: str) -> str:
    """Validate the criterion name."""
    if criterion not in CRITERIA:
        raise ValueError(f"Unknown criterion {criterion!r}; choose from {CRITERIA}.")
    return criterion


def lasa_samples(states: torch.Tensor, langs: np.ndarray, items: np.ndarray, preprocess: str = "l2") -> torch.Tensor:
    """Per-sample LASA score ``[n_layers, n]``: silhouette with item labels minus silhouette with language labels."""
    x = prepare(states, preprocess, langs=langs)
    meaning = silhouette_samples(x, items)
    language = silhouette_samples(x, langs)
    return meaning - language


def _minmax(curve: np.ndarray) -> np.ndarray:
    span = curve.max() - curve.min()
    return (curve - curve.min()) / span if span > 0 else np.zeros_like(curve)


def combine(curves: dict[str, np.ndarray]) -> np.ndarray:
    """The combined criterion: the mean of min-max normalised curves (higher = more meaning-governed).

    Expects ``lasa`` and any of ``retrieval``, ``cka`` (higher is better) and ``probe_acc``
    (lower is better: language is less linearly decodable).
    """
    parts = [_minmax(curves["lasa"])]
    parts += [_minmax(curves[k]) for k in ("retrieval", "cka") if k in curves]
    if "probe_acc" in curves:
        parts.append(_minmax(-curves["probe_acc"]))
    return np.mean(parts, axis=0)


def bootstrap_layers(
    samples: torch.Tensor, items: np.ndarray, fixed: dict[str, np.ndarray], criterion: str, n_boot: int, seed: int
) -> np.ndarray:
    """Chosen layer positions over ``n_boot`` resamples of items (with replacement) of the per-sample LASA scores.

    ``fixed`` holds the other curves of the combined criterion, kept as measured.
    """
    rng = np.random.default_rng(seed)
    uniq, inverse = np.unique(items, return_inverse=True)
    # counts[b, i]: how often item i was drawn in resample b; each sample weighs as its item.
    counts = np.stack([np.bincount(rng.integers(0, len(uniq), len(uniq)), minlength=len(uniq)) for _ in range(n_boot)])
    weights = torch.as_tensor(counts[:, inverse], dtype=samples.dtype)  # [n_boot, n]
    curves = (weights @ samples.T / weights.sum(1, keepdim=True)).numpy()  # [n_boot, n_layers]
    if criterion == "lasa":
        return curves.argmax(1)
    return np.array([combine({**fixed, "lasa": c}).argmax() for c in curves])
