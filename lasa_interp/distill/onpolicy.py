"""On-policy distillation data: the teacher's greedy continuations as token ids, and the teacher-student KL over them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pandas as pd
import torch
from torch import nn

from ..evaluate.generate import encode_prompts, generate_responses
from ..models import LasaModel
from ..steer import Intervention, steer


@dataclass(frozen=True)
class Sequences:
    """Prompt token ids (chat template applied) and, per prompt, the continuation the student learns to predict."""

    prompts: list[list[int]]
    continuations: list[list[int]]

    def __len__(self) -> int:
        return len(self.prompts)


@dataclass(frozen=True)
class SequenceBatch:
    """Prompts left-padded, continuations right-padded; ``mask`` marks the real continuation tokens."""

    prompt_ids: torch.Tensor
    prompt_mask: torch.Tensor
    continuation_ids: torch.Tensor
    mask: torch.Tensor


def response_sequences(model: LasaModel, responses: pd.DataFrame, max_new_tokens: int) -> Sequences:
    """The prompts of ``responses`` (from ``generate_responses``) and their responses as token ids.

    A response is re-tokenised from its text (at most ``max_new_tokens`` tokens) and ends with
    the tokenizer's end-of-sequence token when generation stopped before the limit, so that the
    student also learns where the teacher stops.
    """
    tokenizer, eos = model.tokenizer, model.tokenizer.eos_token_id
    prompts = encode_prompts(model, responses["text"].tolist(), True)
    continuations = []
    for text, n_new in zip(responses["response"], responses["n_new_tokens"]):
        ids = tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
        ids = ids + [eos] if n_new < max_new_tokens else ids
        continuations.append(ids[:max_new_tokens] or [eos])
    return Sequences(prompts, continuations)


def teacher_sequences(
    model: LasaModel, intervention: Intervention, prompts: pd.DataFrame, max_new_tokens: int, batch_size: int,
    progress: bool | None,
) -> tuple[pd.DataFrame, Sequences]:
    """The teacher's greedy responses to ``prompts`` (``generate_responses`` under the intervention) and their token ids."""
    responses = generate_responses(
        model, prompts, max_new_tokens, batch_size, intervention=intervention, progress=progress
    )
    return responses, response_sequences(model, responses, max_new_tokens)


def pad_sequences(sequences: Sequences, rows: Sequence[int], pad_id: int, device: torch.device) -> SequenceBatch:
    """One batch of ``rows``: prompts left-padded to the longest prompt, continuations right-padded."""
    width_p = max(len(sequences.prompts[i]) for i in rows)
    width_c = max(len(sequences.continuations[i]) for i in rows)
    prompt_ids = torch.full((len(rows), width_p), pad_id, dtype=torch.long)
    prompt_mask = torch.zeros_like(prompt_ids)
    continuation_ids = torch.full((len(rows), width_c), pad_id, dtype=torch.long)
    mask = torch.zeros_like(continuation_ids)
    for r, i in enumerate(rows):
        prompt, continuation = sequences.prompts[i], sequences.continuations[i]
        prompt_ids[r, width_p - len(prompt):] = torch.tensor(prompt)
        prompt_mask[r, width_p - len(prompt):] = 1
        continuation_ids[r, : len(continuation)] = torch.tensor(continuation)
        mask[r, : len(continuation)] = 1
    return SequenceBatch(prompt_ids.to(device), prompt_mask.to(device), continuation_ids.to(device), mask.to(device))


def continuation_logits(hf_model: nn.Module, batch: SequenceBatch) -> torch.Tensor:
    """Next-token logits ``[n, width, vocab]`` predicting each continuation token, as during generation.

    The prompt runs in one call (a new prompt: interventions with ``positions="prompt"`` and
    conditional gates act there) and the continuation in a second, KV-cached call (what
    ``positions="generated"`` steers), so a hooked teacher scores its continuation exactly as
    it produced it.
    """
    positions = (batch.prompt_mask.cumsum(-1) - 1).clamp(min=0)
    first = hf_model(
        input_ids=batch.prompt_ids, attention_mask=batch.prompt_mask, position_ids=positions, use_cache=True,
        logits_to_keep=1,
    )
    if batch.continuation_ids.shape[1] == 1:
        return first.logits
    inputs = batch.continuation_ids[:, :-1]
    start = batch.prompt_mask.sum(-1, keepdim=True)
    rest = hf_model(
        input_ids=inputs, attention_mask=torch.cat([batch.prompt_mask, batch.mask[:, :-1]], dim=1),
        position_ids=start + torch.arange(inputs.shape[1], device=inputs.device), past_key_values=first.past_key_values,
        use_cache=True,
    )
    return torch.cat([first.logits, rest.logits], dim=1)


def token_kl(teacher_logits: torch.Tensor, student_logits: torch.Tensor) -> torch.Tensor:
    """KL(teacher || student) of the next-token distributions, per position (nats, float32)."""
    log_t = teacher_logits.float().log_softmax(-1)
    log_s = student_logits.float().log_softmax(-1)
    return (log_t.exp() * (log_t - log_s)).sum(-1)


def sequence_kl(
    model: LasaModel, intervention: Intervention, student: nn.Module, sequences: Sequences, batch_size: int
) -> list[tuple[float, int]]:
    """Per sequence: summed KL(teacher || student) over its continuation tokens (nats) and the number of tokens."""
    out: list[tuple[float, int]] = [(0.0, 0)] * len(sequences)
    for start in range(0, len(sequences), batch_size):
        rows = list(range(start, min(start + batch_size, len(sequences))))
        batch = pad_sequences(sequences, rows, model.tokenizer.pad_token_id, model.device)
        with torch.inference_mode():
            with steer(model, intervention):
                teacher_logits = continuation_logits(model.hf_model, batch)
            kl = token_kl(teacher_logits, continuation_logits(student, batch)) * batch.mask
        for r, i in enumerate(rows):
            out[i] = (float(kl[r].sum()), int(batch.mask[r].sum()))
    return out
