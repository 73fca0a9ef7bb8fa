"""lasa_interp: find the semantic bottleneck of a language model and anchor safety there.

The pipeline, one subpackage per stage: ``models`` (load) -> ``cache`` (activations) ->
``geometry`` (per-layer metrics) -> ``bottleneck`` -> ``directions`` -> ``steer`` -> distill;
``evaluate`` measures refusal, ``data`` holds the datasets, ``plots`` the figures.
"""

from .bottleneck import BottleneckResult, find_bottleneck, locate_bottleneck
from .cache import ActivationCache, CorruptShardError, cache_activations
from .data import (
    load_flores, load_multijail, load_polyrefuse, load_refusal_splits, load_safety_requests, parallel_frame,
)
from .directions import Direction, SafetyProbe, safety_direction, safety_directions, train_safety_probe
from .distill import distill, distill_report, save_distilled
from .evaluate import ModelJudge, evaluate_refusal, first_token_refusal, judge_agreement, judge_phrases, refusal_summary, sweep
from .geometry import layer_metrics
from .models import BUNDLED, LasaModel, load_model
from .plots.pareto import pareto_plot
from .steer import Intervention, steer

__all__ = [
    "ActivationCache", "BUNDLED", "BottleneckResult", "CorruptShardError", "Direction", "Intervention", "LasaModel", "ModelJudge",
    "SafetyProbe", "cache_activations", "distill", "distill_report", "evaluate_refusal", "find_bottleneck", "first_token_refusal",
    "judge_agreement", "judge_phrases", "layer_metrics", "load_flores", "load_model", "load_multijail",
    "load_polyrefuse", "load_refusal_splits", "load_safety_requests", "locate_bottleneck", "parallel_frame",
    "pareto_plot", "refusal_summary", "safety_direction", "safety_directions", "save_distilled", "steer", "sweep", "train_safety_probe",
]
__version__ = "0.1.0"
