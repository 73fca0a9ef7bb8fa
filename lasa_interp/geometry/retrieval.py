"""Pivot -> language top-1 retrieval by cosine nearest neighbour, batched over layers and languages."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from .preprocess import aligned_index, check_states, l2_normalize


def retrieval_hits(states: torch.Tensor | np.ndarray, langs: Sequence, items: Sequence, pivot: str = "en") -> torch.Tensor:
    """Per-row hits ``[n_layers, n]``: 1.0 where the pivot row of this row's item retrieves it, else 0.0; NaN on pivot rows.

    For each layer and each other language, every pivot row queries that language's rows;
    the query succeeds when its cosine nearest neighbour has the same item id.
    """
    index, names = aligned_index(langs, items)
    states = l2_normalize(check_states(states, index.numel()))
    if pivot not in names:
        raise ValueError(f"pivot {pivot!r} is not among the languages {names.tolist()}.")
    p = names.tolist().index(pivot)
    aligned = states[:, index]  # [n_layers, n_langs, n_items, d]
    sims = aligned[:, p : p + 1] @ aligned.mT  # [n_layers, n_langs, query item, candidate item]
    hits = (sims.argmax(-1) == torch.arange(index.shape[1])).to(states.dtype)
    hits[:, p] = torch.nan
    out = torch.empty(states.shape[:2], dtype=states.dtype)
    out[:, index.flatten()] = hits.flatten(1)
    return out


def retrieval_accuracy(
    states: torch.Tensor | np.ndarray, langs: Sequence, items: Sequence, pivot: str = "en"
) -> dict[str, torch.Tensor]:
    """Top-1 accuracy ``[n_layers]`` of pivot -> language retrieval, for each language other than the pivot."""
    hits = retrieval_hits(states, langs, items, pivot)
    langs = np.asarray(langs)
    return {str(lang): hits[:, langs == lang].mean(1) for lang in np.unique(langs) if lang != pivot}
