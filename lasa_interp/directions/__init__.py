"""Stage 4: safety directions (difference of means, per layer or at the bottleneck) and the safety probe."""

from .diff_means import diff_means, safety_direction, safety_directions
from .direction import Direction
from .inputs import resolve_layer
from .probe import PROBE_METHODS, SafetyProbe, train_safety_probe

__all__ = [
    "Direction", "PROBE_METHODS", "SafetyProbe", "diff_means", "resolve_layer", "safety_direction",
    "safety_directions", "train_safety_probe",
]
