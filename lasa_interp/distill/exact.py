"""Exact edits: interventions with a closed form, written into a copy of the weights.

Ablating a direction from every write into the residual stream (Arditi et al.) becomes weight
orthogonalisation, ``W <- (I - u u^T) W`` for the embedding, every attention output and MLP
output projection (for Gemma3, whose post-norms renormalise each write, an equivalent model with
a residual stream twice as wide: see :mod:`.widen`); adding a constant at block ``L`` becomes a
bias on that block's MLP output.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import torch
from torch import nn

from ..models import LasaModel, find_decoder_layers
from ..steer import Intervention, edit_states
from .widen import widened_ablation

ABLATION_ARCHS = ("llama", "qwen2", "gemma3_text")
WIDENED_ARCHS = ("gemma3_text",)  # post-norms: the exact ablation doubles hidden_size (see .widen)
ADDITION_BIAS_FLAGS = {"llama": "mlp_bias"}  # architecture -> config switch that gives down_proj a bias
POST_NORM_ARCHS = ("gemma2", "gemma3", "gemma3_text")  # RMSNorm between each write and the residual add
TRAINED_HINT = "use lasa_interp.distill(model, intervention, method='trained'), or steer at inference"


def distill_exact(model: LasaModel, intervention: Intervention) -> nn.Module:
    """A copy of ``model.hf_model`` whose weights carry ``intervention``; ``lasa_interp_card['edit']`` says how.

    Supported: ``mode='ablate', layers='all'`` on Llama, Qwen2 and Gemma3 (whose copy has twice
    the residual width, ``hidden_size`` 2 x d_model: see :mod:`.widen`); ``mode='add'`` (any
    layers) on Llama. Both need ``positions='all'``. Raises ``ValueError`` for interventions
    without a closed form and ``NotImplementedError`` for architectures that cannot carry the edit.
    """
    layers = intervention.layer_ids(model)
    unit = intervention.direction.unit().vector
    if intervention.positions != "all" or not (intervention.every_write or intervention.mode == "add"):
        raise ValueError(
            f"No exact weight edit for mode={intervention.mode!r}, layers={intervention.layers!r}, "
            f"positions={intervention.positions!r}: only ablation with layers='all' and addition, both with "
            f"positions='all', have a closed form; {TRAINED_HINT}."
        )
    if intervention.every_write:
        _check_architecture(model, ABLATION_ARCHS, "ablation")
        tied = _tied_embeddings(model.hf_model)  # then the unembedding keeps its own, unedited copy
        if model.architecture in WIDENED_ARCHS:
            edited = widened_ablation(model, unit)
            edit = {"kind": "widened orthogonalisation", "weights": ["every residual-facing matrix and norm"],
                    "untied_lm_head": tied, "hidden_size": [model.d_model, 2 * model.d_model]}
        else:
            edited = _copy_with_config(model, tie_word_embeddings=False)
            edit = {"kind": "orthogonalisation", "weights": _orthogonalise(edited, unit), "untied_lm_head": tied}
    else:
        _check_architecture(model, tuple(ADDITION_BIAS_FLAGS), "addition")
        flag = ADDITION_BIAS_FLAGS[model.architecture]
        edited = _copy_with_config(model, **{flag: True})
        weights = _add_bias(edited, layers, intervention.amount * unit)
        edit = {"kind": "bias", "weights": weights, "config": {flag: True}}
    edited.lasa_interp_card = {"edit": edit}
    return edited


def _check_architecture(model: LasaModel, supported: tuple[str, ...], what: str) -> None:
    arch = model.architecture
    if arch in supported:
        return
    if arch in POST_NORM_ARCHS and what == "addition":
        why = f" {arch} adds each MLP output through a post-norm (RMSNorm); no parameter adds a constant after it."
    elif arch in POST_NORM_ARCHS:
        why = f" {arch} adds each write through a post-norm; the widened exact ablation covers only {WIDENED_ARCHS}."
    elif what == "addition":
        why = f" {arch}'s MLP output projection has no bias and its config has no switch that adds one."
    else:
        why = ""
    raise NotImplementedError(
        f"Exact {what} supports {', '.join(supported)}; {model.name} is {arch}.{why} Instead, {TRAINED_HINT}."
    )


def _tied_embeddings(hf_model: nn.Module) -> bool:
    output = hf_model.get_output_embeddings()
    return output is not None and output.weight is hf_model.get_input_embeddings().weight


def _copy_with_config(model: LasaModel, **changes: Any) -> nn.Module:
    """A fresh Hugging Face model with ``model``'s weights and its config plus ``changes``.

    Built the way ``from_pretrained`` builds a saved model (so the copy reloads the same, with no
    hooks); parameters that ``changes`` add (e.g. biases) start at zero.
    """
    hf_model = model.hf_model
    config = copy.deepcopy(hf_model.config)
    for key, value in changes.items():
        setattr(config, key, value)
    state = {name: tensor.detach().clone() for name, tensor in hf_model.state_dict().items()}
    with torch.device("meta"):
        skeleton = type(hf_model)(copy.deepcopy(config))
    for name, tensor in skeleton.state_dict().items():
        state.setdefault(name, torch.zeros(tensor.shape, dtype=model.dtype, device=model.device))
    edited = type(hf_model).from_pretrained(None, config=config, state_dict=state, dtype=model.dtype)
    return edited.to(model.device).eval()


def _orthogonalise(hf_model: nn.Module, unit: torch.Tensor) -> list[str]:
    """Project ``unit`` out of every write into the residual stream; the edited parameters (``*``: every block)."""
    names = {module: name for name, module in hf_model.named_modules()}
    path, blocks = find_decoder_layers(hf_model)
    writers = [(hf_model.get_input_embeddings(), True)]
    writers += [(linear, False) for block in blocks for linear in (block.self_attn.o_proj, block.mlp.down_proj)]
    edited = []
    with torch.no_grad():
        for module, rows in writers:  # embedding rows are residual vectors; a Linear's columns are
            vectors = module.weight if rows else module.weight.T
            vectors.copy_(edit_states(vectors, unit, "ablate", 0.0))
            params = ["weight"]
            if getattr(module, "bias", None) is not None:
                module.bias.copy_(edit_states(module.bias, unit, "ablate", 0.0))
                params.append("bias")
            name = re.sub(rf"^{re.escape(path)}\.\d+\.", f"{path}.*.", names[module])
            edited += [f"{name}.{param}" for param in params]
    return list(dict.fromkeys(edited))


def _add_bias(hf_model: nn.Module, layers: list[int], vector: torch.Tensor) -> list[str]:
    """Add ``vector`` to the MLP output bias of each of ``layers``; the names of the edited parameters."""
    path, blocks = find_decoder_layers(hf_model)
    with torch.no_grad():
        for i in layers:
            bias = blocks[i].mlp.down_proj.bias
            bias.add_(vector.to(bias.device, bias.dtype))
    return [f"{path}.{i}.mlp.down_proj.bias" for i in layers]
