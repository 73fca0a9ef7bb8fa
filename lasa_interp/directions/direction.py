"""``Direction``: one vector in a layer's residual stream, with where it came from; saves as safetensors."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ..atomic import atomic_file
from ..models import LasaModel


@dataclass(eq=False)
class Direction:
    """A direction ``vector`` ``[d_model]`` (float32, CPU) in the residual stream after decoder block ``layer``.

    ``mean_norm`` is the mean norm of the layer's states on the data it came from: steering
    strengths are in its units. ``model``/``fingerprint`` name the model, ``method`` how it was
    made, ``info`` the data and settings. ``+``, ``-`` (same layer and size) and ``*``/``/`` by a
    number give new directions; :meth:`unit` rescales to norm 1.
    """

    vector: torch.Tensor
    layer: int
    model: str
    fingerprint: str = ""
    method: str = "diff_means"
    mean_norm: float = 1.0
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.vector = torch.as_tensor(self.vector).detach().float().cpu().reshape(-1)
        if not torch.isfinite(self.vector).all():
            raise ValueError("The direction has non-finite values.")

    @property
    def d_model(self) -> int:
        return self.vector.numel()

    @property
    def hook(self) -> str:
        """TransformerLens-style name of the hook site."""
        return LasaModel.hook_name(self.layer)

    @property
    def norm(self) -> float:
        return float(self.vector.norm())

    def unit(self) -> "Direction":
        """The same direction with norm 1."""
        if self.norm == 0:
            raise ValueError("The direction is zero and has no unit vector.")
        return replace(self, vector=self.vector / self.norm)

    def cosine(self, other: "Direction") -> float:
        """Cosine similarity with ``other``."""
        self._check_compatible(other, "compare")
        return float(torch.nn.functional.cosine_similarity(self.vector, other.vector, dim=0))

    def project(self, states: torch.Tensor) -> torch.Tensor:
        """Component of ``states`` ``[..., d_model]`` along the unit direction, ``[...]`` (float32)."""
        if states.shape[-1] != self.d_model:
            raise ValueError(f"States have size {states.shape[-1]}, the direction {self.d_model}.")
        return states.float() @ self.unit().vector.to(states.device)

    def check_model(self, model: LasaModel) -> None:
        """Raise unless ``model`` can take this direction (same ``d_model``, layer in range)."""
        if model.d_model != self.d_model:
            raise ValueError(
                f"The direction has d_model={self.d_model} (from {self.model}) but {model.name} has d_model={model.d_model}; "
                "compute a direction on this model (lasa_interp.safety_direction)."
            )
        model.resolve_layers(self.layer)

    def _check_compatible(self, other: Any, verb: str) -> None:
        if not isinstance(other, Direction):
            raise TypeError(f"Cannot {verb} a Direction and a {type(other).__name__}.")
        if other.d_model != self.d_model or other.layer != self.layer:
            raise ValueError(
                f"Cannot {verb} directions of different layers or sizes (layer {self.layer}, d {self.d_model} vs "
                f"layer {other.layer}, d {other.d_model})."
            )

    def _combine(self, other: "Direction", sign: float, symbol: str) -> "Direction":
        self._check_compatible(other, "combine")
        return replace(
            self, vector=self.vector + sign * other.vector, method=f"({self.method} {symbol} {other.method})",
            info={"left": self.info, "right": other.info},
        )

    def __add__(self, other: "Direction") -> "Direction":
        return self._combine(other, 1.0, "+")

    def __sub__(self, other: "Direction") -> "Direction":
        return self._combine(other, -1.0, "-")

    def __mul__(self, factor: float) -> "Direction":
        if not isinstance(factor, (int, float)) or isinstance(factor, bool):
            return NotImplemented
        return replace(self, vector=self.vector * float(factor))

    __rmul__ = __mul__

    def __truediv__(self, factor: float) -> "Direction":
        return self * (1.0 / factor)

    def __neg__(self) -> "Direction":
        return self * -1.0

    def save(self, path: str | Path) -> Path:
        """Write one ``.safetensors`` file (the vector, metadata in its header), atomically."""
        meta = {
            "layer": str(self.layer), "model": self.model, "fingerprint": self.fingerprint, "method": self.method,
            "mean_norm": repr(self.mean_norm), "hook": self.hook, "info": json.dumps(self.info, default=str),
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_file(path, lambda p: save_file({"vector": self.vector.contiguous()}, p, metadata=meta))
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Direction":
        """Read a direction written by :meth:`save` (no pickle involved)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist; save a direction there with Direction.save.")
        with safe_open(path, "pt") as f:
            meta = f.metadata() or {}
            if "layer" not in meta or "vector" not in f.keys():
                raise ValueError(f"{path} is not a saved Direction (no 'vector' tensor or 'layer' metadata).")
            vector = f.get_tensor("vector")
        return cls(
            vector=vector, layer=int(meta["layer"]), model=meta["model"], fingerprint=meta["fingerprint"],
            method=meta["method"], mean_norm=float(meta["mean_norm"]), info=json.loads(meta["info"]),
        )

    def __repr__(self) -> str:
        return (
            f"Direction({self.method!r}, layer={self.layer}, d_model={self.d_model}, norm={self.norm:.3g}, "
            f"mean_norm={self.mean_norm:.3g}, model={self.model!r})"
        )
