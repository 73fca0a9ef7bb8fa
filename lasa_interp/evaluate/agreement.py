"""Agreement between judges on the same responses: raw agreement and Cohen's kappa for every pair."""

from __future__ import annotations

import itertools
import warnings
from typing import Mapping

import pandas as pd
from sklearn.metrics import cohen_kappa_score


def judge_agreement(judgements: Mapping[str, pd.DataFrame | pd.Series], column: str = "refused") -> pd.DataFrame:
    """Per pair of judges: ``n``, ``agreement`` (share of equal labels) and ``kappa`` (Cohen's) on ``column``.

    ``judgements`` maps a judge name to its output on the same responses in the same order (a
    DataFrame holding ``column``, or a Series of labels). Use ``column="refused"`` to compare any
    judges, the first-token score included, and ``column="outcome"`` for three-way judges.
    Kappa is NaN when both judges give one single label throughout.
    """
    if len(judgements) < 2:
        raise ValueError(f"Need at least two judges to compare; got {len(judgements)}.")
    labels = {}
    for name, judged in judgements.items():
        if isinstance(judged, pd.DataFrame):
            if column not in judged.columns:
                raise ValueError(f"Judge {name!r} has no {column!r} column (has {list(judged.columns)}).")
            judged = judged[column]
        labels[name] = judged.astype(str).to_numpy()
    sizes = {name: len(v) for name, v in labels.items()}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"Judges must rate the same responses in the same order; got lengths {sizes}.")
    rows = []
    for a, b in itertools.combinations(labels, 2):
        x, y = labels[a], labels[b]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            kappa = cohen_kappa_score(x, y) if len(set(x) | set(y)) > 1 else float("nan")
        rows.append((a, b, len(x), float((x == y).mean()), float(kappa)))
    return pd.DataFrame(rows, columns=["judge_a", "judge_b", "n", "agreement", "kappa"])
