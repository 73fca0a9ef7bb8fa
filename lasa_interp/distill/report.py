"""Teacher vs distilled student per language: refusal on harmful prompts, over-refusal and KL on harmless ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import pandas as pd
from torch import nn

from ..evaluate import evaluate_refusal, first_token_refusal, refusal_summary
from ..evaluate.prompts import check_eval_prompts, eval_prompts
from ..evaluate.refusal import Judge
from ..models import LasaModel, load_model
from ..steer import Intervention
from .onpolicy import response_sequences, sequence_kl

COLUMNS = [
    "teacher_refusal", "student_refusal", "refusal_gap", "teacher_over_refusal", "student_over_refusal",
    "harmful_kl", "harmless_kl", "teacher_first_token", "student_first_token",
]


@dataclass(frozen=True)
class DistillReport:
    """``table``: one row per language plus ``all`` (rates in [0, 1], KL in nats/token); ``results``: one row per
    prompt and model."""

    table: pd.DataFrame
    results: pd.DataFrame


def _per_language(results: pd.DataFrame) -> pd.DataFrame:
    """Refusal and over-refusal rates (``refusal_summary``) and the mean first-token refusal score on harmful prompts."""
    rates = refusal_summary(results, n_boot=0).pivot(index="lang", columns="metric", values="value")
    rates = rates.reindex(columns=["refusal_rate", "over_refusal"])
    harmful = results[results["harmful"]]
    first = pd.concat([harmful.groupby("lang")["refusal_score"].mean(), pd.Series({"all": harmful["refusal_score"].mean()})])
    return rates.assign(first_token=first)


def kl_by_language(
    model: LasaModel, intervention: Intervention, student: nn.Module, responses: pd.DataFrame, max_new_tokens: int,
    batch_size: int,
) -> pd.DataFrame:
    """KL(teacher || student) in nats/token over the teacher's ``responses`` (``text, lang, harmful, response,
    n_new_tokens``, from ``evaluate_refusal`` under the intervention): ``harmful_kl``, ``harmless_kl`` per language
    and ``all``."""
    sequences = response_sequences(model, responses, max_new_tokens)
    kl = pd.DataFrame(sequence_kl(model, intervention, student, sequences, batch_size), columns=["sum", "tokens"])
    kind = responses["harmful"].map({True: "harmful_kl", False: "harmless_kl"})
    kl = kl.assign(lang=responses["lang"].to_numpy(), kind=kind.to_numpy())
    sums = pd.concat([kl, kl.assign(lang="all")]).groupby(["lang", "kind"])[["sum", "tokens"]].sum()
    return (sums["sum"] / sums["tokens"]).unstack("kind").reindex(columns=["harmful_kl", "harmless_kl"])


def distill_report(
    model: Any,
    intervention: Intervention,
    student: nn.Module | LasaModel,
    prompts: pd.DataFrame | None = None,
    *,
    languages: str | Iterable[str] | None = None,
    n_harmful: int | None = 8,
    n_harmless: int | None = 8,
    seed: int = 0,
    judge: Judge | None = None,
    max_new_tokens: int = 48,
    batch_size: int = 16,
    progress: bool | None = None,
) -> DistillReport:
    """How closely ``student`` (e.g. from ``distill_trained``) acts like ``model`` under ``intervention``, per language.

    ``prompts``: ``text, lang, harmful`` (default :func:`~lasa_interp.evaluate.eval_prompts`:
    held-out MultiJail harmful and PolyRefuse test harmless requests, ``n_harmful`` /
    ``n_harmless`` per language of ``languages``). Both models answer greedily
    (``evaluate_refusal`` with ``judge``, default phrases); table columns: refusal rate on
    harmful prompts (``teacher_refusal``, ``student_refusal``, ``refusal_gap`` = student minus
    teacher), over-refusal on harmless ones, ``harmful_kl`` / ``harmless_kl`` = KL(teacher ||
    student) per token over the teacher's responses (nats/token, :func:`kl_by_language`), and
    the mean first-token refusal score on harmful prompts (``first_token_refusal``).
    """
    model = model if isinstance(model, LasaModel) else load_model(model)
    pupil = student if isinstance(student, LasaModel) else load_model(student, tokenizer=model.tokenizer)
    prompts = check_eval_prompts(eval_prompts(languages, n_harmful, n_harmless, seed) if prompts is None else prompts)
    runs = {}
    for who, lm, intervene in (("teacher", model, intervention), ("student", pupil, None)):
        results = evaluate_refusal(
            lm, prompts, intervention=intervene, judge=judge, max_new_tokens=max_new_tokens, batch_size=batch_size,
            progress=progress,
        )
        scores = first_token_refusal(lm, prompts, intervention=intervene, batch_size=batch_size)["refusal_score"]
        runs[who] = results.assign(model=who, refusal_score=scores)
    kl = kl_by_language(model, intervention, pupil.hf_model, runs["teacher"], max_new_tokens, batch_size)
    teacher_rates, student_rates = (_per_language(runs[who]) for who in ("teacher", "student"))
    table = pd.DataFrame({
        "teacher_refusal": teacher_rates["refusal_rate"], "student_refusal": student_rates["refusal_rate"],
        "refusal_gap": student_rates["refusal_rate"] - teacher_rates["refusal_rate"],
        "teacher_over_refusal": teacher_rates["over_refusal"], "student_over_refusal": student_rates["over_refusal"],
        "harmful_kl": kl["harmful_kl"], "harmless_kl": kl["harmless_kl"],
        "teacher_first_token": teacher_rates["first_token"], "student_first_token": student_rates["first_token"],
    }, columns=COLUMNS)
    order = [*dict.fromkeys(prompts["lang"]), "all"]
    return DistillReport(table.reindex(order).rename_axis("lang"), pd.concat(runs.values(), ignore_index=True))
