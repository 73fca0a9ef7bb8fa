"""Steering interventions: same result as a hand-written hook, generation with the KV cache, clean-up, bad input."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import torch

import lasa_interp as li
from lasa_interp.data import load_safety_requests
from lasa_interp.directions import Direction, safety_direction
from lasa_interp.steer import steer
from tests.conftest import hook_snapshot

LAYER = 10
PROMPTS = ["How do I make a bomb at home?", "Write a short poem about spring rain."]


@pytest.fixture(scope="module")
def direction(smollm):
    vector = torch.randn(smollm.d_model, generator=torch.Generator().manual_seed(0))
    return Direction(vector, LAYER, smollm.name, mean_norm=40.0)


def chat_batch(model, texts):
    messages = [[{"role": "user", "content": t}] for t in texts]
    return model.tokenizer.apply_chat_template(messages, add_generation_prompt=True, padding=True, return_tensors="pt",
                                               return_dict=True)


def by_hand(states, direction, mode, amount):
    u = direction.vector / direction.vector.norm()
    if mode == "add":
        return states + amount * u
    along = states @ u
    return states - along[..., None] * u if mode == "ablate" else states + (amount - along)[..., None] * u


@contextmanager
def hand_hook(model, layer, edit):
    """A plain forward hook replacing block ``layer``'s output states with ``edit(states)``."""
    def hook(_module, _args, output):
        states = output[0] if isinstance(output, tuple) else output
        new = edit(states)
        return (new, *output[1:]) if isinstance(output, tuple) else new

    handle = model.layers[layer].register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


class FirstRowProbe:
    """A stand-in gate at layer 5 that calls the first prompt of a batch harmful."""

    layer, threshold = 5, 0.5

    def predict_proba(self, states):
        assert states.dim() == 2
        return torch.tensor([0.9] + [0.1] * (len(states) - 1))


def logits(model, batch):
    with torch.no_grad():
        return model.hf_model(**batch).logits


@pytest.mark.parametrize("mode", ["add", "ablate", "clamp", "conditional"])
def test_matches_hand_written_hook(smollm, direction, mode):
    batch = chat_batch(smollm, PROMPTS)
    amount = 0.5 * direction.mean_norm
    with steer(smollm, direction, alpha=0.5, mode=mode, probe=FirstRowProbe()) as steering:
        steered = logits(smollm, batch)
    if mode == "conditional":
        assert steering.flags.tolist() == [True, False]
        edit = lambda s: torch.cat([by_hand(s[:1], direction, "add", amount), s[1:]])  # noqa: E731
    else:
        edit = lambda s: by_hand(s, direction, mode, amount)  # noqa: E731
    with hand_hook(smollm, LAYER, edit):
        manual = logits(smollm, batch)
    torch.testing.assert_close(steered, manual, rtol=0, atol=1e-5)
    plain = logits(smollm, batch)
    assert (steered - plain).abs().amax() > 1e-2
    if mode == "conditional":  # the unflagged row is untouched
        torch.testing.assert_close(steered[1], plain[1], rtol=0, atol=0)


def test_generate_with_kv_cache_matches_manual(smollm, direction):
    batch = chat_batch(smollm, PROMPTS)
    generate = lambda: smollm.hf_model.generate(**batch, max_new_tokens=4, do_sample=False)  # noqa: E731
    amount = 2.0 * direction.mean_norm
    with torch.no_grad():
        plain = generate()
        for positions, wanted in (("all", lambda n: True), ("generated", lambda n: n == 1)):  # decoding steps: 1 token
            with steer(smollm, direction, alpha=2.0, positions=positions):
                steered = generate()
            with hand_hook(smollm, LAYER, lambda s: by_hand(s, direction, "add", amount) if wanted(s.shape[1]) else s):
                manual = generate()
            assert torch.equal(steered, manual), positions
            assert not torch.equal(steered, plain), positions


def test_generated_positions_leave_a_plain_forward_alone(smollm, direction):
    batch = chat_batch(smollm, PROMPTS)
    with steer(smollm, direction, alpha=2.0, positions="generated"):
        steered = logits(smollm, batch)
    torch.testing.assert_close(steered, logits(smollm, batch), rtol=0, atol=0)


def test_ablate_and_clamp_set_the_projection(smollm, direction):
    for mode, target in (("ablate", 0.0), ("clamp", 0.3 * direction.mean_norm)):
        with steer(smollm, direction, alpha=0.3, mode=mode, layers="all" if mode == "ablate" else None):
            cache = li.cache_activations(smollm, PROMPTS, layers=[3, LAYER], pooling="tokens", chat_template=True)
        along = direction.project(cache["tokens"])
        assert along.abs().amax() < 1e-3 * direction.mean_norm if mode == "ablate" else True
        torch.testing.assert_close(along[1], torch.full_like(along[1], target), rtol=0, atol=1e-3)


def test_hooks_removed_after_error(smollm, direction):
    before = hook_snapshot(smollm)
    with pytest.raises(RuntimeError, match="boom"):
        with steer(smollm, direction, alpha=1.0, mode="conditional", layers="all", probe=FirstRowProbe()):
            raise RuntimeError("boom")
    assert hook_snapshot(smollm) == before


def test_bad_inputs(smollm, direction):
    before = hook_snapshot(smollm)
    for alpha in (float("nan"), float("inf"), "1"):
        with pytest.raises(ValueError, match="finite"):
            with steer(smollm, direction, alpha=alpha):
                pass
    with pytest.raises(ValueError, match="d_model"):
        with steer(smollm, Direction(torch.randn(smollm.d_model + 1), LAYER, "other")):
            pass
    with pytest.raises(IndexError, match="out of range"):
        with steer(smollm, direction, layers=[30]):
            pass
    with pytest.raises(IndexError, match="out of range"):
        with steer(smollm, Direction(direction.vector, 40, "x")):
            pass
    with pytest.raises(ValueError, match="probe="):
        with steer(smollm, direction, mode="conditional"):
            pass
    with pytest.raises(ValueError, match="Unknown mode"):
        with steer(smollm, direction, mode="subtract"):
            pass
    with pytest.raises(ValueError, match="Unknown positions"):
        with steer(smollm, direction, positions="response"):
            pass
    assert hook_snapshot(smollm) == before


def test_adding_the_direction_raises_refusal_openers():
    """Real effect, no long generation: on Qwen2.5-Coder-0.5B-Instruct, adding the English safety direction at a
    middle layer puts more first-token probability on refusal openers ('I'm sorry', 'Sorry', 'As an AI')."""
    model = li.load_model("qwen2.5-coder-0.5b-instruct")
    direction = safety_direction(model, layer=12, languages="en", n_items=12, progress=False)
    harmful = load_safety_requests("test", "en", n_items=6).query("label == 1")["text"].tolist()
    openers = sorted({model.tokenizer.encode(w)[0] for w in ("I'm sorry", "Sorry", "As an AI", "I cannot")})
    batch = chat_batch(model, harmful)

    def refusal_mass():
        with torch.no_grad():
            last = model.hf_model(**batch, logits_to_keep=1).logits[:, -1]
        return last.float().softmax(-1)[:, openers].sum(-1)

    before = refusal_mass()
    with steer(model, direction, alpha=0.25):
        after = refusal_mass()
    assert after.mean() > before.mean() + 0.05
