"""``cache_activations``: pooled residual-stream states per layer for a list of texts."""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd
import torch
from tqdm.auto import tqdm

from ..models import LasaModel, load_model
from .backends import get_backend
from .inputs import as_texts, batches, encode
from .pooling import check_pooling, pool
from .result import ActivationCache
from .store import ShardStore, cache_key


def cache_activations(
    model: Any,
    texts: Sequence[str] | pd.DataFrame,
    layers: int | Sequence[int] | None = None,
    pooling: str | Sequence[str] = ("last", "mean"),
    batch_size: int = 16,
    backend: str = "torch",
    chat_template: bool = False,
    max_length: int | None = None,
    skip_first: bool = True,
    padding_side: str | None = None,
    meta: pd.DataFrame | dict | None = None,
    out_dir: str | None = None,
    shard_size: int = 2048,
    progress: bool | None = None,
) -> ActivationCache:
    """Cache the residual stream after decoder blocks ``layers`` (``None`` = all) for ``texts``.

    ``texts`` is a list of strings or a DataFrame with a ``text`` column (other columns are
    kept in ``cache.meta``; or pass ``meta``). Pooling: ``last`` non-pad token, ``mean`` over
    non-pad tokens (without the first, attention-sink token when ``skip_first``), ``tokens``
    (all token states). Texts are sorted by length into batches; only the decoder runs, and it
    stops after the last requested block. With ``out_dir`` the run is written in shards of
    ``shard_size`` texts and resumes where it stopped when re-run with the same arguments.
    """
    model = model if isinstance(model, LasaModel) else load_model(model)
    frame = as_texts(texts, meta)
    layer_ids = model.resolve_layers(layers)
    names = check_pooling(pooling)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}.")
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}.")
    padding_side = padding_side or model.tokenizer.padding_side
    if padding_side not in ("left", "right"):
        raise ValueError(f"padding_side must be 'left' or 'right', got {padding_side!r}.")
    run = get_backend(backend)
    texts_list = frame["text"].tolist()
    encoded = encode(model.tokenizer, texts_list, chat_template=chat_template, max_length=max_length)
    frame["n_tokens"] = encoded.lengths
    frame["truncated"] = encoded.truncated
    settings = {
        "model": model.name, "layers": layer_ids, "pooling": list(names), "chat_template": chat_template,
        "max_length": max_length, "skip_first": skip_first, "dtype": str(model.dtype), "backend": backend,
    }
    n = len(texts_list)
    chunk = shard_size if out_dir is not None else n
    starts = range(0, n, chunk)
    store = ShardStore(out_dir, cache_key(model.fingerprint, texts_list, settings), settings) if out_dir else None
    bar = tqdm(total=n, desc="caching", unit="text", disable=not (progress if progress is not None else n >= 512))
    parts = []
    with bar:
        for k, start in enumerate(starts):
            index = list(range(start, min(start + chunk, n)))
            part = store.load(k) if store else None
            if part is None:
                part = _run_chunk(model, run, encoded.ids, index, layer_ids, names, batch_size, skip_first, padding_side, bar)
                if store:
                    store.save(k, part)
            else:
                bar.update(len(index))
            parts.append(part)
    states = {name: torch.cat([p[name] for p in parts], dim=1) for name in names}
    info = {**settings, "fingerprint": model.fingerprint, "hook_names": [model.hook_name(i) for i in layer_ids]}
    return ActivationCache(states=states, layers=layer_ids, meta=frame, info=info)


def _run_chunk(model, run, ids, index, layer_ids, names, batch_size, skip_first, padding_side, bar) -> dict:
    """States for the texts at ``index`` (in that order): ``{pooling: [n_layers, len(index), d_model]}``."""
    position = {i: p for p, i in enumerate(index)}
    pooled = {name: torch.empty(len(layer_ids), len(index), model.d_model) for name in names if name != "tokens"}
    tokens: dict[int, list[torch.Tensor]] = {}
    slot = {layer: k for k, layer in enumerate(layer_ids)}
    pad_id = model.tokenizer.pad_token_id
    with torch.inference_mode():
        for batch in batches(ids, index, batch_size, pad_id, padding_side, model.device):
            rows = torch.tensor([position[i] for i in batch.index])

            def sink(layer: int, states: torch.Tensor) -> None:
                result = pool(states, batch.attention_mask, names, skip_first)
                for name, value in result.items():
                    if name == "tokens":
                        for i, t in zip(batch.index, value):
                            tokens.setdefault(i, [None] * len(layer_ids))[slot[layer]] = t.cpu()
                    else:
                        pooled[name][slot[layer], rows] = value.cpu()

            run(model, batch, layer_ids, sink)
            bar.update(len(batch.index))
    if "tokens" in names:
        pooled["tokens"] = torch.cat([torch.stack(tokens[i]) for i in index], dim=1)
    return pooled
