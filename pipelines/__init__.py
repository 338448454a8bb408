"""Flows and mappings: specs, the compiled mapping engine, validation, lint and test-runs.

Imports run one way (``runtime -> pipelines -> connectors``): nothing here knows Ray or the
Serve app. The runtime loads flows with :class:`FlowRegistry`, runs a flow for a message with
:func:`run_flow` (giving it the connector calls as an :class:`Operations`), records
``LoadedFlow.record()`` as the deployed version, and mounts ``pipelines.cli.flow_app`` as
``presta-ax flow``. See ``docs/flows-and-mappings.md``.
"""

from pipelines.compiler import CompiledMapping, compile_expression, compile_mapping
from pipelines.executor import FlowOutcome, Operations, run_flow
from pipelines.lint import Problem, lint_flow, lint_paths
from pipelines.registry import DEFAULT_FLOWS_DIR, FlowRegistry, LoadedFlow, content_hash, load_flow_bundle
from pipelines.specs import FlowSpec, MappingSpec, load_flow, load_mapping
from pipelines.testrun import run_flow_test
from pipelines.validation import RecordValidationError, check_document, validate_document

__all__ = [
    "DEFAULT_FLOWS_DIR",
    "CompiledMapping",
    "FlowOutcome",
    "FlowRegistry",
    "FlowSpec",
    "LoadedFlow",
    "MappingSpec",
    "Operations",
    "Problem",
    "RecordValidationError",
    "check_document",
    "compile_expression",
    "compile_mapping",
    "content_hash",
    "lint_flow",
    "lint_paths",
    "load_flow",
    "load_flow_bundle",
    "load_mapping",
    "run_flow",
    "run_flow_test",
    "validate_document",
]
