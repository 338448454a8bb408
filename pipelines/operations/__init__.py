"""The table of system operations the flows call, shared by the entity actors and the bulk tasks.

:class:`SystemOperations` (:mod:`pipelines.operations.table`) performs every ``extract``,
``load`` and ``write-back`` operation the flows name, on :mod:`connectors.prestashop` and
:mod:`connectors.dynamics_ax`. The role modules hold the handlers: :mod:`.orders`,
:mod:`.fulfilment`, :mod:`.catalog`, :mod:`.stock`, with the helpers they share in :mod:`.common`.

It sits in ``pipelines/`` so that both the runtime's entity actors and the bulk-sync tasks
(:mod:`pipelines.bulk`) call the same code while imports still run
``runtime -> pipelines -> connectors``: nothing here imports ``runtime``. The store is reached
only through the object the caller passes in (``put_xref``/``get_xref``, sync or async).
"""

from pipelines.operations.common import idempotency_key
from pipelines.operations.table import CRASH_DIR_ENV, OPERATION_NAMES, SystemOperations

__all__ = ["CRASH_DIR_ENV", "OPERATION_NAMES", "SystemOperations", "idempotency_key"]
