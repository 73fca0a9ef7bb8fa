"""``steer``: add, ablate or clamp a direction in the residual stream, always or only for flagged prompts."""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import torch

from ..cache.backends import block_states
from ..directions import Direction
from ..models import LasaModel, load_model
from .hooks import CallTracker, with_states
from .writes import residual_writes

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


@dataclass(frozen=True, eq=False)
class Intervention:
    """What to do to the residual stream along ``direction``; the arguments of :func:`steer`, checked once.

    ``mode``: ``add`` (``alpha`` x the direction's mean activation norm along the unit direction),
    ``ablate`` (project the direction out; ``alpha`` unused), ``clamp`` (set the projection to
    ``alpha`` x mean norm) or ``conditional`` (``add``, only for batch rows whose prompt
    ``probe`` flags as harmful at its layer, last prompt token, with ``threshold`` (default the
    probe's own)). ``layers``: the direction's layer (``None``, default), an int or list, or
    ``"all"`` (with ``ablate``: every write into the residual stream, as Arditi et al.).
    ``positions``: ``all``, ``prompt`` (calls that start a prompt) or ``generated`` (KV-cached
    decoding steps).
    """

    direction: Direction
    alpha: float = 1.0
    mode: str = "add"
    layers: int | tuple[int, ...] | str | None = None
    positions: str = "all"
    probe: Any = None
    threshold: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.direction, Direction):
            raise TypeError(f"direction must be a lasa_interp Direction, not {type(self.direction).__name__}.")
        if self.mode not in MODES:
            raise ValueError(f"Unknown mode {self.mode!r}; choose from {MODES}.")
        if self.positions not in POSITIONS:
            raise ValueError(f"Unknown positions {self.positions!r}; choose from {POSITIONS}.")
        alpha = self.alpha
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not math.isfinite(alpha):
            raise ValueError(f"alpha must be a finite number, got {alpha!r}.")
        if isinstance(self.layers, str) and self.layers != "all":
            raise ValueError(f"layers must be an int, a list of ints, 'all' or None, got {self.layers!r}.")
        if self.mode == "conditional" and self.probe is None:
            raise ValueError(
                "mode='conditional' needs probe= (e.g. lasa_interp.train_safety_probe(model)) to flag harmful prompts."
            )
        if self.layers is not None and not isinstance(self.layers, (int, str)):
            object.__setattr__(self, "layers", tuple(self.layers))

    @property
    def amount(self) -> float:
        """The steering strength in activation units: ``alpha`` x the direction's mean norm."""
        return float(self.alpha) * self.direction.mean_norm

    @property
    def every_write(self) -> bool:
        """Ablation of every write into the residual stream (``mode='ablate', layers='all'``)."""
        return self.mode == "ablate" and self.layers == "all"

    def layer_ids(self, model: LasaModel) -> list[int]:
        """The decoder blocks this intervention touches on ``model`` (checks the direction fits it)."""
        self.direction.check_model(model)
        layers = self.layers
        return model.resolve_layers(None if layers == "all" else self.direction.layer if layers is None else layers)


@dataclass
class Steering:
    """What a ``steer`` block is doing; ``flags`` holds the gate's verdict per row of the last prompt (conditional)."""

    intervention: Intervention
    layers: list[int]
    tracker: CallTracker

    @property
    def direction(self) -> Direction:
        return self.intervention.direction

    @property
    def mode(self) -> str:
        return self.intervention.mode

    @property
    def amount(self) -> float:
        return self.intervention.amount

    @property
    def positions(self) -> str:
        return self.intervention.positions

    @property
    def flags(self) -> torch.Tensor | None:
        return self.tracker.flags


@contextmanager
def steer(
    model: Any,
    direction: Direction | Intervention,
    alpha: float = 1.0,
    mode: str = "add",
    layers: int | Sequence[int] | str | None = None,
    positions: str = "all",
    probe: Any = None,
    threshold: float | None = None,
) -> Iterator[Steering]:
    """Intervene on the residual stream along ``direction`` while the block runs; hooks go on exit or error.

    ``direction`` is a :class:`Direction` (then the other arguments say what to do, as in
    :class:`Intervention`) or an :class:`Intervention` (then leave the other arguments at their
    defaults). ``mode="ablate", layers="all"`` projects the direction out of every write into the
    residual stream (block 0's input, each attention and MLP output as it is added), which keeps
    the stream orthogonal to it at every position; otherwise the edit is on the output of each
    chosen block. Works with plain forward passes and ``generate``.
    """
    model = model if isinstance(model, LasaModel) else load_model(model)
    intervention = _as_intervention(direction, alpha, mode, layers, positions, probe, threshold)
    layer_ids = intervention.layer_ids(model)
    gate, gate_layer = None, 0
    if intervention.mode == "conditional":
        probe = intervention.probe
        gate_layer = model.resolve_layers(probe.layer)[0]
        cut = probe.threshold if intervention.threshold is None else intervention.threshold
        gate = lambda states: probe.predict_proba(states) >= cut  # noqa: E731
    tracker = CallTracker(model, gate, gate_layer)
    edit = _state_editor(intervention, tracker)

    def output_hook(_module, _args, output):
        edited = edit(block_states(output))
        return None if edited is None else with_states(output, edited)

    def input_hook(_module, args, kwargs):
        edited = edit(args[0] if args else kwargs["hidden_states"])
        if edited is None:
            return None
        return ((edited, *args[1:]), kwargs) if args else (args, {**kwargs, "hidden_states": edited})

    handles = [model.decoder.register_forward_pre_hook(tracker, with_kwargs=True)]
    try:
        if intervention.every_write:
            writes = residual_writes(model)
            handles.append(model.layers[0].register_forward_pre_hook(input_hook, with_kwargs=True))
            handles += [module.register_forward_hook(output_hook) for pair in writes for module in pair]
        else:
            handles += [model.layers[i].register_forward_hook(output_hook) for i in layer_ids]
        yield Steering(intervention, layer_ids, tracker)
    finally:
        for handle in handles:
            handle.remove()


def _as_intervention(direction: Any, alpha: float, mode: str, layers: Any, positions: str, probe: Any,
                     threshold: float | None) -> Intervention:
    """``direction`` if it is an Intervention (other arguments left at their defaults), else a new one."""
    if not isinstance(direction, Intervention):
        return Intervention(direction, alpha, mode, layers, positions, probe, threshold)
    given = {"alpha": (alpha, 1.0), "mode": (mode, "add"), "layers": (layers, None), "positions": (positions, "all"),
             "probe": (probe, None), "threshold": (threshold, None)}
    clashes = [name for name, (value, default) in given.items() if value is not default and value != default]
    if clashes:
        raise TypeError(
            f"steer() got an Intervention and also {', '.join(clashes)}; set them on the Intervention instead "
            "(dataclasses.replace(intervention, ...))."
        )
    return direction


def _state_editor(intervention: Intervention, tracker: CallTracker) -> Callable[[torch.Tensor], torch.Tensor | None]:
    """``states -> edited states`` for one hook call, or ``None`` where this call is left alone."""
    unit = intervention.direction.unit().vector
    mode, amount, positions = intervention.mode, intervention.amount, intervention.positions

    def edit(states: torch.Tensor) -> torch.Tensor | None:
        if tracker.gating or (positions != "all" and tracker.is_prompt != (positions == "prompt")):
            return None
        edited = edit_states(states, unit, mode, amount)
        rows = tracker.rows(states.shape[0])
        if rows is not None:
            edited = torch.where(rows.view(-1, *([1] * (states.dim() - 1))), edited, states)
        return edited

    return edit
