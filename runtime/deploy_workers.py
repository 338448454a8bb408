"""Import target for a Serve config's second application, ``presta-ax-workers``
(deploy/serve-config.yaml, deploy/kuberay/rayservice.yaml): the dispatcher and the pollers,
started and kept by runtime.serve_workers.BridgeWorkers.

Settings come from ``PRESTA_AX_CONFIG`` and the ``PRESTA_AX_*`` variables, as for
``runtime.deploy_entry:app`` (the webhook and admin app deployed beside it).
"""

from __future__ import annotations

from runtime.config import load_settings
from runtime.serve_workers import workers_application
from runtime.wire import to_wire

app = workers_application(to_wire(load_settings()))
