"""``steer``: add, ablate or clamp a direction in the residual stream, always or only for flagged prompts."""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import torch

from ..cache.backends import block_states
from ..directions import Direction
from ..models import LasaModel, load_model
from .hooks import CallTracker, with_states

MODES = ("add", "ablate", "clamp", "conditional")
POSITIONS = ("all", "prompt", "generated")


def edit_states(states: torch.Tensor, unit: torch.Tensor, mode: str, amount: float) -> torch.Tensor:
    """One intervention on ``states`` ``[..., d]`` along the unit vector ``unit`` (computed in float32).

    ``add``/``conditional``: ``states + amount * unit``; ``ablate``: remove the component along
    ``unit``; ``clamp``: set that component to ``amount``.
    """
    x, u = states.float(), unit.to(states.device, torch.float32)
    if mode in ("add", "conditional"):
        out = x + amount * u
    else:
        target = 0.0 if mode == "ablate" else amount
        out = x + (target - x @ u)[..., None] * u
    return out.to(states.dtype)


@dataclass
class Steering:
    """What a ``steer`` block is doing; ``flags`` holds the gate's verdict per row of the last prompt (conditional)."""

    direction: Direction
    mode: str
    layers: list[int]
    amount: float
    positions: str
    tracker: CallTracker

    @property
    def flags(self) -> torch.Tensor | None:
        return self.tracker.flags


@contextmanager
def steer(
    model: Any,
    direction: Direction,
    alpha: float = 1.0,
    mode: str = "add",
    layers: int | Sequence[int] | str | None = None,
    positions: str = "all",
    probe: Any = None,
    threshold: float | None = None,
) -> Iterator[Steering]:
    """Intervene on the residual stream along ``direction`` while the block runs; hooks go on exit or error.

    ``mode``: ``add`` (``alpha`` x the layer's mean activation norm along the unit direction),
    ``ablate`` (project the direction out; ``alpha`` unused), ``clamp`` (set the projection to
    ``alpha`` x mean norm) or ``conditional`` (``add``, only for batch rows whose prompt
    ``probe`` flags as harmful at its layer, last prompt token, with ``threshold`` (default
    the probe's own)). ``layers``: the direction's layer (default), an int or list, or
    ``"all"``. ``positions``: ``all``, ``prompt`` (calls that start a prompt) or ``generated``
    (KV-cached decoding steps). Works with plain forward passes and ``generate``.
    """
    model = model if isinstance(model, LasaModel) else load_model(model)
    if not isinstance(direction, Direction):
        raise TypeError(f"direction must be a lasa_interp Direction, not {type(direction).__name__}.")
    direction.check_model(model)
    if mode not in MODES:
        raise ValueError(f"Unknown mode {mode!r}; choose from {MODES}.")
    if positions not in POSITIONS:
        raise ValueError(f"Unknown positions {positions!r}; choose from {POSITIONS}.")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not math.isfinite(alpha):
        raise ValueError(f"alpha must be a finite number, got {alpha!r}.")
    layer_ids = model.resolve_layers(None if layers == "all" else direction.layer if layers is None else layers)
    gate, gate_layer = None, 0
    if mode == "conditional":
        if probe is None:
            raise ValueError(
                "mode='conditional' needs probe= (e.g. lasa_interp.train_safety_probe(model)) to flag harmful prompts."
            )
        gate_layer = model.resolve_layers(probe.layer)[0]
        cut = probe.threshold if threshold is None else threshold
        gate = lambda states: probe.predict_proba(states) >= cut  # noqa: E731
    tracker = CallTracker(model, gate, gate_layer)
    unit = direction.unit().vector
    amount = float(alpha) * direction.mean_norm

    def hook(_module, _args, output):
        if tracker.gating or (positions != "all" and tracker.is_prompt != (positions == "prompt")):
            return None
        states = block_states(output)
        edited = edit_states(states, unit, mode, amount)
        rows = tracker.rows(states.shape[0])
        if rows is not None:
            edited = torch.where(rows.view(-1, *([1] * (states.dim() - 1))), edited, states)
        return with_states(output, edited)

    handles = [model.decoder.register_forward_pre_hook(tracker, with_kwargs=True)]
    try:
        handles += [model.layers[i].register_forward_hook(hook) for i in layer_ids]
        yield Steering(direction, mode, layer_ids, amount, positions, tracker)
    finally:
        for handle in handles:
            handle.remove()
