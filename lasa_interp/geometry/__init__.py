"""Stage 2: per-layer geometry of language vs meaning (silhouettes, language probe, CKA, retrieval), batched over layers."""

from .cka import CKAByLanguage, cka, cka_by_language, cka_matrix
from .metrics import COLUMNS, METRICS, layer_metrics
from .preprocess import MODES, prepare
from .probe import ProbeResult, language_probe
from .retrieval import retrieval_accuracy, retrieval_hits
from .silhouette import silhouette_samples

__all__ = [
    "CKAByLanguage", "COLUMNS", "METRICS", "MODES", "ProbeResult", "cka", "cka_by_language", "cka_matrix",
    "language_probe", "layer_metrics", "prepare", "retrieval_accuracy", "retrieval_hits", "silhouette_samples",
]
