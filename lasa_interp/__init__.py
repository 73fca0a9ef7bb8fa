"""lasa_interp: find the semantic bottleneck of a language model and anchor safety there.

The pipeline, one subpackage per stage: ``models`` (load) -> ``cache`` (activations) ->
``geometry`` (per-layer metrics) -> ``bottleneck`` -> directions -> steer -> distill.
``data`` holds the parallel datasets, ``plots`` the figures.
"""

from .bottleneck import BottleneckResult, find_bottleneck, locate_bottleneck
from .cache import ActivationCache, CorruptShardError, cache_activations
from .data import load_flores, load_multijail, parallel_frame
from .geometry import layer_metrics
from .models import BUNDLED, LasaModel, load_model

__all__ = [
    "ActivationCache", "BUNDLED", "BottleneckResult", "CorruptShardError", "LasaModel", "cache_activations",
    "find_bottleneck", "layer_metrics", "load_flores", "load_model", "load_multijail", "locate_bottleneck",
    "parallel_frame",
]
__version__ = "0.1.0"
