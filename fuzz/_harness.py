"""What every fuzz target shares: run one target under atheris (libFuzzer), or replay inputs
without atheris (the regression tests in tests/security do that).

A target module defines ``build() -> test_one_input``: ``build`` imports the decoders (inside
atheris's import hook, so their code is instrumented for coverage feedback) and returns the
function libFuzzer calls with each input. ``test_one_input`` calls the decoders and lets only
their documented errors pass; any other exception is a crash: libFuzzer stops, reports it and
saves the input under ``fuzz/crashes/`` (make it a test in tests/security/test_fuzz_regressions.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python fuzz/<target>.py` from anywhere
    sys.path.insert(0, str(ROOT))

Target = Callable[[bytes], None]


def main(build: Callable[[], Target], instrument: list[str], dictionary: str | None = None) -> None:
    """Fuzz the target ``build`` returns; ``instrument`` names the packages whose code guides
    the fuzzer (the decoders, not the libraries under them); ``dictionary`` a file of tokens in
    fuzz/ that mutations insert. libFuzzer flags pass through (``-runs=N -seed=S
    -max_total_time=T <corpus dirs>``)."""
    import atheris

    with atheris.instrument_imports(include=instrument):
        target = build()
    argv = list(sys.argv)
    if not any(a.startswith("-artifact_prefix=") for a in argv):
        crashes = ROOT / "fuzz" / "crashes"
        crashes.mkdir(exist_ok=True)
        argv.insert(1, f"-artifact_prefix={crashes}{os.sep}")
    if dictionary and not any(a.startswith("-dict=") for a in argv):
        argv.insert(1, f"-dict={ROOT / 'fuzz' / dictionary}")
    atheris.Setup(argv, target)
    atheris.Fuzz()
