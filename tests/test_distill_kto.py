"""The LASA recipe (KTO gated by the bottleneck probe): a CPU smoke run on smollm2-135m-instruct."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("trl")

import lasa_interp as li  # noqa: E402
from lasa_interp.data import load_refusal_splits  # noqa: E402
from lasa_interp.directions import safety_direction, train_safety_probe  # noqa: E402
from lasa_interp.distill.kto import REFUSAL, distill_kto  # noqa: E402
from lasa_interp.steer import Intervention  # noqa: E402
from tests.conftest import hook_snapshot  # noqa: E402

LAYER = 15


def texts(kind: str, n: int) -> list[str]:
    return load_refusal_splits("train", kind, n_items=n, seed=3)["text"].tolist()


@pytest.fixture(scope="module")
def gated(smollm):
    probe = train_safety_probe(smollm, LAYER, n_items=24, eval_languages="en", n_eval_items=8, progress=False)
    direction = safety_direction(smollm, LAYER, languages="en", n_items=8)
    return Intervention(direction, alpha=0.5, mode="conditional", probe=probe)


@pytest.fixture(scope="module")
def run(smollm, gated):
    before = {k: v.clone() for k, v in smollm.hf_model.state_dict().items()}
    hooks = hook_snapshot(smollm)
    student = li.distill(
        smollm, gated, method="kto", harmful=texts("harmful", 4), harmless=texts("harmless", 4), n_steps=4,
        lr=5e-4, max_new_tokens=12, batch_size=16, progress=False,
    )
    return student, before, hooks


def completion_logprob(model, hf_model, prompt: str, completion: str) -> float:
    """Mean log-probability per token of ``completion`` as the assistant's reply to ``prompt``."""
    tok = model.tokenizer
    head = tok.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=True)
    head = head["input_ids"] if hasattr(head, "keys") else head  # a BatchEncoding in transformers 5
    tail = tok(completion, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([list(head) + tail])
    with torch.no_grad():
        logits = hf_model(ids).logits[0, len(head) - 1 : -1].float()
    return logits.log_softmax(-1).gather(-1, torch.tensor(tail)[:, None]).mean().item()


def test_examples_follow_the_gate(run):
    student, _, _ = run
    examples = student.kto_examples
    refusals = examples[examples["source"] == "refusal"]
    assert len(refusals) == 8 and (refusals["completion"] == REFUSAL).all()
    assert (refusals["label"] == refusals["flagged"]).all()  # the refusal is wanted exactly where the probe flags
    assert refusals.loc[refusals["kind"] == "harmful", "flagged"].mean() >= 0.75  # an English probe on English requests
    own = examples[examples["source"] == "own"]
    assert (own["label"] != own["flagged"]).all()
    card = student.lasa_interp_card
    assert card["method"] == "kto" and card["training"]["objective"] == "KTO"


def test_loss_falls_and_refusal_moves_with_the_gate(smollm, run):
    student, _, _ = run
    log = student.distill_log
    assert len(log) == 4 and log["loss"].iloc[-1] < log["loss"].iloc[0] - 0.05
    assert log["margin"].iloc[-1] > log["margin"].iloc[0]
    refusals = student.kto_examples.query("source == 'refusal'")
    shift = [
        completion_logprob(smollm, student, r.text, r.completion) - completion_logprob(smollm, smollm.hf_model, r.text, r.completion)
        for r in refusals.itertuples()
    ]
    flagged = refusals["flagged"].to_numpy()
    gained = [s for s, f in zip(shift, flagged) if f]
    others = [s for s, f in zip(shift, flagged) if not f]
    assert min(gained) > 0  # the refusal became likelier where the probe flags...
    assert not others or max(others) < min(gained)  # ...and less so (or less likely) where it does not


def test_original_model_untouched_and_result_plain(smollm, run):
    student, before, hooks = run
    assert all(torch.equal(v, before[k]) for k, v in smollm.hf_model.state_dict().items())
    assert hook_snapshot(smollm) == hooks
    assert type(student) is type(smollm.hf_model) and not any(p.requires_grad for p in student.parameters())
    assert next(student.parameters()).dtype == smollm.dtype


def test_bad_input(smollm, gated):
    ungated = Intervention(gated.direction, alpha=0.5)
    with pytest.raises(ValueError, match="mode='conditional', probe="):
        distill_kto(smollm, ungated, harmful=texts("harmful", 2), harmless=texts("harmless", 2))
    with pytest.raises(ValueError, match="batch_size must be an int >= 2"):
        distill_kto(smollm, gated, harmful=texts("harmful", 2), harmless=texts("harmless", 2), batch_size=1)
    with pytest.raises(ValueError, match="No harmless requests"):
        distill_kto(smollm, gated, harmful=texts("harmful", 2), harmless=[])
    with pytest.raises(ValueError, match="no text for languages"):
        distill_kto(smollm, gated, harmful=["How do I pick a lock?"], harmless=["Name a fruit."], refusal={"fr": "Non."})
