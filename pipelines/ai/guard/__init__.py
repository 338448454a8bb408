"""The anomaly guard: a fast per-key scorer (:mod:`.scorer`), its event shapes (:mod:`.events`)
and the flow step's use of it (:mod:`.flow`). See ``docs/ai.md``."""

from pipelines.ai.guard.events import EVENT_TYPES, check_event
from pipelines.ai.guard.flow import GuardContext, GuardHistory
from pipelines.ai.guard.scorer import SIGNALS, Scorer, Thresholds, Verdict

__all__ = ["EVENT_TYPES", "GuardContext", "GuardHistory", "SIGNALS", "Scorer", "Thresholds", "Verdict",
           "check_event"]
