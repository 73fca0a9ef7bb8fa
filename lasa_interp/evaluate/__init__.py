"""Refusal evaluation: batched greedy generation under an intervention, three judges, agreement, per-language rates, sweeps."""

from .agreement import judge_agreement
from .first_token import first_token_refusal, refusal_first_tokens
from .generate import generate_responses
from .judges import OUTCOMES, judge_phrases
from .model_judge import DEFAULT_TEMPLATE, ModelJudge, parse_verdict
from .phrases import REFUSAL_OPENERS, normalize, refusal_phrases
from .prompts import check_eval_prompts, eval_prompts
from .refusal import evaluate_refusal
from .summary import refusal_summary
from .sweep import SCORERS, score_prompts, sweep, sweep_prompts, sweep_summary

__all__ = [
    "DEFAULT_TEMPLATE", "ModelJudge", "OUTCOMES", "REFUSAL_OPENERS", "SCORERS", "check_eval_prompts", "eval_prompts",
    "evaluate_refusal", "first_token_refusal", "generate_responses", "judge_agreement", "judge_phrases", "normalize",
    "parse_verdict", "refusal_first_tokens", "refusal_phrases", "refusal_summary", "score_prompts", "sweep",
    "sweep_prompts", "sweep_summary",
]
