"""The speller's state machine: scanning modes, boards, selections, undo, emergency call. Pure Python."""
from .boards import Cell
from .events import CallForHelp, MessageChanged, RequestSuggestions, Selected, Speak, SuggestionsReady, Tick
from .machine import (
    DIRECT, GROUPS, MODES, PREDICTION, ROLES, SCAN, STEP, Choice, Content, Highlight, ScanTiming, Speller, SpellerConfig,
    SpellerState, default_roles, mode_for, speller,
)

__all__ = [
    "Cell", "CallForHelp", "MessageChanged", "RequestSuggestions", "Selected", "Speak", "SuggestionsReady", "Tick",
    "DIRECT", "GROUPS", "MODES", "PREDICTION", "ROLES", "SCAN", "STEP", "Choice", "Content", "Highlight", "ScanTiming",
    "Speller", "SpellerConfig", "SpellerState", "default_roles", "mode_for", "speller",
]
