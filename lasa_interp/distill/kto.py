"""LASA-style distillation with KTO: refuse what the bottleneck probe flags, answer the rest as before.

The recipe of the LASA paper, made optional (it needs ``trl`` and is slow without a GPU): the
safety probe at the semantic bottleneck (the gate of a conditional :class:`Intervention`)
decides, per request and in any language, whether a refusal is wanted. KTO (Ethayarajh et al.
2024, TRL's ``KTOTrainer``) then trains LoRA adapters on unpaired examples:

- flagged request: the refusal text is *desirable*; the model's own reply, when the phrase judge
  does not call it a refusal, is *undesirable*;
- request not flagged: the model's own reply is *desirable* (utility kept), unless it is itself a
  refusal; the refusal text is *undesirable*.

Unlike ``method="trained"`` nothing imitates the steering hook: the intervention contributes its
gate (probe, threshold), and the refusal wording comes from ``refusal``.
"""

from __future__ import annotations

import copy
import tempfile
from typing import Any, Iterable, Mapping

import pandas as pd
import torch
from torch import nn

from ..directions.inputs import prompt_states
from ..evaluate import generate_responses, judge_phrases
from ..models import LasaModel, load_model
from ..steer import Intervention
from .trained import Texts, lora_config, merged, training_prompts

REFUSAL = "I'm sorry, but I can't help with that request."


def _refusal_texts(refusal: str | Mapping[str, str], langs: pd.Series) -> list[str]:
    """The refusal text for each request: one string, or a mapping language -> string (``"default"`` for the rest)."""
    if isinstance(refusal, str):
        return [refusal] * len(langs)
    missing = sorted(set(langs) - set(refusal))
    if missing and "default" not in refusal:
        raise ValueError(f"refusal has no text for languages {missing}; add them or a 'default' entry.")
    return [refusal.get(lang, refusal.get("default")) for lang in langs]


def kto_examples(
    model: LasaModel, intervention: Intervention, prompts: pd.DataFrame, refusals: list[str],
    max_new_tokens: int, batch_size: int, progress: bool | None,
) -> pd.DataFrame:
    """The unpaired KTO examples (``text, completion, label, lang, kind, flagged, source``) for ``prompts``, given
    the refusal text for each."""
    probe = intervention.probe
    layer = model.resolve_layers(probe.layer)[0]
    states = prompt_states(model, prompts, [layer], True, batch_size, progress).at(layer)
    flagged = probe.flags(states, intervention.threshold).cpu().numpy()
    own = generate_responses(model, prompts, max_new_tokens, batch_size, progress=progress)
    own_refuses = judge_phrases(own["response"].tolist(), prompts["text"].tolist())["refused"].to_numpy()
    rows = []
    for i, row in enumerate(prompts.itertuples(index=False)):
        base = {"text": row.text, "lang": row.lang, "kind": row.kind, "flagged": bool(flagged[i])}
        rows.append({**base, "completion": refusals[i], "label": bool(flagged[i]), "source": "refusal"})
        if bool(flagged[i]) == bool(own_refuses[i]):
            continue  # the model already does what the gate asks: its reply is no counter-example
        rows.append({**base, "completion": own["response"].iloc[i], "label": not flagged[i], "source": "own"})
    return pd.DataFrame(rows)


def distill_kto(
    model: Any,
    intervention: Intervention,
    *,
    harmful: Texts = None,
    harmless: Texts = None,
    languages: str | Iterable[str] | None = None,
    n_items: int | None = 16,
    refusal: str | Mapping[str, str] = REFUSAL,
    n_steps: int | None = None,
    epochs: int = 1,
    lr: float = 5e-5,
    beta: float = 0.1,
    lora_rank: int = 8,
    target_modules: str | list[str] = "all-linear",
    max_new_tokens: int = 64,
    batch_size: int = 8,
    seed: int = 0,
    progress: bool | None = None,
) -> nn.Module:
    """A plain HF model trained with KTO to refuse the requests ``intervention``'s probe flags (see the module docstring).

    ``intervention`` must be gated (``mode="conditional"`` with a ``probe``); its probe and
    threshold decide which requests get ``refusal`` (a string, or a mapping language -> string
    with an optional ``"default"``). Data as in :func:`lasa_interp.distill.trained.distill_trained`
    (harmless data required). The model's own greedy replies (``max_new_tokens``) are the other
    examples. Training: LoRA (rank ``lora_rank``) merged into the weights on return, KTO with
    ``beta``, ``lr``, ``batch_size`` examples per step for ``n_steps`` steps (default
    ``epochs`` passes), undesirable examples weighted so both kinds count equally; needs ``trl``
    (``pip install 'lasa-interp[kto]'``) and a chat template. The returned model's
    ``distill_log`` has ``step, loss, margin`` (mean reward margin, desirable minus undesirable)
    and ``kto_examples`` the training examples.
    """
    try:
        from datasets import Dataset
        from transformers import PrinterCallback
        from trl import KTOConfig, KTOTrainer
    except ImportError as exc:
        raise ImportError("method='kto' needs trl and peft: pip install 'lasa-interp[kto]'.") from exc
    model = model if isinstance(model, LasaModel) else load_model(model)
    if not isinstance(intervention, Intervention) or intervention.probe is None:
        raise ValueError(
            "method='kto' gates refusals by the intervention's probe: pass "
            "Intervention(direction, mode='conditional', probe=lasa_interp.train_safety_probe(model, target_fpr=0.1))."
        )
    if not model.chat_template:
        raise ValueError(f"{model.name} has no chat template; KTO trains on chat turns (use an instruct model).")
    for name, value, least, why in (("batch_size", batch_size, 2, " (KTO's KL estimate needs 2 per batch)"),
                                    ("epochs", epochs, 1, "")):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be an int >= {least}, got {value!r}{why}.")
    lora = lora_config(lora_rank, target_modules)
    prompts = training_prompts(harmful, harmless, languages, n_items, seed)
    refusals = _refusal_texts(refusal, prompts["lang"])
    examples = kto_examples(model, intervention, prompts, refusals, max_new_tokens, batch_size, progress)
    n_good = int(examples["label"].sum())
    n_bad, n_flagged = len(examples) - n_good, int(examples.loc[examples["source"] == "refusal", "flagged"].sum())
    if not n_good or not n_bad:
        raise ValueError(
            f"KTO needs desirable and undesirable examples; got {n_good} and {n_bad} (the probe flagged "
            f"{n_flagged} of {len(prompts)} requests)."
        )
    dataset = Dataset.from_dict({
        "prompt": [[{"role": "user", "content": t}] for t in examples["text"]],
        "completion": [[{"role": "assistant", "content": c}] for c in examples["completion"]],
        "label": examples["label"].tolist(),
    })
    student = copy.deepcopy(model.hf_model).float()  # small updates round away in bfloat16
    show = bool(progress)
    with tempfile.TemporaryDirectory(prefix="lasa-kto-") as scratch:
        args = KTOConfig(
            output_dir=scratch, per_device_train_batch_size=batch_size, learning_rate=lr, beta=beta,
            max_steps=n_steps if n_steps is not None else -1, num_train_epochs=epochs, lr_scheduler_type="constant",
            desirable_weight=1.0, undesirable_weight=n_good / n_bad, logging_steps=1, save_strategy="no",
            report_to="none", seed=seed, data_seed=seed, disable_tqdm=not show, use_cpu=model.device.type == "cpu",
        )
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            trainer = KTOTrainer(
                model=student, args=args, train_dataset=dataset, processing_class=model.tokenizer,
                peft_config=lora,
            )
            if not show:
                trainer.remove_callback(PrinterCallback)  # with tqdm off, transformers prints every log line
            trainer.train()
    history = [h for h in trainer.state.log_history if "loss" in h]
    result = merged(trainer.model).to(model.dtype)
    result.distill_log = pd.DataFrame({
        "step": range(len(history)), "loss": [float(h["loss"]) for h in history],
        "margin": [float(h.get("rewards/margins", float("nan"))) for h in history],
    })
    result.kto_examples = examples
    result.lasa_interp_card = {"training": {
        "student": "LoRA", "objective": "KTO", "lr": lr, "beta": beta, "lora_rank": lora_rank,
        "target_modules": target_modules, "batch_size": batch_size, "seed": seed, "n_steps": len(history),
        "n_requests": len(prompts), "n_flagged": n_flagged,
        "n_desirable": n_good, "n_undesirable": n_bad, "refusal": refusal if isinstance(refusal, str) else dict(refusal),
        "languages": list(dict.fromkeys(prompts["lang"])),
    }}
    return result
