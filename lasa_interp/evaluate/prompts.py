"""Prompts for refusal evaluation: harmful and harmless requests per language, with a ``harmful`` flag, and their check."""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from ..data import load_multijail, load_polyrefuse

REQUIRED = ("text", "lang", "harmful")


def eval_prompts(
    languages: str | Iterable[str] | None = None, n_harmful: int | None = 8, n_harmless: int | None = 8, seed: int = 0
) -> pd.DataFrame:
    """MultiJail harmful prompts plus PolyRefuse *test* harmless requests (``text, lang, item_id, harmful``).

    ``n_harmful`` / ``n_harmless`` items per language (the same items in every language).
    ``languages``: MultiJail codes (default all 10); harmless requests come only in those
    PolyRefuse has (not zh, vi, bn, sw, jv), so over-refusal is measured there only. The test
    split shares no item with the train split that directions and probes use by default.
    """
    harmful = load_multijail(languages, n_items=n_harmful, seed=seed).assign(harmful=True)
    harmless = load_polyrefuse("test", "harmless", n_items=n_harmless, seed=seed)
    harmless = harmless[harmless["lang"].isin(set(harmful["lang"]))].assign(harmful=False)
    columns = ["text", "lang", "item_id", "harmful"]
    return pd.concat([harmful[columns], harmless[columns]], ignore_index=True)


def check_eval_prompts(prompts: pd.DataFrame) -> pd.DataFrame:
    """``prompts`` with a fresh index and ``harmful`` as bool; raises unless it has ``text``, ``lang`` and ``harmful``."""
    if not isinstance(prompts, pd.DataFrame):
        raise TypeError(
            f"prompts must be a DataFrame with columns {list(REQUIRED)} for per-language rates, not "
            f"{type(prompts).__name__}; lasa_interp.evaluate.eval_prompts(['en', 'sw']) builds one."
        )
    missing = [c for c in REQUIRED if c not in prompts.columns]
    if missing:
        hint = {
            "text": "the prompt itself",
            "lang": "its language code, e.g. prompts['lang'] = 'en'",
            "harmful": "True for harmful requests, False for harmless ones, e.g. prompts['kind'] == 'harmful'",
        }
        raise ValueError(
            f"prompts lack the column(s) {missing} (has {list(prompts.columns)}); add "
            + "; ".join(f"{c!r}: {hint[c]}" for c in missing) + "."
        )
    if prompts.empty:
        raise ValueError("prompts are empty: pass at least one harmful or harmless request.")
    flags = prompts["harmful"]
    if not flags.isin([True, False]).all():
        bad = sorted(map(repr, set(flags[~flags.isin([True, False])])))[:5]
        raise ValueError(f"The 'harmful' column must hold True/False (or 1/0); got {', '.join(bad)}.")
    return prompts.reset_index(drop=True).assign(harmful=flags.astype(bool).to_numpy())
