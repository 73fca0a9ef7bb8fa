"""Batched greedy generation (chat template, left padding, length-sorted batches), optionally under an intervention."""

from __future__ import annotations

import contextlib
import copy
from typing import Any, Callable, ContextManager, Sequence

import pandas as pd
import torch
from tqdm.auto import tqdm

from ..cache.inputs import as_texts, batches, encode
from ..models import LasaModel, load_model
from ..steer import Intervention, steer

InterventionLike = Intervention | Callable[[], ContextManager] | ContextManager | None


def entered(intervention: InterventionLike, model: LasaModel) -> ContextManager:
    """The context manager to run under: ``steer(model, intervention)`` for an :class:`Intervention`, a context
    manager itself, what a callable returns, or a no-op for None."""
    if intervention is None:
        return contextlib.nullcontext()
    if isinstance(intervention, Intervention):
        return steer(model, intervention)
    if hasattr(intervention, "__enter__") and hasattr(intervention, "__exit__"):
        return intervention
    if callable(intervention):
        manager = intervention()
        if hasattr(manager, "__enter__") and hasattr(manager, "__exit__"):
            return manager
        raise TypeError(f"intervention() returned {type(manager).__name__}, not a context manager.")
    raise TypeError(
        f"intervention must be a lasa_interp Intervention, a context manager or a zero-argument callable returning one "
        f"(e.g. lambda: steer(model, direction, alpha)), not {type(intervention).__name__}."
    )


def chat_tokenizer(model: LasaModel, chat_template: bool | str) -> Any:
    """The model's tokenizer, or a copy of it using the template string given (``encode`` checks there is one)."""
    if isinstance(chat_template, str):
        tokenizer = copy.copy(model.tokenizer)
        tokenizer.chat_template = chat_template
        return tokenizer
    return model.tokenizer


def encode_prompts(model: LasaModel, texts: Sequence[str], chat_template: bool | str) -> list[list[int]]:
    """Token ids of each prompt, as one user turn plus the generation prompt when ``chat_template`` is set."""
    return encode(chat_tokenizer(model, chat_template), texts, chat_template=bool(chat_template)).ids


def _stop_ids(model: LasaModel) -> list[int]:
    configured = getattr(model.hf_model.generation_config, "eos_token_id", None)
    ids = configured if isinstance(configured, list) else [configured]
    return sorted({i for i in [*ids, model.tokenizer.eos_token_id] if i is not None})


def generate_responses(
    model: Any,
    prompts: Sequence[str] | pd.DataFrame,
    max_new_tokens: int = 48,
    batch_size: int = 16,
    chat_template: bool | str = True,
    intervention: InterventionLike = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Greedy responses to ``prompts`` (a list or a DataFrame with ``text``; other columns are kept).

    Each prompt is one user turn of the chat template (a Jinja string may be given for models
    without one; ``False`` feeds the raw text). Prompts run in length-sorted, left-padded
    batches; pure greedy decoding (no repetition penalty or sampling settings from the model's
    generation config). ``intervention`` (a context manager, or a zero-argument callable
    returning one) is entered once around all of generation. Adds ``response``,
    ``n_prompt_tokens`` and ``n_new_tokens`` (up to and without the end-of-turn token).
    """
    from transformers import GenerationConfig

    model = model if isinstance(model, LasaModel) else load_model(model)
    frame = as_texts(prompts)
    if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be an int >= 1, got {max_new_tokens!r}.")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}.")
    ids = encode_prompts(model, frame["text"].tolist(), chat_template)
    tokenizer, stop = model.tokenizer, _stop_ids(model)
    config = GenerationConfig(
        max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=stop, pad_token_id=tokenizer.pad_token_id
    )
    responses, n_new = [""] * len(ids), [0] * len(ids)
    bar = tqdm(total=len(ids), desc="generating", unit="prompt", disable=not (progress if progress is not None else len(ids) >= 64))
    with bar, entered(intervention, model), torch.inference_mode():
        for batch in batches(ids, range(len(ids)), batch_size, tokenizer.pad_token_id, "left", model.device):
            out = model.hf_model.generate(
                input_ids=batch.input_ids, attention_mask=batch.attention_mask, generation_config=config
            )
            for row, i in enumerate(batch.index):
                new = out[row, batch.input_ids.shape[1] :].tolist()
                ends = [k for k, t in enumerate(new) if t in stop]
                new = new[: ends[0]] if ends else new
                responses[i], n_new[i] = tokenizer.decode(new, skip_special_tokens=True).strip(), len(new)
            bar.update(len(batch.index))
    return frame.assign(response=responses, n_prompt_tokens=[len(x) for x in ids], n_new_tokens=n_new)
