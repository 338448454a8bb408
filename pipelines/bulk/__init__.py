"""Bulk catalog, stock, price and customer syncs as Ray tasks (``presta-ax sync``; docs/bulk-sync.md).

:func:`run_bulk` (:mod:`.driver`) lists keys in pages and runs chunks as Ray tasks
(:mod:`.task`) with a bounded in-flight window; each task reads its chunk in batches
(:mod:`.jobs`), runs every record through the flow's own steps and mappings
(:mod:`.records`), skips records whose content hash is unchanged, and writes the rest within
one adaptive concurrency budget per target system (:mod:`.limiter`). The store is reached only
through what the runtime passes in (:mod:`.store`).
"""

from pipelines.bulk.driver import BulkOptions, check_cluster_store, run_bulk
from pipelines.bulk.jobs import JOBS, find_flow
from pipelines.bulk.limiter import AdaptiveLimit
from pipelines.bulk.store import BulkStore

__all__ = ["JOBS", "AdaptiveLimit", "BulkOptions", "BulkStore", "check_cluster_store", "find_flow", "run_bulk"]
