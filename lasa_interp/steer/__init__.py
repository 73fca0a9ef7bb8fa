"""Stage 5: interventions on the residual stream — activation addition, ablation, clamping, conditional steering."""

from .interventions import MODES, POSITIONS, Intervention, Steering, edit_states, steer

__all__ = ["MODES", "POSITIONS", "Intervention", "Steering", "edit_states", "steer"]
