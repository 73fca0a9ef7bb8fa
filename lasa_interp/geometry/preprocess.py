"""Validate geometry inputs and prepare states: L2, per-dimension z-scores, or language centring."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

MODES = ("l2", "standardize", "center_lang")


def check_states(states: torch.Tensor | np.ndarray, n: int | None = None) -> torch.Tensor:
    """``states`` as a finite float32/float64 tensor ``[n_layers, n, d]`` (with ``n`` rows when given)."""
    states = torch.as_tensor(states)
    if states.ndim != 3:
        raise ValueError(f"states must be [n_layers, n, d]; got shape {tuple(states.shape)}.")
    if n is not None and states.shape[1] != n:
        raise ValueError(f"states has {states.shape[1]} rows but there are {n} labels; they must match one to one.")
    if states.dtype not in (torch.float32, torch.float64):
        states = states.float()
    if not torch.isfinite(states.sum()) and not torch.isfinite(states).all():  # the sum is the fast path
        raise ValueError("states contain NaN or inf; check the model's dtype (float16 overflows) or the cache.")
    return states


def encode_labels(labels: Sequence | np.ndarray, name: str = "labels") -> tuple[torch.Tensor, np.ndarray]:
    """Integer codes ``[n]`` and the sorted distinct values of a 1-D label array."""
    values = np.asarray(labels)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array; got shape {values.shape}.")
    classes, codes = np.unique(values, return_inverse=True)
    return torch.from_numpy(codes.astype(np.int64)), classes


def one_hot(codes: torch.Tensor, n_classes: int, dtype: torch.dtype) -> torch.Tensor:
    """``[n, n_classes]`` 0/1 matrix of integer ``codes``."""
    return torch.nn.functional.one_hot(codes, n_classes).to(dtype)


def aligned_index(langs: Sequence, items: Sequence) -> tuple[torch.Tensor, np.ndarray]:
    """Row index ``[n_langs, n_items]`` of each (language, item), and the languages; every pair must occur once."""
    lang_codes, lang_names = encode_labels(langs, "langs")
    item_codes, item_names = encode_labels(items, "items")
    if len(lang_codes) != len(item_codes):
        raise ValueError(f"langs has {len(lang_codes)} entries but items has {len(item_codes)}.")
    n_langs, n_items = len(lang_names), len(item_names)
    if len(lang_codes) != n_langs * n_items or len(set(zip(lang_codes.tolist(), item_codes.tolist()))) != len(lang_codes):
        raise ValueError(
            f"Data must be aligned: each of the {n_items} items exactly once in each of the {n_langs} languages "
            f"({n_langs * n_items} rows); got {len(lang_codes)} rows."
        )
    index = torch.empty(n_langs, n_items, dtype=torch.long)
    index[lang_codes, item_codes] = torch.arange(len(lang_codes))
    return index, lang_names


def l2_normalize(states: torch.Tensor) -> torch.Tensor:
    """Each vector scaled to unit L2 norm (zero vectors stay zero)."""
    return states / states.norm(dim=-1, keepdim=True).clamp_min(torch.finfo(states.dtype).tiny)


def prepare(states: torch.Tensor | np.ndarray, mode: str = "l2", langs: Sequence | None = None) -> torch.Tensor:
    """Prepared, L2-normalised states ``[n_layers, n, d]``.

    ``l2``: cosine geometry. ``standardize``: z-score each dimension per layer over the
    samples first (a few outlier dimensions can hold half the variance and hide the meaning
    signal). ``center_lang``: subtract each language's mean per layer first (needs ``langs``).
    """
    if mode not in MODES:
        raise ValueError(f"Unknown preprocess mode {mode!r}; choose from {MODES}.")
    states = check_states(states)
    if mode == "standardize":
        std = states.std(dim=1, keepdim=True)
        states = (states - states.mean(dim=1, keepdim=True)) / torch.where(std > 0, std, 1.0)
    elif mode == "center_lang":
        if langs is None:
            raise ValueError("preprocess mode 'center_lang' needs langs.")
        codes, names = encode_labels(langs, "langs")
        if len(codes) != states.shape[1]:
            raise ValueError(f"states has {states.shape[1]} rows but langs has {len(codes)} entries.")
        onehot = one_hot(codes, len(names), states.dtype)
        means = onehot.T @ states / onehot.sum(0)[:, None]
        states = states - means[:, codes]
    return l2_normalize(states)
