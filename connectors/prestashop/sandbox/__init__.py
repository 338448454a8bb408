"""An emulated PrestaShop 8.2 webservice (``/api/``) with a webhook emitter and fault injection.

Start it with ``presta-ax sandbox prestashop --api-key KEY``, or in tests with
:func:`run_in_thread`; build the ASGI app yourself with :func:`create_app`.
"""

from .app import create_app
from .config import ApiKey, SandboxConfig
from .faults import Faults
from .server import run_in_thread

__all__ = ["ApiKey", "Faults", "SandboxConfig", "create_app", "run_in_thread"]
