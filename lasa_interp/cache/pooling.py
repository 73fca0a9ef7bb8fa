"""Pool token states ``[batch, seq, d_model]`` into one vector per text, respecting padding."""

from __future__ import annotations

import torch

POOLINGS = ("last", "mean", "tokens")


def check_pooling(pooling: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Validate pooling names; returns them as a tuple."""
    names = (pooling,) if isinstance(pooling, str) else tuple(pooling)
    if not names:
        raise ValueError(f"pooling is empty; choose from {POOLINGS}.")
    unknown = [p for p in names if p not in POOLINGS]
    if unknown:
        raise ValueError(f"Unknown pooling {unknown}; choose from {POOLINGS}.")
    return tuple(dict.fromkeys(names))


def pool(states: torch.Tensor, mask: torch.Tensor, names: tuple[str, ...], skip_first: bool = True) -> dict:
    """Pool ``states`` with a 0/1 ``mask``.

    ``last``: the last non-pad token. ``mean``: mean over non-pad tokens, without the
    first one when ``skip_first`` (it is an attention sink with massive activations; a
    one-token text keeps it). ``tokens``: a list of ``[n_tokens, d_model]`` per row.
    Pooled results are float32.
    """
    valid = mask.bool()
    out: dict = {}
    rows = torch.arange(states.shape[0], device=states.device)
    if "last" in names:
        positions = torch.arange(states.shape[1], device=states.device)
        last = torch.where(valid, positions, -1).argmax(-1)
        out["last"] = states[rows, last].float()
    if "mean" in names:
        keep = valid.clone()
        if skip_first:
            keep[rows, valid.int().argmax(-1)] = False
            keep = torch.where(keep.any(-1, keepdim=True), keep, valid)
        total = torch.where(keep[..., None], states.float(), 0.0).sum(1)
        out["mean"] = total / keep.sum(-1, keepdim=True)
    if "tokens" in names:
        out["tokens"] = [states[r][valid[r]].float() for r in range(states.shape[0])]
    return out
