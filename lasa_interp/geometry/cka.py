"""Linear CKA, plain or unbiased (debiased HSIC), batched over layers; per language against a pivot.

Plain CKA uses the biased HSIC ``tr(KHLH)``, which is inflated when ``n`` is small against
``d``. The unbiased estimator (Song et al. 2012; Nguyen et al. 2021) removes that bias, so
unrelated representations score about 0. Gram matrices are built in the states' dtype and
combined in float64.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import torch

from .preprocess import aligned_index, check_states


class CKAByLanguage(NamedTuple):
    """CKA ``[n_layers, n_langs]`` between the pivot's rows and each language's rows, paired by item."""

    langs: list[str]
    cka: torch.Tensor
    baseline: torch.Tensor  # the same with the item pairing shuffled, mean over permutations


def _grams(x: torch.Tensor, unbiased: bool) -> torch.Tensor:
    """Gram matrices ``[..., n, n]`` of column-centred features, float64; zero diagonal when ``unbiased``."""
    n = x.shape[-2]
    least = 4 if unbiased else 2
    if n < least:
        raise ValueError(f"{'Unbiased' if unbiased else 'Plain'} CKA needs at least {least} samples; got {n}.")
    x = x - x.mean(-2, keepdim=True)
    k = (x @ x.mT).double()
    if unbiased:
        k.diagonal(dim1=-2, dim2=-1).zero_()
    return k


def _hsic(
    dot: torch.Tensor, row_dot: torch.Tensor, sum_k: torch.Tensor, sum_l: torch.Tensor, n: int, unbiased: bool
) -> torch.Tensor:
    """HSIC from ``<K, L>``, ``<K 1, L 1>`` and the grams' sums (Song et al. 2012, eq. 5, when ``unbiased``)."""
    if not unbiased:
        return dot / (n - 1) ** 2
    return (dot + sum_k * sum_l / ((n - 1) * (n - 2)) - 2 / (n - 2) * row_dot) / (n * (n - 3))


def _hsic_paired(k: torch.Tensor, l: torch.Tensor, unbiased: bool) -> torch.Tensor:
    """HSIC of matching grams ``[..., n, n]`` (broadcast) -> ``[...]``."""
    rows_k, rows_l = k.sum(-1), l.sum(-1)
    dot = (k * l).sum((-2, -1))
    return _hsic(dot, (rows_k * rows_l).sum(-1), rows_k.sum(-1), rows_l.sum(-1), k.shape[-1], unbiased)


def _cka_paired(k: torch.Tensor, l: torch.Tensor, unbiased: bool) -> torch.Tensor:
    """CKA of matching grams; NaN where an (unbiased) self-HSIC is not positive."""
    norm = _hsic_paired(k, k, unbiased) * _hsic_paired(l, l, unbiased)
    return torch.where(norm > 0, _hsic_paired(k, l, unbiased) / norm.clamp_min(1e-300).sqrt(), torch.nan)


def cka(x: torch.Tensor | np.ndarray, y: torch.Tensor | np.ndarray, unbiased: bool = True) -> torch.Tensor:
    """Linear CKA ``[n_layers]`` between paired states ``x`` ``[n_layers, n, d_x]`` and ``y`` ``[n_layers, n, d_y]``."""
    x, y = check_states(x), check_states(y)
    if x.shape[:2] != y.shape[:2]:
        raise ValueError(f"x and y must share [n_layers, n]; got {tuple(x.shape)} and {tuple(y.shape)}.")
    return _cka_paired(_grams(x, unbiased), _grams(y, unbiased), unbiased).to(x.dtype)


def cka_matrix(states: torch.Tensor | np.ndarray, unbiased: bool = True) -> torch.Tensor:
    """Layer x layer linear CKA ``[n_layers, n_layers]`` of one set of samples."""
    states = check_states(states)
    k = _grams(states, unbiased)
    n = k.shape[-1]
    rows = k.sum(-1)
    totals = rows.sum(-1)
    flat = k.flatten(1)
    hsic = _hsic(flat @ flat.T, rows @ rows.T, totals[:, None], totals[None, :], n, unbiased)
    self_hsic = hsic.diagonal()
    norm = self_hsic[:, None] * self_hsic[None, :]
    return torch.where(norm > 0, hsic / norm.clamp_min(1e-300).sqrt(), torch.nan).to(states.dtype)


def cka_by_language(
    states: torch.Tensor | np.ndarray,
    langs: Sequence,
    items: Sequence,
    pivot: str = "en",
    unbiased: bool = True,
    n_perm: int = 5,
    seed: int = 0,
) -> CKAByLanguage:
    """CKA per layer between the ``pivot`` language's rows and every other language's rows, paired by item id.

    The baseline shuffles which pivot item is paired with which item of the other language
    (``n_perm`` permutations, the same for every layer and language) and averages; it is NaN
    when ``n_perm`` is 0.
    """
    index, names = aligned_index(langs, items)
    states = check_states(states, index.numel())
    if pivot not in names:
        raise ValueError(f"pivot {pivot!r} is not among the languages {names.tolist()}.")
    p = names.tolist().index(pivot)
    others = [k for k in range(len(names)) if k != p]
    grams = _grams(states[:, index], unbiased)  # [n_layers, n_langs, n_items, n_items]
    pivot_gram, other_grams = grams[:, p : p + 1], grams[:, others]
    values = _cka_paired(pivot_gram, other_grams, unbiased)
    generator = torch.Generator().manual_seed(seed)
    shuffled = []
    for _ in range(n_perm):
        perm = torch.randperm(index.shape[1], generator=generator)
        shuffled.append(_cka_paired(pivot_gram[..., perm, :][..., perm], other_grams, unbiased))
    baseline = torch.stack(shuffled).mean(0) if shuffled else torch.full_like(values, torch.nan)
    return CKAByLanguage([str(names[k]) for k in others], values.to(states.dtype), baseline.to(states.dtype))
