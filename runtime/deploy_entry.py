"""Import target for ``serve deploy``: the bound app built from the environment/config file.

Settings come from ``PRESTA_AX_CONFIG`` and the ``PRESTA_AX_*`` variables, as for ``presta-ax serve``.
The admin token must be configured (``PRESTA_AX_ADMIN_TOKEN``) or exist in ``<data_dir>/admin-token``.
"""

from __future__ import annotations

from runtime.config import load_settings
from runtime.serve_app import bridge_application
from runtime.server import admin_token
from runtime.wire import to_wire

_settings = load_settings()
app = bridge_application(to_wire(_settings), admin_token(_settings)[0])
