"""Safety directions by difference of means: harmful minus harmless prompt states, per layer."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
import torch

from ..bottleneck import BottleneckResult
from ..models import LasaModel, load_model
from .direction import Direction
from .inputs import check_two_classes, prompt_states, request_frame, resolve_layer


def diff_means(states: torch.Tensor, labels: Sequence[int], langs: Sequence[str] | None = None) -> torch.Tensor:
    """Mean of harmful (label 1) minus mean of harmless (label 0) states, ``[n_layers, n, d]`` -> ``[n_layers, d]``.

    With ``langs`` the difference is taken within each language and averaged over languages,
    so that every language weighs the same whatever its number of requests.
    """
    labels = torch.as_tensor(np.asarray(labels) == 1)
    groups = [np.ones(len(labels), bool)] if langs is None else [np.asarray(langs) == g for g in dict.fromkeys(langs)]
    diffs = []
    for group in groups:
        keep = torch.as_tensor(group)
        harmful, harmless = states[:, keep & labels], states[:, keep & ~labels]
        if harmful.shape[1] == 0 or harmless.shape[1] == 0:
            raise ValueError("diff_means needs harmful and harmless states (in every language when langs is given).")
        diffs.append(harmful.float().mean(1) - harmless.float().mean(1))
    return torch.stack(diffs).mean(0)


def safety_directions(
    model: Any,
    layers: int | Sequence[int] | None = None,
    data: pd.DataFrame | None = None,
    languages: str | Iterable[str] | None = None,
    pooled: bool = True,
    split: str = "train",
    n_items: int | None = 64,
    seed: int = 0,
    chat_template: bool = True,
    batch_size: int = 16,
    progress: bool | None = None,
) -> dict[int, Direction]:
    """Unit difference-of-means safety directions at ``layers`` (``None`` = all), one forward pass for all.

    Data: ``data`` (``text``, ``label`` 1 = harmful or ``kind``, optional ``lang``) or, by
    default, ``n_items`` harmful and ``n_items`` harmless requests per language of PolyRefuse's
    ``split`` in ``languages`` (default: all 14; ``"en"`` gives the English-only direction).
    States: the last prompt token with the chat template applied. ``pooled`` averages the
    per-language differences (no language dominates); else all requests are pooled together.
    """
    model = model if isinstance(model, LasaModel) else load_model(model)
    layer_ids = model.resolve_layers(layers)
    frame = request_frame(data, languages, split, n_items, seed)
    check_two_classes(frame, by_language=pooled)
    cache = prompt_states(model, frame, layer_ids, chat_template, batch_size, progress)
    labels, langs = frame["label"].to_numpy(), frame["lang"].to_numpy()
    vectors = diff_means(cache["last"], labels, langs if pooled else None)
    mean_norms = cache["last"].norm(dim=-1).mean(1)
    info = {
        "data": "user" if data is not None else f"polyrefuse:{split}",
        "languages": list(dict.fromkeys(langs.tolist())), "pooled": pooled, "n_harmful": int(labels.sum()),
        "n_harmless": int((1 - labels).sum()), "n_items": n_items, "seed": seed, "chat_template": chat_template,
    }
    return {
        layer: Direction(
            vector=vectors[k] / vectors[k].norm(), layer=layer, model=model.name, fingerprint=model.fingerprint,
            method="diff_means_pooled" if pooled else "diff_means", mean_norm=float(mean_norms[k]),
            info={**info, "raw_norm": float(vectors[k].norm())},
        )
        for k, layer in enumerate(layer_ids)
    }


def safety_direction(
    model: Any, layer: int | str | BottleneckResult = "bottleneck", **kwargs: Any
) -> Direction:
    """The unit difference-of-means safety direction at one ``layer`` (an int, ``"bottleneck"`` or a
    ``BottleneckResult``); keyword arguments as :func:`safety_directions`."""
    model = model if isinstance(model, LasaModel) else load_model(model)
    layer_id = resolve_layer(model, layer)
    return safety_directions(model, layers=[layer_id], **kwargs)[layer_id]
