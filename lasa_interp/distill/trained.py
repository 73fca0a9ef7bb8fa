"""Trained distillation: teach a hook-free copy of the model (LoRA or chosen layers) to act like the model under an intervention.

Teacher = the model under ``steer(model, intervention)``; data = its greedy continuations of
harmful and harmless requests (on-policy); loss = KL(teacher || student) of the next-token
distributions over the continuation tokens, the teacher's logits computed with the intervention
active on the same sequences.
"""

from __future__ import annotations

import copy
import hashlib
import math
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from ..cache.inputs import as_texts
from ..data import load_safety_requests
from ..models import LasaModel, load_model
from ..models.loading import find_decoder_layers
from ..steer import Intervention, steer
from . import checkpoint
from .onpolicy import Sequences, continuation_logits, pad_sequences, teacher_sequences, token_kl

Texts = Sequence[str] | pd.DataFrame | None


def training_prompts(
    harmful: Texts, harmless: Texts, languages: str | Iterable[str] | None, n_items: int | None, seed: int
) -> pd.DataFrame:
    """``text, lang, kind`` of the requests to distil on; ``None`` takes that kind from PolyRefuse's train split.

    The defaults are ``n_items`` requests per kind and language (all 14 languages, or
    ``languages``; English harmless ones from Arditi et al.'s Alpaca split).
    """
    defaults = load_safety_requests("train", languages, n_items, seed) if harmful is None or harmless is None else None
    parts = []
    for kind, given in (("harmful", harmful), ("harmless", harmless)):
        if given is None:
            frame = defaults[defaults["kind"] == kind]
        elif len(given) == 0:
            why = " (it guards utility: the student must learn where the teacher leaves the model alone)"
            extra = why if kind == "harmless" else ""
            raise ValueError(
                f"No {kind} requests given: distillation needs {kind} data{extra}. Pass {kind}=[...] (texts or a "
                f"DataFrame with 'text'), or {kind}=None for PolyRefuse's train split."
            )
        else:
            frame = as_texts(given)
        frame = frame if "lang" in frame.columns else frame.assign(lang="all")
        parts.append(frame[["text", "lang"]].assign(kind=kind))
    return pd.concat(parts, ignore_index=True)


def intervention_key(intervention: Intervention) -> dict[str, Any]:
    """The intervention's settings as plain values (the direction by a hash of its vector), to match checkpoints."""
    vector = intervention.direction.vector.numpy().tobytes()
    return {
        "direction": hashlib.sha256(vector).hexdigest()[:16], "direction_layer": intervention.direction.layer,
        "alpha": float(intervention.alpha), "mode": intervention.mode, "layers": repr(intervention.layers),
        "positions": intervention.positions, "probe": repr(intervention.probe), "threshold": intervention.threshold,
    }


def batch_rows(step: int, n: int, batch_size: int, seed: int) -> list[int]:
    """Rows of training step ``step``: consecutive slices of one seeded permutation of the ``n`` sequences per epoch."""
    rows = []
    for position in range(step * batch_size, (step + 1) * batch_size):
        epoch, k = divmod(position, n)
        rows.append(int(np.random.default_rng([seed, epoch]).permutation(n)[k]))
    return rows


def lora_config(lora_rank: int, target_modules: str | list[str]) -> Any:
    """peft's ``LoraConfig`` of the students: rank ``lora_rank``, alpha twice the rank, no dropout."""
    try:
        from peft import LoraConfig
    except ImportError as exc:
        raise ImportError(
            "LoRA distillation needs peft: pip install 'lasa-interp[distill]' (or pass full_layers=[...] to fine-tune "
            "chosen layers without it)."
        ) from exc
    if isinstance(lora_rank, bool) or not isinstance(lora_rank, int) or lora_rank < 1:
        raise ValueError(f"lora_rank must be an int >= 1, got {lora_rank!r}.")
    return LoraConfig(r=lora_rank, lora_alpha=2 * lora_rank, lora_dropout=0.0, target_modules=target_modules)


def make_student(
    model: LasaModel, lora_rank: int, target_modules: str | list[str], full_layers: int | Sequence[int] | None, seed: int
) -> nn.Module:
    """A copy of the HF model with only the trainable part requiring grad: LoRA adapters (peft), or ``full_layers``' weights."""
    student = copy.deepcopy(model.hf_model)
    student.requires_grad_(False)
    if full_layers is not None:
        blocks = find_decoder_layers(student)[1]
        for layer in model.resolve_layers(full_layers):
            blocks[layer].requires_grad_(True)
        return student.train()
    from peft import get_peft_model

    config = lora_config(lora_rank, target_modules)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return get_peft_model(student, config).train()


def merged(student: nn.Module) -> nn.Module:
    """The plain HF model: LoRA merged into the weights (peft), no grad, eval mode."""
    if hasattr(student, "merge_and_unload"):
        student = student.merge_and_unload()
    return student.requires_grad_(False).eval()


def distill_trained(
    model: Any,
    intervention: Intervention,
    *,
    harmful: Texts = None,
    harmless: Texts = None,
    languages: str | Iterable[str] | None = None,
    n_items: int | None = 16,
    n_steps: int | None = None,
    epochs: int = 2,
    lr: float | None = None,
    lora_rank: int = 8,
    target_modules: str | list[str] = "all-linear",
    full_layers: int | Sequence[int] | None = None,
    max_new_tokens: int = 32,
    batch_size: int = 8,
    seed: int = 0,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 10,
    progress: bool | None = None,
) -> nn.Module:
    """A plain HF model (no hooks; ``save_pretrained``-able) trained to behave like ``model`` under ``intervention``.

    ``intervention``: what ``lasa_interp.steer`` takes (any mode, incl. conditional and several
    layers). Data: ``harmful`` and ``harmless`` requests (texts or a DataFrame with ``text`` and
    optional ``lang``; ``None``: ``n_items`` per language of PolyRefuse's train split, see
    :func:`training_prompts`); harmless data is required. The teacher's greedy continuations
    (``max_new_tokens``) are the training sequences; each step minimises the mean
    KL(teacher || student) per continuation token over ``batch_size`` of them, for ``n_steps``
    steps (default: ``epochs`` passes), AdamW at ``lr`` (default 2e-4 for LoRA, 1e-5 for full
    fine-tuning), gradients clipped at norm 1. Student: a copy of the model with LoRA adapters
    of rank ``lora_rank`` on ``target_modules`` (peft), merged into the weights on return, or
    with the decoder blocks ``full_layers`` trained in full. Train a float32 model: in bfloat16
    small updates round away. ``seed`` fixes the adapters' initialisation and the batch order.
    ``checkpoint_dir`` keeps the teacher's data and, every ``checkpoint_every`` steps, the
    training state: a later call with the same settings resumes there (a larger ``n_steps``
    continues a finished run) and gives the same model as one uninterrupted run. The original
    model is left untouched. The returned model's ``distill_log`` is a DataFrame of ``step``,
    ``loss`` (the batch's KL before that step's update, nats/token) and ``tokens``; its
    ``lasa_interp_card["training"]`` holds the settings and data sizes for the model card.
    """
    model = model if isinstance(model, LasaModel) else load_model(model)
    if not isinstance(intervention, Intervention):
        raise TypeError(f"intervention must be a lasa_interp Intervention, not {type(intervention).__name__}.")
    intervention.layer_ids(model)  # the direction fits the model, before any work
    for name, value in (("batch_size", batch_size), ("epochs", epochs), ("checkpoint_every", checkpoint_every)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}.")
    prompts = training_prompts(harmful, harmless, languages, n_items, seed)
    lr = lr if lr is not None else (2e-4 if full_layers is None else 1e-5)
    settings = {
        "model": model.fingerprint, **intervention_key(intervention), "lr": lr, "lora_rank": lora_rank,
        "target_modules": repr(target_modules), "full_layers": repr(full_layers), "max_new_tokens": max_new_tokens,
        "batch_size": batch_size, "seed": seed, "data": hashlib.sha256("\n".join(
            f"{k}\t{t}" for k, t in zip(prompts["kind"], prompts["text"])).encode()).hexdigest()[:16],
    }
    folder = Path(checkpoint_dir) if checkpoint_dir is not None else None
    data = checkpoint.load(folder, checkpoint.DATA, settings) if folder else None
    if data is None:
        sequences = teacher_sequences(model, intervention, prompts, max_new_tokens, batch_size, progress)[1]
        data = {"settings": settings, "prompts": sequences.prompts, "continuations": sequences.continuations}
        if folder:
            checkpoint.save(folder, checkpoint.DATA, data)
    sequences = Sequences(data["prompts"], data["continuations"])
    n_steps = n_steps if n_steps is not None else math.ceil(epochs * len(sequences) / batch_size)
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1:
        raise ValueError(f"n_steps must be an int >= 1, got {n_steps!r}.")

    student = make_student(model, lora_rank, target_modules, full_layers, seed)
    trainable = {name: p for name, p in student.named_parameters() if p.requires_grad}
    optimizer = torch.optim.AdamW(trainable.values(), lr=lr, weight_decay=0.0)
    state = checkpoint.load(folder, checkpoint.STATE, settings) if folder else None
    log: list[dict[str, Any]] = []
    if state is not None:
        with torch.no_grad():
            for name, p in trainable.items():
                p.copy_(state["trainable"][name])
        optimizer.load_state_dict(state["optimizer"])
        log = state["log"]
        if len(log) > n_steps:
            raise ValueError(
                f"{folder} holds a run already trained for {len(log)} steps, more than n_steps={n_steps}; pass "
                f"n_steps >= {len(log)}, or another checkpoint_dir."
            )

    def save_state() -> None:
        checkpoint.save(folder, checkpoint.STATE, {
            "settings": settings, "trainable": {n: p.detach().clone() for n, p in trainable.items()},
            "optimizer": optimizer.state_dict(), "log": log,
        })

    show = progress if progress is not None else n_steps >= 50
    with tqdm(total=n_steps, initial=len(log), desc="distilling", unit="step", disable=not show) as bar:
        for step in range(len(log), n_steps):
            batch = pad_sequences(
                sequences, batch_rows(step, len(sequences), batch_size, seed), model.tokenizer.pad_token_id, model.device
            )
            with torch.no_grad(), steer(model, intervention):
                teacher_logits = continuation_logits(model.hf_model, batch)
            kl = token_kl(teacher_logits, continuation_logits(student, batch))
            tokens = batch.mask.sum()
            loss = (kl * batch.mask).sum() / tokens
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable.values(), 1.0)
            optimizer.step()
            log.append({"step": step, "loss": loss.item(), "tokens": int(tokens)})
            bar.set_postfix(kl=f"{log[-1]['loss']:.4f}")
            bar.update()
            if folder and ((step + 1) % checkpoint_every == 0 or step + 1 == n_steps):
                save_state()

    result = merged(student)
    result.distill_log = pd.DataFrame(log, columns=["step", "loss", "tokens"])
    result.lasa_interp_card = {"training": {
        "student": "LoRA" if full_layers is None else "full", "lr": lr, "lora_rank": lora_rank if full_layers is None else None,
        "target_modules": target_modules if full_layers is None else None, "full_layers": full_layers,
        "max_new_tokens": max_new_tokens, "batch_size": batch_size, "seed": seed, "n_steps": n_steps,
        "n_harmful": int((prompts["kind"] == "harmful").sum()), "n_harmless": int((prompts["kind"] == "harmless").sum()),
        "languages": list(dict.fromkeys(prompts["lang"])), "last_batch_kl": log[-1]["loss"],
    }}
    return result
