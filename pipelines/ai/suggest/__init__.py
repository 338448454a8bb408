"""Mapping suggestions: which source field feeds each target field, with a confidence and the
reason, offline and in pure Python. See ``docs/ai.md`` for the signals and their measured worth."""

from pipelines.ai.suggest.engine import SIGNALS, suggest
from pipelines.ai.suggest.evaluate import evaluate, load_pairs
from pipelines.ai.suggest.schema import Field, Schema, ax_schema, parse_schema, prestashop_schema

__all__ = ["Field", "SIGNALS", "Schema", "ax_schema", "evaluate", "load_pairs", "parse_schema", "prestashop_schema",
           "suggest"]
