"""The fuzz targets of fuzz/ (atheris, coverage-guided): a short seeded run of each inside the test
suite, and every input a fuzzing run ever crashed on, replayed (``fuzz_regressions/<target>/``)
with the error the decoder now gives for it. ``make fuzz`` runs the targets for longer."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from connectors.errors import PermanentError, TransientError

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
FUZZ = ROOT / "fuzz"
REGRESSIONS = Path(__file__).resolve().parent / "fuzz_regressions"
#: libFuzzer iterations of the seeded run: a few seconds per target on a small machine
RUNS = {"webhook": 30_000, "prestashop_codec": 4_000, "ax_codec": 4_000}
CORPUS = {"webhook": "webhook", "prestashop_codec": "prestashop", "ax_codec": "ax"}


def _target(name: str) -> ModuleType:
    sys.path.insert(0, str(FUZZ))  # the targets import their shared _harness
    try:
        spec = importlib.util.spec_from_file_location(f"fuzz_{name}", FUZZ / f"fuzz_{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(FUZZ))


@pytest.mark.parametrize("name", list(RUNS))
def test_a_short_seeded_fuzz_run_finds_no_crash(name: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(FUZZ / "corpus" / CORPUS[name], corpus)  # libFuzzer adds what it finds to it
    run = subprocess.run(
        [sys.executable, str(FUZZ / f"fuzz_{name}.py"), f"-runs={RUNS[name]}", "-seed=1414",
         f"-artifact_prefix={tmp_path}/", "-print_final_stats=1", str(corpus)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    crashed = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "oom-", "timeout-")))
    assert run.returncode == 0 and not crashed, (crashed, run.stderr[-3000:])
    assert f"Done {RUNS[name]} runs" in run.stderr
    # the run explored: libFuzzer kept inputs beyond the seeds (coverage feedback works)
    assert len(list(corpus.iterdir())) > len(list((FUZZ / "corpus" / CORPUS[name]).iterdir()))


@pytest.mark.parametrize("path", sorted(REGRESSIONS.glob("*/*")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_saved_crash_input_is_now_handled(path: Path) -> None:
    _target(path.parent.name).build()(path.read_bytes())


def test_json_language_id_not_a_number_is_a_transient_shop_error() -> None:
    """Crash found by fuzz_prestashop_codec: ``int()`` of a language id raised ValueError."""
    import json

    from connectors.prestashop import codec

    data = json.loads((REGRESSIONS / "prestashop_codec" / "json-language-id-not-a-number").read_bytes())
    with pytest.raises(TransientError, match="language id is not a number"):
        codec.decode_json_list(data, "customers", lang_fields=["name"])
    xml = (b'<prestashop><customer><id>1</id><name><language id="x1">A</language></name></customer>'
           b"</prestashop>")
    with pytest.raises(TransientError, match="language id is not a number"):
        codec.decode_xml_object(xml, where="GET customers/1", node="customer")


def test_json_errors_that_are_not_a_list_give_no_errors() -> None:
    """Crash found by fuzz_prestashop_codec: ``decode_errors`` (documented never to raise)
    iterated over ``"errors": 2``."""
    from connectors.prestashop import codec

    body = (REGRESSIONS / "prestashop_codec" / "json-errors-not-a-list").read_bytes()
    assert codec.decode_errors(body, "application/json") == []
    assert codec.decode_errors(b"[" * 100_000, "application/json") == []  # deeper than Python's stack


def test_a_sales_order_field_of_the_wrong_type_is_a_permanent_error() -> None:
    """Crash found by fuzz_ax_codec: the typed view let ``msgspec.ValidationError`` escape."""
    from connectors.dynamics_ax import documents
    from connectors.dynamics_ax.codec import SERVICES_NS, decode_response
    from connectors.dynamics_ax.models import SalesOrder, view

    doc = decode_response(200, (REGRESSIONS / "ax_codec" / "sales-order-date-not-a-date").read_bytes(),
                          wrapper_ns=SERVICES_NS)
    (entity,) = documents.entities_of(doc, "SalesTable")
    with pytest.raises(PermanentError) as info:
        view(SalesOrder, entity)
    assert info.value.code == "response_schema" and "DeliveryDate" in info.value.message


@pytest.mark.parametrize("answer", [
    "<SalesOrder>text where the document belongs</SalesOrder>",
    "<SalesOrder><SalesTable>text where the entity belongs</SalesTable></SalesOrder>",
    "<EntityKeyList><EntityKey>text</EntityKey></EntityKeyList>",
    "<EntityKeyPage><DocumentPaging>text</DocumentPaging></EntityKeyPage>",
])
def test_text_where_an_element_belongs_is_a_permanent_error(answer: str) -> None:
    """Found while making the AX target: a leaf where AIF puts an element raised AttributeError."""
    from connectors.dynamics_ax import documents
    from connectors.dynamics_ax.codec import SERVICES_NS, decode_response

    body = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            f'<R xmlns="{SERVICES_NS}">{answer}</R></s:Body></s:Envelope>').encode()
    doc = decode_response(200, body, wrapper_ns=SERVICES_NS)
    with pytest.raises(PermanentError):
        if "EntityKeyPage" in answer:
            documents.page_of(doc)
        elif "EntityKeyList" in answer:
            documents.parse_keys(doc)
        else:
            documents.entities_of(doc, "SalesTable")
