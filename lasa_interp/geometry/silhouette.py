"""Per-sample cosine silhouette for every layer at once (sklearn's definition, no pairwise loops)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from .preprocess import check_states, encode_labels, l2_normalize, one_hot


def silhouette_samples(states: torch.Tensor | np.ndarray, labels: Sequence | np.ndarray) -> torch.Tensor:
    """Silhouette ``[n_layers, n]`` of each sample under cosine distance, layer by layer.

    As ``sklearn.metrics.silhouette_samples(X, labels, metric="cosine")``: ``a`` is the mean
    distance to the other members of the sample's cluster, ``b`` the smallest mean distance to
    another cluster, ``s = (b - a) / max(a, b)``, and 0 for members of singleton clusters.
    Cosine distances to a cluster are summed through the cluster's vector sum, so the cost is
    ``O(n_layers * n * n_clusters * d)`` and no ``n x n`` matrix is built.
    """
    codes, classes = encode_labels(labels)
    x = l2_normalize(check_states(states, len(codes)))
    n, k = len(codes), len(classes)
    if not 2 <= k <= n - 1:
        raise ValueError(f"silhouette needs 2 <= number of clusters <= n - 1; got {k} clusters for {n} samples.")
    onehot = one_hot(codes, k, x.dtype)
    sizes = onehot.sum(0)
    # sum over j in cluster c of (1 - x_i . x_j), for every layer, sample i and cluster c
    dist_sums = sizes - x @ (onehot.T @ x).mT
    own = dist_sums.gather(-1, codes.expand(x.shape[0], n)[..., None])[..., 0]
    own = own - (1 - (x * x).sum(-1))  # drop the distance of each sample to itself
    own_size = sizes[codes] - 1
    a = own / own_size.clamp_min(1)
    b = (dist_sums / sizes).masked_fill(onehot.bool(), torch.inf).amin(-1)
    s = (b - a) / torch.maximum(a, b)
    return torch.where((own_size > 0) & torch.isfinite(s), s, 0.0)
