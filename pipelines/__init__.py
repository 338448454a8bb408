"""Flows and mappings: specs, the compiled mapping engine, validation, lint and test-runs.

Imports run one way (``runtime -> pipelines -> connectors``): nothing here knows Ray or the
Serve app. The runtime loads flows with :class:`FlowRegistry`, runs the system-free steps with
:mod:`pipelines.steps`, records ``LoadedFlow.record()`` as the deployed version, and mounts
``pipelines.cli.flow_app`` as ``presta-ax flow``. See ``docs/flows-and-mappings.md``.
"""

from pipelines.compiler import CompiledMapping, compile_expression, compile_mapping
from pipelines.lint import Problem, lint_paths
from pipelines.registry import DEFAULT_FLOWS_DIR, FlowRegistry, LoadedFlow, content_hash, load_flow_bundle
from pipelines.specs import FlowSpec, MappingSpec, load_flow, load_mapping
from pipelines.testrun import run_flow_test
from pipelines.validation import RecordValidationError, check_document, validate_document

__all__ = [
    "DEFAULT_FLOWS_DIR",
    "CompiledMapping",
    "FlowRegistry",
    "FlowSpec",
    "LoadedFlow",
    "MappingSpec",
    "Problem",
    "RecordValidationError",
    "check_document",
    "compile_expression",
    "compile_mapping",
    "content_hash",
    "lint_paths",
    "load_flow",
    "load_flow_bundle",
    "load_mapping",
    "run_flow_test",
    "validate_document",
]
