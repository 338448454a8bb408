"""Fuzz target: the AX document decoder, as the AIF client runs it on an answer: the SOAP
envelope (``connectors.dynamics_ax.codec.decode_response``, faults included), then the read
answer's entities into their typed views and a key page. Allowed: ``NotSoap`` and ``SoapFault``
(the client maps both to bridge errors) and :class:`~connectors.errors.BridgeError`. Anything
else is a crash.

    python fuzz/fuzz_ax_codec.py -max_total_time=60 fuzz/corpus/ax
"""

from __future__ import annotations

from _harness import Target, main


def build() -> Target:
    from connectors.dynamics_ax import documents
    from connectors.dynamics_ax.codec import SERVICES_NS, NotSoap, SoapFault, decode_response
    from connectors.dynamics_ax.models import SalesOrder, view
    from connectors.errors import BridgeError

    def test_one_input(data: bytes) -> None:
        for status in (200, 500):
            try:
                doc = decode_response(status, data, wrapper_ns=SERVICES_NS)
            except (NotSoap, SoapFault):
                continue
            try:
                # what DocumentService.read / Client.read and the key pages do with the answer
                for entity in documents.entities_of(doc, "SalesTable"):
                    view(SalesOrder, entity)
                documents.page_of(doc)
                documents.parse_keys(doc)
            except BridgeError:
                pass

    return test_one_input


if __name__ == "__main__":
    main(build, ["connectors.dynamics_ax.codec", "connectors.dynamics_ax.documents", "connectors.dynamics_ax.models",
                 "connectors.dynamics_ax.errors"], "ax.dict")
