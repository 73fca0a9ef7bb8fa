"""Load the vendored parallel datasets as tidy DataFrames: one row per (language, item).

Columns: ``text``, ``lang`` (see :mod:`.languages`), ``item_id`` (shared by the translations of
one item), ``source`` (the dataset), then the dataset's own columns. Rows are ordered by
language (in the order asked for) then ``item_id``.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from importlib import resources
from typing import Iterable

import numpy as np
import pandas as pd

from .languages import FLORES_CODES, MULTIJAIL_LANGUAGES, resolve_languages

FLORES_SPLITS = ("train", "dev", "test")


def _file(folder: str, name: str):
    """A vendored data file (an ``importlib.resources`` Traversable)."""
    return resources.files(__package__) / "files" / folder / name


@lru_cache(maxsize=None)
def _read_flores(flores_code: str) -> pd.DataFrame:
    with _file("flores200", f"{flores_code}.tsv").open("rb") as f:
        dtype = {"index_id": "int64", "split": str, "category": str, "text": str}
        return pd.read_csv(f, sep="\t", dtype=dtype, keep_default_na=False)


@lru_cache(maxsize=1)
def _read_multijail() -> pd.DataFrame:
    with _file("multijail", "MultiJail.csv").open("rb") as f:
        frame = pd.read_csv(f, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    tags = frame["tags"].map(lambda t: "; ".join(ast.literal_eval(t)))
    return frame.assign(id=frame["id"].astype("int64"), tags=tags)


def pick_items(item_ids: pd.Series, n_items: int | None, seed: int, what: str) -> np.ndarray:
    """All item ids, or ``n_items`` of them drawn without replacement with ``seed`` (sorted)."""
    ids = np.unique(item_ids)
    if n_items is None:
        return ids
    if isinstance(n_items, bool) or not isinstance(n_items, (int, np.integer)) or n_items < 1:
        raise ValueError(f"n_items must be a positive integer or None (all items), got {n_items!r}.")
    if n_items > len(ids):
        raise ValueError(
            f"n_items={n_items} but {what} has only {len(ids)} items; pass n_items <= {len(ids)} or None for all."
        )
    return np.sort(np.random.default_rng(seed).choice(ids, size=n_items, replace=False))


def _assemble(
    per_lang: dict[str, pd.DataFrame], source: str, n_items: int | None, seed: int, what: str
) -> pd.DataFrame:
    """Stack per-language frames (``text``, ``item_id``, extras) keeping the same picked items in each."""
    keep = pick_items(next(iter(per_lang.values()))["item_id"], n_items, seed, what)
    frame = pd.concat(
        [f[f["item_id"].isin(keep)].sort_values("item_id").assign(lang=lang, source=source) for lang, f in per_lang.items()],
        ignore_index=True,
    )
    extras = [c for c in frame.columns if c not in ("text", "lang", "item_id", "source")]
    return frame[["text", "lang", "item_id", "source", *extras]]


def load_flores(
    languages: str | Iterable[str] | None = None, n_items: int | None = None, split: str | None = None, seed: int = 0
) -> pd.DataFrame:
    """FLORES-200 sentences (the 1,004 of SIB-200, 45 languages) with ``split`` and topic ``category``.

    ``languages`` defaults to MultiJail's ten; ``split`` is ``"train"`` (701), ``"dev"`` (99),
    ``"test"`` (204) or None for all; ``n_items`` picks the same items in every language.
    ``item_id`` is FLORES-200's sentence index (SIB-200 ``index_id``).
    """
    codes = resolve_languages(MULTIJAIL_LANGUAGES if languages is None else languages, list(FLORES_CODES), "FLORES-200")
    if split is not None and split not in FLORES_SPLITS:
        raise ValueError(f"Unknown split {split!r}; use one of {', '.join(FLORES_SPLITS)} or None for all.")
    per_lang = {}
    for code in codes:
        frame = _read_flores(FLORES_CODES[code]).rename(columns={"index_id": "item_id"})
        per_lang[code] = frame if split is None else frame[frame["split"] == split]
    return _assemble(per_lang, "flores200", n_items, seed, f"FLORES-200 (split={split!r})")


def load_multijail(
    languages: str | Iterable[str] | None = None, n_items: int | None = None, seed: int = 0
) -> pd.DataFrame:
    """MultiJail's 315 harmful prompts in 10 languages, with ``tags`` ('; '-joined) and ``origin`` (its ``source``).

    ``item_id`` is MultiJail's ``id``; ``n_items`` picks the same prompts in every language.
    """
    codes = resolve_languages(MULTIJAIL_LANGUAGES if languages is None else languages, MULTIJAIL_LANGUAGES, "MultiJail")
    raw = _read_multijail()
    per_lang = {
        code: pd.DataFrame({"text": raw[code], "item_id": raw["id"], "tags": raw["tags"], "origin": raw["source"]})
        for code in codes
    }
    return _assemble(per_lang, "multijail", n_items, seed, "MultiJail")
