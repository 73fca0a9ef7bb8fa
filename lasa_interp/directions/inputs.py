"""What every direction and probe needs: the layer, the labelled requests, and their prompt states."""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..bottleneck import BottleneckResult, find_bottleneck
from ..cache import ActivationCache, cache_activations
from ..data import KINDS, load_safety_requests
from ..models import LasaModel


def resolve_layer(model: LasaModel, layer: int | str | BottleneckResult) -> int:
    """One layer index: an int (negative counts from the end), ``"bottleneck"`` (runs ``find_bottleneck``) or a result."""
    if isinstance(layer, BottleneckResult):
        n_layers = layer.info.get("n_layers", model.n_layers)
        if n_layers != model.n_layers:
            raise ValueError(
                f"That BottleneckResult is for a model with {n_layers} layers; {model.name} has {model.n_layers}."
            )
        return model.resolve_layers(layer.layer)[0]
    if layer == "bottleneck":
        return find_bottleneck(model, progress=False).layer
    if isinstance(layer, str):
        raise ValueError(f"Unknown layer {layer!r}; pass an int, 'bottleneck' or a BottleneckResult.")
    return model.resolve_layers(layer)[0]


def request_frame(
    data: pd.DataFrame | None, languages: str | Iterable[str] | None, split: str, n_items: int | None, seed: int
) -> pd.DataFrame:
    """Labelled requests (``text``, ``lang``, ``item_id``, ``label`` 1 = harmful): ``data`` or PolyRefuse's ``split``.

    ``data`` needs ``text`` and ``label`` (or ``kind`` = harmful/harmless); ``lang`` defaults to one language.
    """
    if data is None:
        return load_safety_requests(split, languages, n_items, seed)
    frame = data.reset_index(drop=True)
    if "label" not in frame.columns:
        if "kind" not in frame.columns:
            raise ValueError(
                f"Your data needs a 'label' (1 = harmful, 0 = harmless) or 'kind' column; it has {list(frame.columns)}."
            )
        unknown = sorted(set(frame["kind"]) - set(KINDS))
        if unknown:
            raise ValueError(f"Unknown kind values {unknown}; use 'harmful' or 'harmless'.")
        frame = frame.assign(label=(frame["kind"] == "harmful").astype(int))
    if not set(frame["label"]).issubset({0, 1}):
        raise ValueError(f"label must be 1 (harmful) or 0 (harmless); got {sorted(set(frame['label']))[:5]}.")
    frame = frame.assign(label=frame["label"].astype(int))
    if "lang" not in frame.columns:
        frame = frame.assign(lang="all")
    if "item_id" not in frame.columns:
        frame = frame.assign(item_id=np.arange(len(frame)))
    if languages is not None:
        wanted = [languages] if isinstance(languages, str) else list(languages)
        frame = frame[frame["lang"].isin(wanted)].reset_index(drop=True)
    return frame


def check_two_classes(frame: pd.DataFrame, by_language: bool) -> None:
    """Raise unless there are harmful and harmless requests (in every language when ``by_language``)."""
    if frame.empty:
        raise ValueError("No requests given: the data (after the language filter) is empty.")
    groups = frame.groupby("lang")["label"] if by_language else [("all", frame["label"])]
    for lang, labels in groups:
        present = set(labels)
        if present != {0, 1}:
            have = "no requests" if not present else f"only {'harmful' if 1 in present else 'harmless'} requests"
            where = f" in language {lang!r}" if by_language else ""
            raise ValueError(
                f"A direction needs harmful and harmless requests; the data has {have}{where}. "
                "Add the other class (e.g. from lasa_interp.data.load_safety_requests)."
            )


def prompt_states(
    model: LasaModel, frame: pd.DataFrame, layers: Sequence[int], chat_template: bool, batch_size: int, progress: bool | None
) -> ActivationCache:
    """Last-prompt-token states of ``frame``'s requests at ``layers`` (chat template applied when asked)."""
    return cache_activations(
        model, frame, layers=list(layers), pooling="last", chat_template=chat_template, batch_size=batch_size,
        progress=progress,
    )
