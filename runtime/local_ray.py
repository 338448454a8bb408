"""A one-machine Ray on loopback: what ``demo``, ``serve`` and ``sync`` without ``--address``, the
tests and the benchmarks start.

On Linux Ray takes the machine's network address for its node (the source address of a route
to the internet) and resolves even an explicit ``127.0.0.1`` back to it, so a purely local Ray
would listen and connect on the machine's network interface. Ray's switch for one-machine use
(``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``: "no multi-node clusters here") makes the node address
loopback, for the GCS, the raylets, the workers and ``ray.cluster_utils.Cluster`` nodes alike.
Ray reads it once, when it is imported, so :func:`use_loopback` must run before anything imports
Ray; a variable the user set is left alone. Processes started on purpose as cluster nodes
(``ray start`` in the multi-host tests, ``ray up``) do not get it: a worker node refuses to join
while it is set.
"""

from __future__ import annotations

import os
import sys

__all__ = ["ONE_MACHINE_VAR", "use_loopback"]

#: Ray's own switch: "0" = a one-machine Ray, whose node address is 127.0.0.1
ONE_MACHINE_VAR = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def use_loopback() -> bool:
    """Make the Ray this process starts (and the processes it starts) a loopback-only Ray.

    Returns False, changing nothing, when Ray was already imported (too late to take effect) or
    the user set the variable."""
    if "ray._private.ray_constants" in sys.modules or ONE_MACHINE_VAR in os.environ:
        return False
    os.environ[ONE_MACHINE_VAR] = "0"
    return True
