"""Three ways to read the residual stream after chosen decoder blocks: torch hooks, TransformerLens, nnsight.

Each backend runs one padded batch and calls ``sink(layer, states)`` with the
``[batch, seq, d_model]`` output of every requested block, stopping after the last one.
Whatever happens, no hook is left on the model.
"""

from __future__ import annotations

from typing import Callable

import torch

from ..models import LasaModel
from .inputs import Batch

Sink = Callable[[int, torch.Tensor], None]


class _StopForward(Exception):
    """Raised from the last needed hook so that later blocks and the LM head never run."""


def _block_output(output) -> torch.Tensor:
    return output[0] if isinstance(output, tuple) else output


def run_torch(model: LasaModel, batch: Batch, layers: list[int], sink: Sink) -> None:
    """Native PyTorch forward hooks on the decoder blocks; runs only the decoder stack."""
    last = max(layers)

    def make_hook(layer: int):
        def hook(_module, _args, output):
            sink(layer, _block_output(output))
            if layer == last:
                raise _StopForward

        return hook

    handles = []
    try:
        for layer in layers:
            handles.append(model.layers[layer].register_forward_hook(make_hook(layer)))
        model.decoder(
            input_ids=batch.input_ids,
            attention_mask=batch.attention_mask,
            position_ids=batch.position_ids,
            use_cache=False,
        )
    except _StopForward:
        pass
    finally:
        for handle in handles:
            handle.remove()


BACKENDS: dict[str, Callable[[LasaModel, Batch, list[int], Sink], None]] = {
    "torch": run_torch,
}


def get_backend(name: str) -> Callable[[LasaModel, Batch, list[int], Sink], None]:
    """The runner for backend ``name`` (``torch``, ``transformer_lens`` or ``nnsight``)."""
    if name not in BACKENDS:
        raise ValueError(f"Unknown backend {name!r}; choose from {list(BACKENDS)}.")
    return BACKENDS[name]
