"""An emulated Dynamics AX 2012 AOS behind an IIS enhanced HTTP port (AIF document services).

``create_app(config)`` builds the ASGI app, ``run_in_thread(config)`` serves it for tests
and yields the base URL; the SOAP endpoint is ``base_url + config.service_path``.
The sandbox never imports the connector: it speaks only the wire protocol.
"""

from __future__ import annotations

from .app import SandboxState, create_app
from .config import FaultSettings, SandboxConfig
from .server import free_port, run_in_thread, serve

__all__ = ["FaultSettings", "SandboxConfig", "SandboxState", "create_app", "free_port", "run_in_thread", "serve"]
