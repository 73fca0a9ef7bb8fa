"""Stage 0: load a model (bundled GGUF, hub id, path or loaded object) as a :class:`LasaModel`."""

from .bundled import BUNDLED, BundledModel
from .loading import LasaModel, default_dtype, find_decoder_layers, load_model

__all__ = ["BUNDLED", "BundledModel", "LasaModel", "default_dtype", "find_decoder_layers", "load_model"]
