"""Parallel data: vendored FLORES-200 (45 languages) and MultiJail (10), loaders, and checks for your own data."""

from .languages import FLORES_CODES, LANGUAGES, MULTIJAIL_LANGUAGES, language_name, resolve_languages
from .loaders import FLORES_SPLITS, load_flores, load_multijail, pick_items
from .parallel import check_aligned, parallel_frame
from .refusal import KINDS, POLYREFUSE_LANGUAGES, REFUSAL_SPLITS, load_polyrefuse, load_refusal_splits, load_safety_requests

__all__ = [
    "FLORES_CODES", "FLORES_SPLITS", "LANGUAGES", "MULTIJAIL_LANGUAGES", "check_aligned", "language_name",
    "load_flores", "load_multijail", "parallel_frame", "pick_items", "resolve_languages",
    "KINDS", "POLYREFUSE_LANGUAGES", "REFUSAL_SPLITS", "load_polyrefuse", "load_refusal_splits", "load_safety_requests",
]
