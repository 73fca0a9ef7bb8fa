"""Turn texts into token ids (chat template, truncation) and length-sorted, padded batches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import pandas as pd
import torch


def as_texts(texts: Sequence[str] | pd.DataFrame | pd.Series, meta: pd.DataFrame | dict | None = None) -> pd.DataFrame:
    """Validate the input texts and return a metadata DataFrame with a ``text`` column, one row per text."""
    if isinstance(texts, pd.DataFrame):
        if "text" not in texts.columns:
            raise ValueError(f"The DataFrame needs a 'text' column; it has {list(texts.columns)}.")
        frame = texts.reset_index(drop=True)
    else:
        if isinstance(texts, str):
            raise TypeError("Pass a list of texts, not a single string (wrap it: [text]).")
        frame = pd.DataFrame({"text": list(texts)})
    if meta is not None:
        extra = pd.DataFrame(meta).reset_index(drop=True)
        if len(extra) != len(frame):
            raise ValueError(f"meta has {len(extra)} rows but there are {len(frame)} texts; they must match one to one.")
        frame = pd.concat([frame, extra.drop(columns=["text"], errors="ignore")], axis=1)
    if frame.empty:
        raise ValueError("No texts given: pass at least one non-empty text.")
    for i, text in enumerate(frame["text"]):
        if not isinstance(text, str):
            raise TypeError(f"Text {i} is {type(text).__name__}, not str.")
        if not text.strip():
            raise ValueError(f"Text {i} is empty or whitespace only; remove it or give it content.")
    return frame


@dataclass(frozen=True)
class Encoded:
    """Token ids per text, and which texts were cut to ``max_length``."""

    ids: list[list[int]]
    truncated: list[bool]

    @property
    def lengths(self) -> list[int]:
        return [len(x) for x in self.ids]


def encode(tokenizer, texts: Sequence[str], chat_template: bool = False, max_length: int | None = None) -> Encoded:
    """Tokenise ``texts``; with ``chat_template`` each text becomes one user turn plus the generation prompt."""
    if chat_template:
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError(
                "This model's tokenizer has no chat template. Set one with model.tokenizer.chat_template = "
                "'<Jinja template>' (e.g. the template of the model's instruct variant), pass it as "
                "chat_template='<Jinja template>' where a function takes a string, or pass chat_template=False "
                "to use the raw text."
            )
        rendered = [
            tokenizer.apply_chat_template([{"role": "user", "content": t}], tokenize=False, add_generation_prompt=True)
            for t in texts
        ]
        ids = tokenizer(rendered, add_special_tokens=False)["input_ids"]
    else:
        ids = tokenizer(list(texts), add_special_tokens=True)["input_ids"]
    if max_length is not None and max_length < 1:
        raise ValueError(f"max_length must be >= 1, got {max_length}.")
    truncated = [max_length is not None and len(x) > max_length for x in ids]
    if max_length is not None:
        ids = [x[:max_length] for x in ids]
    return Encoded(ids=[list(x) for x in ids], truncated=truncated)


@dataclass(frozen=True)
class Batch:
    """A padded batch; ``index`` gives each row's position in the caller's list."""

    index: list[int]
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    position_ids: torch.Tensor


def batches(
    ids: Sequence[Sequence[int]], index: Sequence[int], batch_size: int, pad_id: int, padding_side: str, device: torch.device
) -> Iterator[Batch]:
    """Yield padded batches of the texts at ``index``, longest first, so that padding is minimal."""
    order = sorted(index, key=lambda i: -len(ids[i]))
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        width = max(len(ids[i]) for i in rows)
        input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for r, i in enumerate(rows):
            n = len(ids[i])
            cols = slice(width - n, width) if padding_side == "left" else slice(0, n)
            input_ids[r, cols] = torch.tensor(ids[i], dtype=torch.long)
            mask[r, cols] = 1
        position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
        yield Batch(rows, input_ids.to(device), mask.to(device), position_ids.to(device))
