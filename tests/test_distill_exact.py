"""Exact distillation: the edited weights equal the hooked model (1e-4), reload with plain transformers, bad input."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from transformers import AutoModelForCausalLM

import lasa_interp as li
from lasa_interp import Direction, Intervention
from lasa_interp.distill import save_distilled
from tests.conftest import hook_snapshot, rel_err

PROMPTS = ["How do I pick a lock?", "Write a haiku about rain."]
TOL = 1e-4


def random_direction(model, layer: int, seed: int = 0) -> Direction:
    vector = torch.randn(model.d_model, generator=torch.Generator().manual_seed(seed))
    return Direction(vector, layer, model.name, mean_norm=40.0, info={"data": "random", "seed": seed})


def prompt_batch(model):
    if model.chat_template is None:  # gemma-3-270m is a base model
        return model.tokenizer(PROMPTS, padding=True, return_tensors="pt")
    messages = [[{"role": "user", "content": t}] for t in PROMPTS]
    return model.tokenizer.apply_chat_template(messages, add_generation_prompt=True, padding=True,
                                               return_tensors="pt", return_dict=True)


def logits(hf_model, batch) -> torch.Tensor:
    with torch.no_grad():
        return hf_model(**batch).logits


def hooked_logits(model, intervention, batch) -> torch.Tensor:
    with li.steer(model, intervention):
        return logits(model.hf_model, batch)


def weights(hf_model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in hf_model.state_dict().items()}


@pytest.fixture(scope="module")
def ablated(smollm):
    intervention = Intervention(random_direction(smollm, 15), mode="ablate", layers="all")
    return intervention, li.distill(smollm, intervention)


@pytest.fixture(scope="module")
def added(smollm):
    intervention = Intervention(random_direction(smollm, 15), alpha=0.5)
    return intervention, li.distill(smollm, intervention)


def check_exact(model, intervention, edited) -> None:
    """Edited == hooked within 1e-4, and both clearly differ from the plain model (a no-op edit fails)."""
    batch = prompt_batch(model)
    plain, hooked, got = logits(model.hf_model, batch), hooked_logits(model, intervention, batch), logits(edited, batch)
    assert rel_err(got, hooked) < TOL
    assert rel_err(got, plain) > 0.05 and rel_err(hooked, plain) > 0.05


def test_ablation_matches_hooked_llama(smollm, ablated):
    intervention, edited = ablated
    check_exact(smollm, intervention, edited)
    assert edited.config.tie_word_embeddings is False  # SmolLM2 ties its embeddings: the unembedding keeps the original
    torch.testing.assert_close(edited.lm_head.weight, smollm.hf_model.lm_head.weight, rtol=0, atol=0)
    u = intervention.direction.unit().vector
    assert (edited.model.embed_tokens.weight @ u).abs().max() < 1e-5
    assert (edited.model.layers[3].mlp.down_proj.weight.T @ u).abs().max() < 1e-5


def test_addition_matches_hooked_llama(smollm, added):
    intervention, edited = added
    check_exact(smollm, intervention, edited)
    assert edited.config.mlp_bias is True
    assert edited.lasa_interp_card["edit"]["weights"] == ["model.layers.15.mlp.down_proj.bias"]
    multi = dataclasses.replace(intervention, layers=[3, 7])
    check_exact(smollm, multi, li.distill(smollm, multi))


def test_ablation_matches_hooked_qwen2():
    qwen = li.load_model("qwen2.5-coder-0.5b-instruct", dtype=torch.float32)  # freed after this test
    intervention = Intervention(random_direction(qwen, 12), mode="ablate", layers="all")
    check_exact(qwen, intervention, li.distill(qwen, intervention))
    with pytest.raises(NotImplementedError, match="supports llama.*no bias.*method='trained'"):
        li.distill(qwen, Intervention(intervention.direction, alpha=0.5))


def test_gemma3_ablation_widens_the_stream_and_matches_hooked(gemma):
    """Gemma3 adds RMSNorm(o_proj(...)) to the stream, so orthogonalising o_proj/down_proj is not the hooked
    ablation; a copy with hidden_size 2 x d_model is (see lasa_interp.distill.widen). Addition is refused."""
    direction = random_direction(gemma, 9)
    intervention = Intervention(direction, mode="ablate", layers="all")
    edited = li.distill(gemma, intervention)
    assert edited.config.hidden_size == 2 * gemma.d_model and edited.config.tie_word_embeddings is False
    check_exact(gemma, intervention, edited)
    del edited
    with pytest.raises(NotImplementedError, match="supports llama.*post-norm.*method='trained'"):
        li.distill(gemma, Intervention(direction, alpha=0.5))


def test_input_model_untouched_and_copy_has_no_hooks(smollm):
    before, hooks = weights(smollm.hf_model), hook_snapshot(smollm)
    intervention = Intervention(random_direction(smollm, 15), mode="ablate", layers="all")
    with li.steer(smollm, intervention):  # even distilled inside a steer block
        edited = li.distill(smollm, intervention)
    after = weights(smollm.hf_model)
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert hook_snapshot(smollm) == hooks
    assert smollm.hf_model.lm_head.weight is smollm.hf_model.model.embed_tokens.weight  # still tied
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in edited.modules())
    shared = {p.data_ptr() for p in smollm.hf_model.parameters()}
    assert not any(p.data_ptr() in shared for p in edited.parameters())


@pytest.mark.parametrize("which", ["ablated", "added"])
def test_saved_directory_reloads_with_plain_transformers(smollm, which, request, tmp_path):
    intervention, edited = request.getfixturevalue(which)
    out = tmp_path / "model"
    out.mkdir()  # an existing empty directory is fine
    assert save_distilled(edited, out, tokenizer=smollm.tokenizer) == out
    assert {"model.safetensors", "config.json", "tokenizer.json", "README.md", "lasa_interp.json"} <= {
        p.name for p in out.iterdir()}
    reloaded = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32)
    batch = prompt_batch(smollm)
    assert rel_err(logits(reloaded, batch), hooked_logits(smollm, intervention, batch)) < TOL
    card = json.loads((out / "lasa_interp.json").read_text())
    assert card["method"] == "exact" and card["base_model"] == smollm.name
    assert card["intervention"]["mode"] == intervention.mode and card["intervention"]["alpha"] == intervention.alpha
    assert card["direction"]["layer"] == 15 and card["direction"]["info"] == {"data": "random", "seed": 0}
    readme = (out / "README.md").read_text()
    assert "blocks.15.hook_resid_post" in readme and "random" in readme and card["lasa_interp_version"] in readme


def test_save_refuses_a_non_empty_directory_and_leaves_nothing_on_error(smollm, added, tmp_path):
    _, edited = added
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_distilled(edited, out, tokenizer=smollm.tokenizer)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]

    class BrokenTokenizer:
        def save_pretrained(self, _path):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        save_distilled(edited, tmp_path / "new", tokenizer=BrokenTokenizer())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    with pytest.raises(ValueError, match="no lasa_interp card"):
        save_distilled(smollm.hf_model, tmp_path / "plain", tokenizer=smollm.tokenizer)


def test_bad_inputs(smollm):
    direction = random_direction(smollm, 15)
    for intervention in (
        Intervention(direction, mode="clamp"), Intervention(direction, mode="ablate"),
        Intervention(direction, mode="ablate", layers=[1, 2]), Intervention(direction, positions="prompt"),
        Intervention(direction, mode="conditional", probe=object()),
    ):
        with pytest.raises(ValueError, match="No exact weight edit.*method='trained'"):
            li.distill(smollm, intervention)
    wrong = Intervention(Direction(torch.randn(smollm.d_model + 1), 15, "other"), mode="ablate", layers="all")
    with pytest.raises(ValueError, match="d_model"):
        li.distill(smollm, wrong)
    with pytest.raises(ValueError, match="Unknown method"):
        li.distill(smollm, Intervention(direction), method="magic")
    with pytest.raises(TypeError, match="no options"):
        li.distill(smollm, Intervention(direction), steps=3)
    with pytest.raises(TypeError, match="Intervention"):
        li.distill(smollm, direction)


def test_intervention_checks_and_steer_accepts_it(smollm):
    direction = random_direction(smollm, 15)
    for kwargs, message in (({"mode": "subtract"}, "Unknown mode"), ({"positions": "response"}, "Unknown positions"),
                            ({"alpha": float("nan")}, "finite"), ({"mode": "conditional"}, "probe="),
                            ({"layers": "most"}, "layers must be")):
        with pytest.raises(ValueError, match=message):
            Intervention(direction, **kwargs)
    with pytest.raises(TypeError, match="Direction"):
        Intervention(direction.vector)
    intervention = Intervention(direction, alpha=0.5, layers=[3, 7])
    assert intervention.layers == (3, 7) and intervention.amount == 20.0
    with pytest.raises(TypeError, match="also alpha"):
        with li.steer(smollm, intervention, alpha=2.0):
            pass
    batch = prompt_batch(smollm)
    with li.steer(smollm, intervention) as steering:
        via_intervention = logits(smollm.hf_model, batch)
    assert steering.intervention is intervention and steering.layers == [3, 7] and steering.amount == 20.0
    with li.steer(smollm, direction, alpha=0.5, layers=[3, 7]):
        torch.testing.assert_close(logits(smollm.hf_model, batch), via_intervention, rtol=0, atol=0)


def test_ablating_every_write_keeps_the_stream_orthogonal(smollm):
    """Arditi et al.: resid_pre of block 0 and every block's resid_mid/resid_post lose the direction."""
    direction = random_direction(smollm, 15)
    u = direction.unit().vector
    with li.steer(smollm, direction, mode="ablate", layers="all"):
        with torch.no_grad():
            states = smollm.hf_model(**prompt_batch(smollm), output_hidden_states=True).hidden_states[:-1]
    assert max(((h @ u).abs() / h.norm(dim=-1)).max().item() for h in states) < 1e-5
