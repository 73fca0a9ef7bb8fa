"""Where each decoder block writes into the residual stream: the modules whose outputs are added to it."""

from __future__ import annotations

from torch import nn

from ..models import LasaModel

ATTENTION_NAMES = ("self_attn", "attn", "attention", "self_attention")
MLP_NAMES = ("mlp", "feed_forward")


def residual_writes(model: LasaModel) -> list[tuple[nn.Module, nn.Module]]:
    """Per block, the (attention, MLP) modules whose outputs are added to the residual stream.

    Blocks with sandwich norms (Gemma 2/3: ``post_feedforward_layernorm``) add the outputs of
    their post-attention and post-feedforward norms; the others add the attention and MLP outputs.
    """
    return [_block_writes(block, model) for block in model.layers]


def _block_writes(block: nn.Module, model: LasaModel) -> tuple[nn.Module, nn.Module]:
    if hasattr(block, "post_feedforward_layernorm"):
        return block.post_attention_layernorm, block.post_feedforward_layernorm
    attention = next((getattr(block, n) for n in ATTENTION_NAMES if hasattr(block, n)), None)
    mlp = next((getattr(block, n) for n in MLP_NAMES if hasattr(block, n)), None)
    if attention is None or mlp is None:
        raise ValueError(
            f"Cannot find the attention and MLP of {type(block).__name__} in {model.name} (looked for "
            f"{ATTENTION_NAMES} and {MLP_NAMES}); ablate at explicit layers (layers=[...]) instead of layers='all'."
        )
    return attention, mlp
