"""Forward-call bookkeeping for interventions: is this call a new prompt or a decoding step, and the prompt gate."""

from __future__ import annotations

from typing import Any, Callable

import torch

from ..cache.backends import run_torch
from ..cache.inputs import Batch
from ..cache.pooling import pool
from ..models import LasaModel


def with_states(output: Any, states: torch.Tensor) -> Any:
    """``output`` with its residual stream replaced by ``states``."""
    return (states, *output[1:]) if isinstance(output, tuple) else states


def past_length(kwargs: dict[str, Any]) -> int:
    """Tokens already in the KV cache when the decoder is called (0 for a new prompt)."""
    past = kwargs.get("past_key_values")
    if past is not None and hasattr(past, "get_seq_length"):
        return int(past.get_seq_length())
    position = kwargs.get("cache_position")
    return int(position.reshape(-1)[0]) if position is not None and position.numel() else 0


class CallTracker:
    """A forward pre-hook on the decoder stack recording, for every call, whether it starts a new prompt.

    A call with an empty KV cache holds prompt tokens; later calls (KV-cached decoding) hold
    generated ones. With ``gate`` (``[n, d_model]`` last-prompt-token states -> bool ``[n]``)
    at ``gate_layer``, each new prompt first runs the decoder up to that layer, unsteered, and
    the verdict per batch row is kept for the prompt and its generated tokens.
    """

    def __init__(self, model: LasaModel, gate: Callable[[torch.Tensor], torch.Tensor] | None = None, gate_layer: int = 0):
        self.model, self.gate, self.gate_layer = model, gate, gate_layer
        self.is_prompt = True
        self.flags: torch.Tensor | None = None
        self.gating = False  # True while the gate's own forward pass runs: interventions stand aside

    def __call__(self, _module, args: tuple, kwargs: dict[str, Any]) -> None:
        if self.gating:
            return
        self.is_prompt = past_length(kwargs) == 0
        if self.gate is not None and self.is_prompt:
            self.flags = self._run_gate(kwargs.get("input_ids", args[0] if args else None), kwargs.get("attention_mask"))

    def _run_gate(self, input_ids: torch.Tensor | None, mask: torch.Tensor | None) -> torch.Tensor:
        if input_ids is None:
            raise ValueError(
                "Conditional steering reads the prompt from input_ids; call the model with input_ids, not inputs_embeds."
            )
        mask = torch.ones_like(input_ids) if mask is None or mask.dim() != 2 else mask.long()
        batch = Batch(list(range(len(input_ids))), input_ids, mask, (mask.cumsum(-1) - 1).clamp(min=0))
        found: dict[str, torch.Tensor] = {}
        self.gating = True
        try:
            with torch.no_grad():
                run_torch(self.model, batch, [self.gate_layer], lambda _layer, states: found.update(states=states))
        finally:
            self.gating = False
        return self.gate(pool(found["states"], mask, ("last",))["last"]).to(input_ids.device).bool()

    def rows(self, batch_size: int) -> torch.Tensor | None:
        """The gate's verdict per row for the current call (``None`` without a gate)."""
        if self.gate is None:
            return None
        if self.flags is None or len(self.flags) != batch_size:
            raise RuntimeError(
                f"The prompt gate judged {0 if self.flags is None else len(self.flags)} rows but this call has "
                f"{batch_size}; conditional steering supports plain forward passes and generate without beam search."
            )
        return self.flags
