"""Stage 1: cache residual-stream states per layer (pooled or per token) with one of three backends."""

from .api import cache_activations
from .backends import BACKENDS
from .pooling import POOLINGS
from .result import ActivationCache
from .store import CorruptShardError

__all__ = ["ActivationCache", "BACKENDS", "CorruptShardError", "POOLINGS", "cache_activations"]
