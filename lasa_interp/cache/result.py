"""``ActivationCache``: pooled residual states per layer plus the texts' metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file, save_file

from ..atomic import atomic_dir


@dataclass
class ActivationCache:
    """Pooled states ``cache[pooling]`` of shape ``[n_layers, n_texts, d_model]`` (float32, CPU).

    ``layers[k]`` is the model layer of ``cache[pooling][k]`` (the output of decoder block
    ``layers[k]``). ``meta`` has one row per text (``text``, ``n_tokens``, ``truncated`` and
    any columns the caller passed). Full token states (pooling ``"tokens"``) are stored flat,
    ``[n_layers, total_tokens, d_model]``; ``token_states(i)`` returns those of text ``i``.
    """

    states: dict[str, torch.Tensor]
    layers: list[int]
    meta: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, pooling: str) -> torch.Tensor:
        if pooling not in self.states:
            raise KeyError(f"No {pooling!r} states in this cache; it holds {self.poolings}.")
        return self.states[pooling]

    @property
    def poolings(self) -> list[str]:
        return list(self.states)

    @property
    def n_truncated(self) -> int:
        """How many texts were cut to ``max_length``."""
        return int(self.meta["truncated"].sum())

    def layer_position(self, layer: int) -> int:
        """Position along the first axis of the model layer ``layer`` (negative counts from the last cached)."""
        if layer < 0:
            layer = self.layers[layer] if -len(self.layers) <= layer else layer
        if layer not in self.layers:
            raise IndexError(f"Layer {layer} was not cached; cached layers are {self.layers}.")
        return self.layers.index(layer)

    def at(self, layer: int, pooling: str = "last") -> torch.Tensor:
        """States ``[n_texts, d_model]`` of one model layer."""
        return self[pooling][self.layer_position(layer)]

    def numpy(self, pooling: str = "last") -> np.ndarray:
        """``cache[pooling]`` as a numpy array."""
        return self[pooling].numpy()

    def token_states(self, i: int) -> torch.Tensor:
        """Full token states ``[n_layers, n_tokens_i, d_model]`` of text ``i`` (needs pooling ``"tokens"``)."""
        lengths = self.meta["n_tokens"].to_numpy()
        start = int(lengths[:i].sum())
        return self["tokens"][:, start : start + int(lengths[i])]

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write ``states.safetensors``, ``meta.parquet`` and ``info.json`` into directory ``path``, atomically."""
        with atomic_dir(path, overwrite) as tmp:
            save_file({k: v.contiguous() for k, v in self.states.items()}, tmp / "states.safetensors")
            self.meta.to_parquet(tmp / "meta.parquet", index=False)
            (tmp / "info.json").write_text(json.dumps({**self.info, "layers": self.layers}, indent=2, default=str))
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> "ActivationCache":
        """Read a cache written by :meth:`save` (no pickle involved)."""
        path = Path(path)
        if not (path / "states.safetensors").is_file():
            raise FileNotFoundError(f"{path} is not a saved ActivationCache (no states.safetensors).")
        info = json.loads((path / "info.json").read_text())
        layers = info.pop("layers")
        return cls(load_file(path / "states.safetensors"), layers, pd.read_parquet(path / "meta.parquet"), info)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {tuple(v.shape)}" for k, v in self.states.items())
        return f"ActivationCache({self.info.get('model', '?')}, layers={self.layers}, {shapes})"
