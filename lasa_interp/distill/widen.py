"""Exact ablation for Gemma3, whose blocks add each write through a post-norm: double the residual width.

Gemma adds ``(1 + g) * a / rms(a)`` to the stream (``a``: the o_proj or down_proj output). The
hooked ablation writes ``P D a / rms(a)`` (``P = I - u u^T``, ``D = diag(1 + g)``); no weights of
the same width give that, because removing a component before an RMSNorm changes its rms. With
``2d`` channels they do: the stream keeps the hooked states in its first ``d`` channels and zeros
in the other ``d``; o_proj/down_proj become ``[P D / m; sqrt(I - D P D / m^2)] W`` (an isometry
of ``a``, so the rms over ``2d`` channels is the original rms / sqrt(2)), and the post-norm scales
the first half by ``m / sqrt(2)`` and silences the second (``g = -1``). Reads (pre-norms, final
norm) see zeros in the new channels; their weights, the embedding, ``rms_norm_eps`` (halved) and
q/k projections (for q_norm/k_norm's eps) are rescaled so every function of the stream is unchanged.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from ..models import LasaModel, find_decoder_layers
from ..steer import edit_states

HALF = math.sqrt(0.5)


@torch.no_grad()
def widened_ablation(model: LasaModel, unit: torch.Tensor) -> nn.Module:
    """A copy of ``model.hf_model`` (Gemma-style post-norms) with ``2 * d_model`` channels that equals the
    hooked ablation of ``unit`` from every write into the residual stream."""
    hf_model, d = model.hf_model, model.d_model
    u = unit.double().to(model.device)
    project = torch.eye(d, dtype=torch.float64, device=model.device) - torch.outer(u, u)
    names = {module: name for name, module in hf_model.named_modules()}
    new: dict[str, torch.Tensor] = {}
    silent = -torch.ones(d, dtype=torch.float64, device=model.device)  # norm weight -1: the new channels output 0

    def put(module: nn.Module, weight: torch.Tensor) -> None:
        new[f"{names[module]}.weight"] = weight.to(model.dtype).contiguous()

    def padded(weight: torch.Tensor) -> torch.Tensor:  # zero columns for the new channels
        out = weight.new_zeros(weight.shape[0], 2 * d)
        out[:, :d] = weight
        return out

    def pad_inputs(linear: nn.Module, scale: float = 1.0) -> None:  # a read: zero weights on the new channels
        put(linear, padded(linear.weight * scale if scale != 1.0 else linear.weight))

    def read_norm(norm: nn.Module) -> None:  # rms over 2d channels is rms / sqrt(2) with zeros there
        put(norm, torch.cat([(1 + norm.weight.double()) * HALF - 1, silent]))

    def write(linear: nn.Module, norm: nn.Module) -> None:
        gain = 1 + norm.weight.double()
        top_gain = gain.abs().max()
        top = project * gain / top_gain
        evals, evecs = torch.linalg.eigh(torch.eye(d, dtype=torch.float64, device=model.device) - top.T @ top)
        bottom = evecs @ torch.diag(evals.clamp_min(0).sqrt()) @ evecs.T
        put(linear, torch.cat([top, bottom]).float() @ linear.weight.float())
        put(norm, torch.cat([(top_gain * HALF - 1).expand(d), silent]))

    embedding = hf_model.get_input_embeddings()
    put(embedding, padded(edit_states(embedding.weight, unit, "ablate", 0.0).mul_(HALF)))  # scaled by sqrt(hidden)
    pad_inputs(hf_model.get_output_embeddings())
    read_norm(hf_model.base_model.norm)
    for block in find_decoder_layers(hf_model)[1]:
        attn, mlp = block.self_attn, block.mlp
        read_norm(block.input_layernorm)
        read_norm(block.pre_feedforward_layernorm)
        pad_inputs(attn.q_proj, HALF)  # q_norm/k_norm then see (mean q^2 + eps) / 2: same output with eps / 2
        pad_inputs(attn.k_proj, HALF)
        pad_inputs(attn.v_proj)
        pad_inputs(mlp.gate_proj)
        pad_inputs(mlp.up_proj)
        write(attn.o_proj, block.post_attention_layernorm)
        write(mlp.down_proj, block.post_feedforward_layernorm)
    config = copy.deepcopy(hf_model.config)
    config.hidden_size, config.rms_norm_eps, config.tie_word_embeddings = 2 * d, config.rms_norm_eps / 2, False
    state = {k: new[k] if k in new else v.detach().clone() for k, v in hf_model.state_dict().items()}
    edited = type(hf_model).from_pretrained(None, config=config, state_dict=state, dtype=model.dtype)
    return edited.to(model.device).eval()
