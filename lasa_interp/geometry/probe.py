"""Linear language-ID probe per layer, cross-validated by item, with a shuffled-label control."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from .preprocess import check_states, encode_labels


@dataclass(frozen=True)
class ProbeResult:
    """Held-out correctness ``[n_layers, n]`` of the language probe and of the same probe on shuffled labels."""

    correct: np.ndarray
    control_correct: np.ndarray
    langs: np.ndarray

    @property
    def accuracy(self) -> np.ndarray:
        """Cross-validated accuracy ``[n_layers]``."""
        return self.correct.mean(1)

    @property
    def control(self) -> np.ndarray:
        """Accuracy ``[n_layers]`` of the probe trained and scored on permuted language labels."""
        return self.control_correct.mean(1)

    @property
    def selectivity(self) -> np.ndarray:
        """Accuracy minus control ``[n_layers]``: what the probe reads from the states, not from its capacity."""
        return self.accuracy - self.control

    def by_language(self) -> dict[str, np.ndarray]:
        """Accuracy ``[n_layers]`` on each language's rows."""
        return {str(lang): self.correct[:, self.langs == lang].mean(1) for lang in np.unique(self.langs)}


def _whitened_pca(
    train: torch.Tensor, test: torch.Tensor, n_components: int, generator: torch.Generator, n_iter: int = 2
) -> tuple[torch.Tensor, torch.Tensor]:
    """Project ``[n_layers, n, d]`` train and test rows on the top principal axes of the train rows, at unit variance.

    The axes come from a randomized subspace iteration (Halko et al. 2011) batched over layers,
    about 7x faster than a full SVD and exact enough for a probe.
    """
    mean = train.mean(1, keepdim=True)
    x = train - mean
    k = min(n_components, x.shape[1] - 1, x.shape[2])
    sketch = torch.randn(x.shape[0], x.shape[2], min(k + 10, *x.shape[1:]), generator=generator, dtype=x.dtype)
    q = torch.linalg.qr(x @ sketch).Q
    for _ in range(n_iter):
        q = torch.linalg.qr(x @ torch.linalg.qr(x.mT @ q).Q).Q
    _, s, vh = torch.linalg.svd(q.mT @ x, full_matrices=False)
    scale = s[:, :k].clamp_min(s[:, :1] * 1e-6) / (x.shape[1] - 1) ** 0.5
    project = vh[:, :k].mT / scale[:, None, :]
    return x @ project, (test - mean) @ project


def language_probe(
    states: torch.Tensor | np.ndarray,
    langs: Sequence,
    items: Sequence,
    n_splits: int = 5,
    n_components: int = 64,
    C: float = 1.0,
    max_iter: int = 300,
    seed: int = 0,
) -> ProbeResult:
    """Logistic-regression language ID per layer, ``GroupKFold`` by item (translations never straddle train and test).

    In each fold the states are reduced to ``n_components`` whitened principal axes fitted
    on the train rows only (all layers in one batched SVD). The control runs the same folds
    on a random permutation of the language labels; ``selectivity = accuracy - control``.
    """
    y, names = encode_labels(langs, "langs")
    groups, item_names = encode_labels(items, "items")
    states = check_states(states, len(y))
    if len(groups) != len(y):
        raise ValueError(f"langs has {len(y)} entries but items has {len(groups)}.")
    if len(names) < 2 or len(item_names) < 2:
        raise ValueError(f"The probe needs >= 2 languages and >= 2 items; got {len(names)} and {len(item_names)}.")
    y = y.numpy()
    control_y = np.random.default_rng(seed).permutation(y)
    generator = torch.Generator().manual_seed(seed)
    predictions = {"real": np.empty(states.shape[:2], dtype=np.int64), "control": np.empty(states.shape[:2], dtype=np.int64)}
    folds = GroupKFold(n_splits=min(n_splits, len(item_names))).split(y, groups=groups.numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a probe on shuffled labels need not converge
        for train, test in folds:
            z_train, z_test = (z.numpy() for z in _whitened_pca(states[:, train], states[:, test], n_components, generator))
            for target, name in ((y, "real"), (control_y, "control")):
                for layer in range(states.shape[0]):
                    probe = LogisticRegression(C=C, max_iter=max_iter).fit(z_train[layer], target[train])
                    predictions[name][layer, test] = probe.predict(z_test[layer])
    return ProbeResult(predictions["real"] == y, predictions["control"] == control_y, names[y])
