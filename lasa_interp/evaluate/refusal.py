"""``evaluate_refusal``: generate greedy responses (optionally under an intervention) and judge each one."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import pandas as pd

from .generate import InterventionLike, generate_responses
from .judges import OUTCOMES, judge_phrases

Judge = Callable[[Sequence[str], Sequence[str]], pd.DataFrame]


def evaluate_refusal(
    model: Any,
    prompts: Sequence[str] | pd.DataFrame,
    intervention: InterventionLike = None,
    judge: Judge | None = None,
    max_new_tokens: int = 48,
    batch_size: int = 16,
    chat_template: bool | str = True,
    progress: bool | None = None,
) -> pd.DataFrame:
    """One row per prompt: its columns (``text``, ``lang``, ...), ``response``, token counts and the judge's columns.

    Generation is batched greedy decoding (see :func:`generate_responses`) under ``intervention``:
    an :class:`~lasa_interp.Intervention` (steered for the call), a context manager, or a
    zero-argument callable returning one (e.g. ``lambda: steer(model, direction, alpha)``).
    ``judge(responses, prompts)`` returns at least ``outcome`` (refusal / unsafe / other) and
    ``refused``; the default is :func:`judge_phrases`; a :class:`ModelJudge` fits too. Summarise
    with :func:`refusal_summary`.
    """
    generated = generate_responses(
        model, prompts, max_new_tokens, batch_size, chat_template=chat_template, intervention=intervention, progress=progress
    )
    judge = judge or judge_phrases
    verdicts = judge(generated["response"].tolist(), generated["text"].tolist())
    missing = {"outcome", "refused"} - set(verdicts.columns)
    if missing or len(verdicts) != len(generated):
        raise ValueError(
            f"The judge must return one row per response with outcome and refused columns; got {len(verdicts)} rows "
            f"for {len(generated)} responses, missing {sorted(missing)}."
        )
    if not set(verdicts["outcome"]) <= set(OUTCOMES):
        raise ValueError(f"The judge's outcomes must be one of {OUTCOMES}; got {sorted(map(str, set(verdicts['outcome'])))}.")
    clash = set(verdicts.columns) & set(generated.columns)
    if clash:
        raise ValueError(f"The prompts already have columns {sorted(clash)} that the judge writes; rename or drop them.")
    return pd.concat([generated, verdicts.reset_index(drop=True)], axis=1)
