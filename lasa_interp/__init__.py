"""lasa_interp: find the semantic bottleneck of a language model and anchor safety there.

The pipeline, one subpackage per stage: ``models`` (load) -> ``cache`` (activations) ->
geometry -> bottleneck -> directions -> steer -> distill.
"""

from .cache import ActivationCache, CorruptShardError, cache_activations
from .models import BUNDLED, LasaModel, load_model

__all__ = ["ActivationCache", "BUNDLED", "CorruptShardError", "LasaModel", "cache_activations", "load_model"]
__version__ = "0.1.0"
