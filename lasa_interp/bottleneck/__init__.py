"""Stage 3: the semantic bottleneck — the layer where meaning, not language, governs the geometry."""

from .criteria import CRITERIA
from .find import DEFAULT_MODEL, find_bottleneck, locate_bottleneck
from .result import BottleneckResult

__all__ = ["CRITERIA", "DEFAULT_MODEL", "BottleneckResult", "find_bottleneck", "locate_bottleneck"]
