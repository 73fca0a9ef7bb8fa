"""Harmful and harmless *requests*: Arditi et al.'s English splits and their PolyRefuse translations.

Columns: ``text``, ``lang``, ``item_id``, ``source``, ``kind`` (``harmful``/``harmless``),
``label`` (1 = harmful), ``split``, ``category``. ``item_id`` is ``"{kind}-{split}-{index}"``
with ``index`` the position in Arditi et al.'s split, so a translation shares the id of its
English original and the splits never share an id. PolyRefuse's harmless train/val files are
200-item samples shipped without their English originals; their ids use the sample position
(``harmless-train-s017``) and English is not available for them.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Iterable, Sequence

import pandas as pd

from .languages import resolve_languages
from .loaders import _assemble, _file

REFUSAL_SPLITS = ("train", "val", "test")
KINDS = ("harmful", "harmless")
POLYREFUSE_LANGUAGES = ("en", "ar", "de", "es", "fr", "it", "ja", "ko", "nl", "pl", "ru", "th", "yo", "zh")


def _check(split: str, kinds: str | Sequence[str]) -> tuple[str, ...]:
    if split not in REFUSAL_SPLITS:
        raise ValueError(f"Unknown split {split!r}; use one of {', '.join(REFUSAL_SPLITS)}.")
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise ValueError(f"Unknown kind {unknown or kinds!r}; use 'harmful', 'harmless' or both.")
    return kinds


@lru_cache(maxsize=None)
def _read_json(folder: str, name: str) -> tuple[dict, ...]:
    with _file(folder, name).open("rb") as f:
        return tuple(json.load(f))


def _arditi_ids(kind: str, split: str) -> dict[str, int]:
    """English instruction -> its first position in Arditi et al.'s split."""
    ids: dict[str, int] = {}
    for i, row in enumerate(_read_json("refusal_direction", f"{kind}_{split}.json")):
        ids.setdefault(row["instruction"], i)
    return ids


def _polyrefuse_languages(kind: str, split: str) -> list[str]:
    """Languages of one PolyRefuse file set (English only where its text is known)."""
    langs = [c for c in POLYREFUSE_LANGUAGES[1:] if _file("polyrefuse", f"{kind}_{split}_translated_{c}.json").is_file()]
    return (["en"] if kind == "harmful" or split == "test" else []) + langs


def _polyrefuse_lang(kind: str, split: str, lang: str) -> pd.DataFrame:
    """One language of one PolyRefuse split as ``text, item_id, category``."""
    if lang == "en" and split != "test":  # PolyRefuse translated Arditi's harmful train/val in order
        rows = _read_json("refusal_direction", f"{kind}_{split}.json")
    else:
        rows = _read_json("polyrefuse", f"{kind}_{split}_translated_{lang}.json")
    key = "instruction" if lang == "en" or split != "test" else "instruction_translated"
    if split == "test":  # every test file carries the English original: map it to Arditi's index
        index = _arditi_ids(kind, split)
        ids = [f"{kind}-{split}-{index[r['instruction']]:05d}" for r in rows]
        repeated = {i for i in ids if ids.count(i) > 1}  # upstream lists a few prompts twice
        ids = [f"{i}-{k}" if i in repeated else i for k, i in enumerate(ids)]
    elif kind == "harmful":
        ids = [f"{kind}-{split}-{k:05d}" for k in range(len(rows))]
    else:
        ids = [f"{kind}-{split}-s{k:03d}" for k in range(len(rows))]
    return pd.DataFrame({"text": [r[key] for r in rows], "item_id": ids, "category": [r["category"] for r in rows]})


def _tidy(frame: pd.DataFrame, kind: str, split: str) -> pd.DataFrame:
    return frame.assign(kind=kind, label=int(kind == "harmful"), split=split)[
        ["text", "lang", "item_id", "source", "kind", "label", "split", "category"]
    ]


def load_polyrefuse(
    split: str = "train",
    kind: str | Sequence[str] = ("harmful", "harmless"),
    languages: str | Iterable[str] | None = None,
    n_items: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """PolyRefuse (Wang et al. 2025): Arditi et al.'s requests machine-translated into 13 languages.

    ``split``: ``train`` (harmful 260 / harmless 200), ``val`` (39 / 200) or ``test`` (572 / 500).
    ``kind``: ``harmful``, ``harmless`` or both. ``languages`` defaults to all that the split
    has: English (Arditi's originals) exists for harmful splits and the test split only, and
    the harmless test has no Chinese. ``n_items`` picks the same items in every language (per kind).
    """
    frames = []
    for k in _check(split, kind):
        available = _polyrefuse_languages(k, split)
        hint = "" if k == "harmful" or split == "test" else " (for English harmless requests use load_refusal_splits)"
        codes = available if languages is None else resolve_languages(languages, available, f"PolyRefuse {k} {split}{hint}")
        per_lang = {c: _polyrefuse_lang(k, split, c) for c in codes}
        frame = _assemble(per_lang, "polyrefuse", n_items, seed, f"PolyRefuse {k} {split}")
        frame.loc[(frame["lang"] == "en") & (split != "test"), "source"] = "refusal_direction"
        frames.append(_tidy(frame, k, split))
    return pd.concat(frames, ignore_index=True)


def load_refusal_splits(
    split: str = "train", kind: str | Sequence[str] = ("harmful", "harmless"), n_items: int | None = None, seed: int = 0
) -> pd.DataFrame:
    """Arditi et al. (2024)'s English splits: harmful (AdvBench, HarmBench, ...) and harmless (Alpaca) requests.

    Sizes: harmful train 260 / val 39 / test 572; harmless train 18,793 / val 6,264 / test 6,266.
    ``n_items`` draws that many items per kind with ``seed``.
    """
    frames = []
    for k in _check(split, kind):
        rows = _read_json("refusal_direction", f"{k}_{split}.json")
        raw = pd.DataFrame({
            "text": [r["instruction"] for r in rows],
            "item_id": [f"{k}-{split}-{i:05d}" for i in range(len(rows))],
            "category": [r["category"] for r in rows],
        })
        frame = _assemble({"en": raw}, "refusal_direction", n_items, seed, f"Arditi et al. {k} {split}")
        frames.append(_tidy(frame, k, split))
    return pd.concat(frames, ignore_index=True)


def load_safety_requests(
    split: str = "train", languages: str | Iterable[str] | None = None, n_items: int | None = None, seed: int = 0
) -> pd.DataFrame:
    """Harmful and harmless requests in each language, for directions and gates.

    PolyRefuse for every language; English harmless train/val (which PolyRefuse lacks) come from
    Arditi et al.'s splits, so there they are other Alpaca requests than the translated ones.
    ``languages`` defaults to every language with both kinds in ``split``.
    """
    _check(split, KINDS)
    both = [c for c in POLYREFUSE_LANGUAGES if c in _polyrefuse_languages("harmful", split)
            and (c in _polyrefuse_languages("harmless", split) or c == "en")]
    codes = both if languages is None else resolve_languages(languages, both, f"PolyRefuse {split} (both kinds)")
    harmful = load_polyrefuse(split, "harmful", codes, n_items, seed)
    others = [c for c in codes if c != "en" or split == "test"]
    parts = [harmful] + ([load_polyrefuse(split, "harmless", others, n_items, seed)] if others else [])
    if "en" in codes and split != "test":
        parts.append(load_refusal_splits(split, "harmless", n_items, seed))
    frame = pd.concat(parts, ignore_index=True)
    rank = {c: i for i, c in enumerate(codes)}
    order = frame.sort_values(["lang", "label"], key=lambda s: s.map(rank) if s.name == "lang" else -s, kind="stable")
    return order.reset_index(drop=True)
