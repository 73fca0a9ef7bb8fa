"""Three ways to read the residual stream after chosen decoder blocks: torch hooks, TransformerLens, nnsight.

Each backend runs one padded batch and calls ``sink(layer, states)`` with the
``[batch, seq, d_model]`` output of every requested block, stopping after the last one.
Whatever happens, no hook is left on the model.
"""

from __future__ import annotations

import copy
import warnings
from typing import Callable

import torch

from ..models import LasaModel
from .inputs import Batch

Sink = Callable[[int, torch.Tensor], None]


class _StopForward(Exception):
    """Raised from the last needed hook so that later blocks and the LM head never run."""


def block_states(output) -> torch.Tensor:
    """The residual stream in a decoder block's output (a tensor, or the first item of a tuple)."""
    return output[0] if isinstance(output, tuple) else output


def run_torch(model: LasaModel, batch: Batch, layers: list[int], sink: Sink) -> None:
    """Native PyTorch forward hooks on the decoder blocks; runs only the decoder stack."""
    last = max(layers)

    def make_hook(layer: int):
        def hook(_module, _args, output):
            sink(layer, block_states(output))
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


def transformer_lens_bridge(model: LasaModel):
    """The model's TransformerLens ``TransformerBridge``, built once on a private copy of the HF model.

    Booting a bridge rewires the HF model in place (eager attention, wrapped blocks), so it
    gets a deep copy and the model that the other backends hook stays untouched.
    """
    if "transformer_lens" not in model.backends:
        try:
            from transformer_lens.model_bridge import TransformerBridge
        except ImportError as exc:
            raise ImportError("The transformer_lens backend needs: pip install 'lasa-interp[transformer-lens]'") from exc
        hf = copy.deepcopy(model.hf_model)
        model.backends["transformer_lens"] = TransformerBridge.boot_transformers(
            hf.config._name_or_path or model.name, hf_model=hf, tokenizer=model.tokenizer,
            device=model.device, dtype=model.dtype,
        )
    return model.backends["transformer_lens"]


def run_transformer_lens(model: LasaModel, batch: Batch, layers: list[int], sink: Sink) -> None:
    """TransformerLens ``run_with_hooks`` on ``blocks.{i}.hook_resid_post``, stopped after the last block needed."""
    from transformer_lens.model_bridge.exceptions import StopAtLayerException

    bridge, last = transformer_lens_bridge(model), max(layers)

    def make_hook(layer: int):
        def hook(states, hook):
            sink(layer, states)
            if layer == last:
                raise StopAtLayerException(states)

        return hook

    bridge.run_with_hooks(
        batch.input_ids,
        fwd_hooks=[(model.hook_name(i), make_hook(i)) for i in layers],
        attention_mask=batch.attention_mask,
        position_ids=batch.position_ids,
        return_type=None,
    )


def nnsight_model(model: LasaModel):
    """The model's nnsight ``LanguageModel`` (wrapping the same HF model; inert outside a trace)."""
    if "nnsight" not in model.backends:
        try:
            from nnsight import LanguageModel
        except ImportError as exc:
            raise ImportError("The nnsight backend needs: pip install 'lasa-interp[nnsight]'") from exc
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            model.backends["nnsight"] = LanguageModel(model.hf_model, tokenizer=copy.deepcopy(model.tokenizer))
    return model.backends["nnsight"]


def run_nnsight(model: LasaModel, batch: Batch, layers: list[int], sink: Sink) -> None:
    """An nnsight trace saving each block's output, stopped after the last block needed."""
    lm = nnsight_model(model)
    blocks = lm
    for part in model.layers_path.split("."):
        blocks = getattr(blocks, part)
    saved = {}
    with lm.trace(input_ids=batch.input_ids, attention_mask=batch.attention_mask, position_ids=batch.position_ids) as tracer:
        for layer in layers:  # forward order; a plain loop (nnsight traces this block's source)
            saved[layer] = blocks[layer].output.save()
        tracer.stop()
    for layer in layers:
        sink(layer, block_states(saved[layer]))


BACKENDS: dict[str, Callable[[LasaModel, Batch, list[int], Sink], None]] = {
    "torch": run_torch,
    "transformer_lens": run_transformer_lens,
    "nnsight": run_nnsight,
}


def get_backend(name: str) -> Callable[[LasaModel, Batch, list[int], Sink], None]:
    """The runner for backend ``name`` (``torch``, ``transformer_lens`` or ``nnsight``)."""
    if name not in BACKENDS:
        raise ValueError(f"Unknown backend {name!r}; choose from {list(BACKENDS)}.")
    return BACKENDS[name]
