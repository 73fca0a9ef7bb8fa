"""The safety interpreter (the paper's SSI): a harmful-vs-harmless probe on one layer's prompt states.

Trained on some languages, evaluated on held-out requests (disjoint item ids) in all of them:
at the semantic bottleneck a probe should transfer to languages it never saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold, cross_val_predict
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from ..bottleneck import BottleneckResult
from ..models import LasaModel, load_model
from .inputs import check_two_classes, prompt_states, request_frame, resolve_layer

PROBE_METHODS = ("logreg", "mlp")


@dataclass(eq=False)
class SafetyProbe:
    """A classifier of prompt states at ``layer`` (last prompt token): probability that a request is harmful.

    ``report`` has one row per evaluation language (``lang, seen, n, accuracy, auroc``; ``seen``
    = among the training languages) plus ``seen``/``unseen`` aggregates. Usable as the gate of
    ``steer(..., mode="conditional", probe=probe)``.
    """

    classifier: Pipeline
    layer: int
    model: str
    method: str
    threshold: float = 0.5
    report: pd.DataFrame = field(default_factory=pd.DataFrame)
    info: dict[str, Any] = field(default_factory=dict)

    def predict_proba(self, states: torch.Tensor) -> torch.Tensor:
        """Probability of *harmful* for states ``[n, d_model]``, as a float32 tensor ``[n]`` on ``states``' device."""
        probs = self.classifier.predict_proba(states.detach().float().cpu().numpy())[:, 1]
        return torch.as_tensor(probs, dtype=torch.float32, device=states.device)

    def flags(self, states: torch.Tensor, threshold: float | None = None) -> torch.Tensor:
        """Boolean ``[n]``: which states the probe calls harmful (probability >= ``threshold``)."""
        return self.predict_proba(states) >= (self.threshold if threshold is None else threshold)

    def evaluate(self, states: torch.Tensor, frame: pd.DataFrame, seen: Sequence[str] = ()) -> pd.DataFrame:
        """Accuracy and AUROC per language of ``frame`` (``label``, ``lang``), and over seen/unseen languages."""
        probs = self.predict_proba(states).cpu().numpy()
        table = frame[["lang", "label"]].assign(prob=probs, seen=frame["lang"].isin(list(seen)))
        groups = [(lang, g) for lang, g in table.groupby("lang", sort=False)]
        groups += [(name, g) for name, g in (("seen", table[table.seen]), ("unseen", table[~table.seen])) if len(g)]
        rows = []
        for lang, g in groups:
            both = g["label"].nunique() == 2
            rows.append({
                "lang": lang, "seen": bool(g["seen"].all()), "n": len(g),
                "accuracy": float(((g["prob"] >= self.threshold) == g["label"].astype(bool)).mean()),
                "auroc": float(roc_auc_score(g["label"], g["prob"])) if both else float("nan"),
            })
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        return f"SafetyProbe({self.method!r}, layer={self.layer}, model={self.model!r}, threshold={self.threshold})"


def _classifier(method: str, seed: int, strength: float) -> Pipeline:
    if method == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(C=strength, max_iter=5000))
    if method == "mlp":
        return make_pipeline(StandardScaler(), MLPClassifier((64,), alpha=1.0 / strength, max_iter=1000, random_state=seed))
    raise ValueError(f"Unknown probe method {method!r}; choose from {PROBE_METHODS}.")


def calibrated_threshold(
    classifier: Pipeline, x: np.ndarray, labels: np.ndarray, groups: np.ndarray, target_fpr: float
) -> float:
    """The probability above which ``target_fpr`` of the harmless rows fall, from 5-fold cross-validated predictions."""
    folds = min(5, len(set(groups)))
    if folds < 2 or (labels == 0).sum() < 2:
        raise ValueError("Calibrating the threshold needs at least 2 items and 2 harmless requests; add training data.")
    probs = cross_val_predict(classifier, x, labels, groups=groups, cv=GroupKFold(folds), method="predict_proba")[:, 1]
    return float(np.quantile(probs[labels == 0], 1 - target_fpr))


def train_safety_probe(
    model: Any,
    layer: int | str | BottleneckResult = "bottleneck",
    train_languages: str | Iterable[str] = ("en",),
    eval_languages: str | Iterable[str] | None = None,
    method: str = "logreg",
    n_items: int | None = 64,
    n_eval_items: int | None = 64,
    train_data: pd.DataFrame | None = None,
    eval_data: pd.DataFrame | None = None,
    strength: float = 0.05,
    threshold: float = 0.5,
    target_fpr: float | None = None,
    seed: int = 0,
    chat_template: bool = True,
    batch_size: int = 16,
    progress: bool | None = None,
) -> SafetyProbe:
    """Train a safety probe at ``layer`` on ``train_languages`` and report it on every language.

    Training requests: PolyRefuse's train split (``n_items`` per kind and language) or
    ``train_data``; evaluation: its test split in ``eval_languages`` (default: all 13 with both
    kinds) or ``eval_data``. Train and evaluation items must not share an ``item_id`` in any
    language. ``method``: ``logreg`` (standardised logistic regression, C = ``strength``) or
    ``mlp`` (one hidden layer of 64, L2 = 1/``strength``). ``target_fpr`` replaces ``threshold``
    by the one that flags that share of *harmless* training requests, measured on
    cross-validated probabilities (5 folds grouped by item): a gate calibrated on data it did
    not fit, as conditional steering needs (probabilities of a probe trained on a few languages
    are often shifted in others).
    """
    model = model if isinstance(model, LasaModel) else load_model(model)
    if target_fpr is not None and not 0 < target_fpr < 1:
        raise ValueError(f"target_fpr must be in (0, 1), got {target_fpr!r}.")
    layer_id = resolve_layer(model, layer)
    classifier = _classifier(method, seed, strength)
    train = request_frame(train_data, train_languages, "train", n_items, seed)
    test = request_frame(eval_data, eval_languages, "test", n_eval_items, seed)
    check_two_classes(train, by_language=False)
    shared = set(train["item_id"]) & set(test["item_id"])
    if shared:
        raise ValueError(
            f"Train and evaluation requests share {len(shared)} item ids (e.g. {sorted(map(str, shared))[:3]}); "
            "translations of a training item would leak into the evaluation. Keep the items disjoint."
        )
    both = pd.concat([train, test], ignore_index=True)
    states = prompt_states(model, both, [layer_id], chat_template, batch_size, progress)
    x, labels = states.at(layer_id)[: len(train)].numpy(), train["label"].to_numpy()
    if target_fpr is not None:
        threshold = calibrated_threshold(classifier, x, labels, train["item_id"].astype(str).to_numpy(), target_fpr)
    classifier.fit(x, labels)
    probe = SafetyProbe(
        classifier, layer=layer_id, model=model.name, method=method, threshold=threshold,
        info={
            "train_languages": list(dict.fromkeys(train["lang"])), "n_train": len(train), "n_eval": len(test),
            "strength": strength, "seed": seed, "chat_template": chat_template, "target_fpr": target_fpr,
        },
    )
    probe.report = probe.evaluate(states.at(layer_id)[len(train):], test, seen=probe.info["train_languages"])
    return probe
