"""Refusal evaluation: batched greedy generation under an intervention, three judges, agreement and per-language rates."""

from .agreement import judge_agreement
from .first_token import first_token_refusal, refusal_first_tokens
from .generate import generate_responses
from .judges import OUTCOMES, judge_phrases
from .model_judge import DEFAULT_TEMPLATE, ModelJudge, parse_verdict
from .phrases import REFUSAL_OPENERS, normalize, refusal_phrases
from .refusal import evaluate_refusal
from .summary import refusal_summary

__all__ = [
    "DEFAULT_TEMPLATE", "ModelJudge", "OUTCOMES", "REFUSAL_OPENERS", "evaluate_refusal", "first_token_refusal",
    "generate_responses", "judge_agreement", "judge_phrases", "normalize", "parse_verdict", "refusal_first_tokens",
    "refusal_phrases", "refusal_summary",
]
