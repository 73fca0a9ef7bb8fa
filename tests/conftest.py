"""Shared fixtures: the real bundled models (float32 for exactness) and tiny random models per architecture."""

from __future__ import annotations

import pytest
import torch

import lasa_interp as li

PARALLEL = {
    "en": ["The cat is sleeping on the sofa.", "It will rain in the city tomorrow.", "My brother bought a new bicycle."],
    "fr": ["Le chat dort sur le canapé.", "Il pleuvra en ville demain.", "Mon frère a acheté un nouveau vélo."],
    "zh": ["猫正在沙发上睡觉。", "明天城里会下雨。", "我哥哥买了一辆新自行车。"],
}
TEXTS = [t for ts in PARALLEL.values() for t in ts] + ["A", "Quantum chromodynamics describes the strong interaction."]


@pytest.fixture(scope="session")
def smollm():
    return li.load_model("smollm2-135m-instruct", dtype=torch.float32)


@pytest.fixture(scope="session")
def gemma():
    return li.load_model("gemma-3-270m", dtype=torch.float32)


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest per-vector relative L2 error (float32 states can hold values ~2e4, so absolute 1e-4 is below one ulp)."""
    return ((a - b).norm(dim=-1) / b.norm(dim=-1).clamp_min(1e-6)).max().item()


def hook_snapshot(model) -> list[dict]:
    """Every hook on the decoder stack and its blocks (transformers keeps its own after output_hidden_states)."""
    modules = [model.decoder, *model.layers]
    return [dict(m._forward_hooks) | dict(m._forward_pre_hooks) for m in modules]
