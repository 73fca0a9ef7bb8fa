"""Check and tidy your own parallel data: the same items, translated into every language."""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import pandas as pd

from .languages import resolve_languages

_COLUMNS = ("text", "lang", "item_id")


def _examples(pairs: Sequence[tuple], limit: int = 5) -> str:
    shown = ", ".join(repr(tuple(p)) for p in pairs[:limit])
    return shown + (f" and {len(pairs) - limit} more" if len(pairs) > limit else "")


def _require_columns(frame: pd.DataFrame, columns: Sequence[str] = _COLUMNS) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"Parallel data needs columns text, lang and item_id; missing {missing} (has {list(frame.columns)}).")


def check_aligned(frame: pd.DataFrame) -> None:
    """Raise unless ``frame`` has each item once in each language (>= 2 of each) and, if it has texts, non-empty strings."""
    _require_columns(frame, ("lang", "item_id"))
    for lang, item, text in zip(frame["lang"], frame["item_id"], frame.get("text", pd.Series("-", index=frame.index))):
        if not isinstance(text, str):
            raise TypeError(
                f"The text of ({lang!r}, {item!r}) is {type(text).__name__} ({text!r}), not str; "
                "give every item a text in every language."
            )
        if not text.strip():
            raise ValueError(
                f"The text of ({lang!r}, {item!r}) is empty or whitespace only; fill it in or drop the item in all languages."
            )
    pairs = frame[["lang", "item_id"]]
    duplicated = pairs[pairs.duplicated(keep=False)].drop_duplicates()
    if len(duplicated):
        raise ValueError(
            f"Duplicated (lang, item_id) pairs: {_examples(list(duplicated.itertuples(index=False)))}; "
            "keep one text per item and language."
        )
    langs, items = frame["lang"].unique(), frame["item_id"].unique()
    if len(langs) < 2:
        raise ValueError(f"Parallel data needs at least 2 languages; got {len(langs)} ({', '.join(map(repr, langs))}).")
    if len(items) < 2:
        raise ValueError(f"Parallel data needs at least 2 items; got {len(items)}. Add more items.")
    expected = pd.MultiIndex.from_product([langs, items], names=["lang", "item_id"])
    absent = expected.difference(pd.MultiIndex.from_frame(pairs), sort=False)
    if len(absent):
        raise ValueError(
            f"{len(absent)} (lang, item_id) pairs have no text, e.g. {_examples(list(absent))}; every item needs a "
            "text in every language: add the translations or drop those items from all languages."
        )


def parallel_frame(
    data: pd.DataFrame | Mapping[str, Sequence[str]], languages: str | Iterable[str] | None = None
) -> pd.DataFrame:
    """Validate parallel data; return it sorted by language (order of ``languages``, else of first appearance), then item.

    ``data`` is a DataFrame with ``text``, ``lang`` and ``item_id`` columns (others are kept), or a
    dict ``{lang: [texts]}`` whose lists are aligned by position (``item_id`` = position).
    ``languages`` keeps only those languages. Misaligned data is an error, never silently trimmed.
    """
    if isinstance(data, pd.DataFrame):
        frame = data.reset_index(drop=True)
    elif isinstance(data, Mapping):
        if any(isinstance(texts, str) for texts in data.values()):
            raise TypeError("Give each language a list of texts, not a single string: {'en': ['...', '...'], ...}.")
        lengths = {lang: len(texts) for lang, texts in data.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(
                f"Each language needs the same number of texts (item i is position i in every list); got lengths {lengths}."
            )
        rows = [(text, lang, i) for lang, texts in data.items() for i, text in enumerate(texts)]
        frame = pd.DataFrame(rows, columns=list(_COLUMNS))
    else:
        raise TypeError(
            f"Pass a DataFrame with text, lang and item_id columns or a dict {{lang: [texts]}}, not {type(data).__name__}."
        )
    _require_columns(frame)
    order = list(dict.fromkeys(frame["lang"]))
    if languages is not None:
        order = resolve_languages(languages, order, "Your data")
        frame = frame[frame["lang"].isin(order)]
    check_aligned(frame)
    rank = {lang: i for i, lang in enumerate(order)}
    by_lang = frame.sort_values(["lang", "item_id"], key=lambda col: col.map(rank) if col.name == "lang" else col)
    return by_lang.reset_index(drop=True)
