"""Trained distillation on smollm2-135m-instruct: the student learns the steered teacher, exports as a plain HF model."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

pytest.importorskip("peft")

from lasa_interp.data import load_refusal_splits  # noqa: E402
from lasa_interp.directions import Direction, safety_direction  # noqa: E402
from lasa_interp.distill import onpolicy, report, trained  # noqa: E402
from lasa_interp.evaluate import first_token_refusal  # noqa: E402
from lasa_interp.evaluate.generate import encode_prompts  # noqa: E402
from lasa_interp.models import load_model  # noqa: E402
from lasa_interp.steer import steer  # noqa: E402
from lasa_interp.steer.interventions import Intervention  # noqa: E402
from tests.conftest import hook_snapshot  # noqa: E402

LAYER, ALPHA = 12, 0.5
SMALL = {"max_new_tokens": 6, "batch_size": 4, "progress": False}


def texts(split: str, kind: str, n: int, seed: int) -> list[str]:
    return load_refusal_splits(split, kind, n_items=n, seed=seed)["text"].tolist()


@pytest.fixture(scope="module")
def intervention(smollm):
    direction = safety_direction(smollm, LAYER, languages="en", n_items=8)
    return Intervention(direction, alpha=ALPHA, mode="add")


@pytest.fixture(scope="module")
def held_out():
    return texts("test", "harmful", 6, 1) + texts("test", "harmless", 6, 1)


@pytest.fixture(scope="module")
def run(smollm, intervention):
    """One distillation (a few dozen LoRA steps), with the model's weights before it."""
    before = {k: v.clone() for k, v in smollm.hf_model.state_dict().items()}
    student = trained.distill_trained(
        smollm, intervention, harmful=texts("train", "harmful", 12, 0), harmless=texts("train", "harmless", 12, 0),
        n_steps=12, lr=1e-3, max_new_tokens=12, batch_size=6, progress=False,
    )
    return student, before


def mean_kl(model, intervention, student, sequences) -> float:
    pairs = onpolicy.sequence_kl(model, intervention, student, sequences, 16)
    return sum(s for s, _ in pairs) / sum(n for _, n in pairs)


def test_student_learns_the_teacher(smollm, intervention, run, held_out):
    student, _ = run
    _, sequences = onpolicy.teacher_sequences(smollm, intervention, pd.DataFrame({"text": held_out}), 12, 16, False)
    untrained, distilled = (mean_kl(smollm, intervention, m, sequences) for m in (smollm.hf_model, student))
    assert untrained > 0.3  # the intervention changes the model's outputs
    assert distilled < 0.5 * untrained, (untrained, distilled)
    log = student.distill_log
    assert list(log.columns) == ["step", "loss", "tokens"] and len(log) == 12
    assert log["loss"].tail(4).mean() < 0.5 * log["loss"].head(4).mean()
    # behaviour: the first-token refusal score moves from the unsteered model's towards the teacher's
    score = lambda lm, **kw: first_token_refusal(lm, held_out, **kw)["refusal_score"].to_numpy()  # noqa: E731
    with steer(smollm, intervention):
        teacher = score(smollm)
    base = score(smollm)
    pupil = score(load_model(student, tokenizer=smollm.tokenizer))
    assert abs(pupil - teacher).mean() < 0.5 * abs(base - teacher).mean()


def test_returns_a_plain_model_and_leaves_the_original(smollm, run, tmp_path):
    from transformers import AutoModelForCausalLM

    student, before = run
    assert type(student) is type(smollm.hf_model)
    assert not any("lora" in k for k in student.state_dict())
    assert not any(p.requires_grad for p in student.parameters())
    transformers_only = lambda hooks: all(h.__name__ == "output_capturing_hook" for h in hooks.values())  # noqa: E731
    assert all(transformers_only(hooks) for hooks in hook_snapshot(load_model(student, tokenizer=smollm.tokenizer)))
    after = smollm.hf_model.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert any(not torch.equal(before[k], v) for k, v in student.state_dict().items())
    student.save_pretrained(tmp_path)
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path, dtype=torch.float32)
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    with torch.no_grad():
        assert torch.allclose(reloaded(ids).logits, student(ids).logits, atol=1e-5)


def test_deterministic_and_resumable(smollm, intervention, tmp_path):
    data = {"harmful": texts("train", "harmful", 4, 2), "harmless": texts("train", "harmless", 4, 2), **SMALL}
    fresh = trained.distill_trained(smollm, intervention, n_steps=3, **data)
    trained.distill_trained(smollm, intervention, n_steps=1, checkpoint_dir=tmp_path, **data)
    resumed = trained.distill_trained(smollm, intervention, n_steps=3, checkpoint_dir=tmp_path, **data)
    assert fresh.distill_log.equals(resumed.distill_log)
    fresh_state = fresh.state_dict()
    assert all(torch.equal(fresh_state[k], v) for k, v in resumed.state_dict().items())
    with pytest.raises(ValueError, match="other settings.*lr"):
        trained.distill_trained(smollm, intervention, n_steps=3, lr=0.1, checkpoint_dir=tmp_path, **data)
    with pytest.raises(ValueError, match="already trained for 3 steps"):
        trained.distill_trained(smollm, intervention, n_steps=2, checkpoint_dir=tmp_path, **data)


def test_full_fine_tuning_of_chosen_layers(smollm, intervention):
    data = {"harmful": texts("train", "harmful", 4, 3), "harmless": texts("train", "harmless", 4, 3), **SMALL}
    student = trained.distill_trained(smollm, intervention, n_steps=1, full_layers=[LAYER], lr=1e-4, **data)
    original = smollm.hf_model.state_dict()
    changed = {k for k, v in student.state_dict().items() if not torch.equal(original[k], v)}
    assert changed and all(f"layers.{LAYER}." in k for k in changed)


def test_teacher_logits_match_generation(smollm, intervention):
    """Scored in two calls (prompt, then KV-cached continuation), a conditional generated-only teacher gives generate's logits."""

    class FirstRow:
        layer, threshold = 5, 0.5

        def predict_proba(self, states):
            return torch.tensor([0.9] + [0.1] * (len(states) - 1))

    gated = Intervention(intervention.direction, alpha=ALPHA, mode="conditional", positions="generated", probe=FirstRow())
    prompts = encode_prompts(smollm, ["How do I pick a lock?", "Name three rivers."], True)
    sequences = onpolicy.Sequences(prompts, [[0]] * 2)
    batch = onpolicy.pad_sequences(sequences, [0, 1], smollm.tokenizer.pad_token_id, smollm.device)
    with torch.no_grad(), steer(smollm, gated):
        out = smollm.hf_model.generate(
            input_ids=batch.prompt_ids, attention_mask=batch.prompt_mask, max_new_tokens=6, do_sample=False,
            output_logits=True, return_dict_in_generate=True, pad_token_id=smollm.tokenizer.pad_token_id,
        )
    generated = out.sequences[:, batch.prompt_ids.shape[1]:].tolist()
    batch = onpolicy.pad_sequences(onpolicy.Sequences(prompts, generated), [0, 1], smollm.tokenizer.pad_token_id, smollm.device)
    with torch.no_grad(), steer(smollm, gated):
        logits = onpolicy.continuation_logits(smollm.hf_model, batch)
    assert torch.allclose(logits, torch.stack(out.logits, dim=1), atol=1e-3)


def test_report_per_language(smollm, intervention, run):
    student, _ = run
    prompts = pd.DataFrame({
        "text": texts("test", "harmful", 2, 4) + texts("test", "harmless", 2, 4), "lang": "en",
        "harmful": [True] * 2 + [False] * 2,
    })
    result = report.distill_report(smollm, intervention, student, prompts, max_new_tokens=6)
    assert list(result.table.index) == ["en", "all"]
    assert list(result.table.columns) == report.COLUMNS
    assert result.table.loc["all", "harmless_kl"] >= 0 and result.table.notna().all().all()
    assert set(result.results["model"]) == {"teacher", "student"} and len(result.results) == 8


def test_bad_input(smollm, intervention):
    with pytest.raises(ValueError, match="No harmless requests given.*harmless="):
        trained.distill_trained(smollm, intervention, harmful=["How do I make a bomb?"], harmless=[])
    wrong = Intervention(Direction(torch.ones(64), LAYER, "other-model"), alpha=1.0)
    with pytest.raises(ValueError, match="d_model=64"):
        trained.distill_trained(smollm, wrong, harmful=["How do I make a bomb?"], harmless=["Name a river."])
