"""Start-up checks for a Ray cluster of more than one node: what works on one machine and fails
on the first real cluster.

Contract:

* :func:`setting_problems` (pure, no Ray) lists, as ``<setting>: <what is wrong and what to do>``,
  every setting that cannot work when the bridge's processes sit on several hosts: a SQLite store
  (``store.url`` unset or ``sqlite:///``: a file on one host), and any URL in ``systems`` or
  ``alerting`` naming a loopback host (``127.0.0.1``, ``localhost``, ``::1``, ``0.0.0.0``): on
  another host it reaches that host itself, not the system.
* :func:`folder_problems` takes what each node sees of the folders (``{node_ip: {path: token}}``
  from :func:`probe_folders`) and lists ``data_dir`` / ``flow_dirs[i]`` for each folder that some
  node does not see with the same content: replicas, entity actors and bulk tasks on every node
  read the flow folders, and the data folder holds the admin token and default files.
* :func:`check_cluster` runs both on the Ray cluster this process is connected to and raises
  :class:`ConfigError` with every problem; it does nothing on a single node. It leaves a small
  marker file (``.cluster-probe``) in ``data_dir``.
* :class:`JoinWatch` runs :func:`check_cluster` again when a node joined since it last looked
  (at most every ``interval_s``; one ``ray.nodes()`` call per look, the checks only on a join):
  ``presta-ax serve`` and the Serve app's BridgeWorkers call it while they run.

No secret is ever part of a message: URLs are shown as scheme, host and port only.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connectors.errors import ConfigError

__all__ = ["JoinWatch", "alive_nodes", "check_cluster", "folder_problems", "probe_folders", "setting_problems"]

_LOOPBACK = {"localhost", "localhost.localdomain", "0.0.0.0", "::1", "::", "ip6-localhost"}
PROBE_FILE = ".cluster-probe"


def _is_loopback(host: str) -> bool:
    host = host.lower().strip("[]")
    return host in _LOOPBACK or host.startswith("127.") or host.endswith(".localhost")


def _urls(node: Any, path: str) -> list[tuple[str, str]]:
    """Every (dotted path, value) of a string that looks like an http(s) URL under ``node``."""
    if isinstance(node, dict):
        return [x for k, v in node.items() for x in _urls(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [x for i, v in enumerate(node) for x in _urls(v, f"{path}[{i}]")]
    if isinstance(node, str) and node.startswith(("http://", "https://")):
        return [(path, node)]
    return []


def _shown(url: str) -> str:
    """Scheme, host and port only: a URL may carry a user, a password or a token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"


def setting_problems(settings: Any, nodes: int) -> list[str]:
    """The settings that cannot work on a cluster of ``nodes`` nodes (none when ``nodes`` < 2)."""
    if nodes < 2:
        return []
    problems: list[str] = []
    url = settings.store.url
    if not url:
        problems.append(f"store.url: not set, so the store is SQLite in data_dir, a file on this host that the "
                        f"other {nodes - 1} node(s) of this Ray cluster cannot reach. Set store.url (or "
                        "PRESTA_AX_STORE_URL) to a PostgreSQL server every node reaches, by name or IP.")
    elif url.startswith("sqlite"):
        problems.append(f"store.url: SQLite is a file on one host that the other {nodes - 1} node(s) of this Ray "
                        "cluster cannot reach. Use PostgreSQL (postgresql://USER@HOST:5432/DB), reachable from "
                        "every node.")
    elif (host := urlsplit(url).hostname) is not None and _is_loopback(host):
        problems.append(f"store.url: the PostgreSQL host '{host}' is this host's loopback; on the other nodes it "
                        "names themselves. Use the database server's name or IP.")
    for section in ("systems", "alerting"):
        dumped = getattr(settings, section).model_dump(mode="json")
        for path, value in _urls(dumped, section):
            host = urlsplit(value).hostname or ""
            if _is_loopback(host):
                problems.append(f"{path}: {_shown(value)} is a loopback address; on another node of the Ray "
                                "cluster it reaches that node itself, not the system. Use the system's name or IP.")
    return problems


def _token(folder: Path) -> str:
    """What a node sees of ``folder``: the marker's content (data folder) or a digest of the YAML
    files (flow folders); ``missing`` when the folder is not there."""
    if not folder.is_dir():
        return "missing"
    marker = folder / PROBE_FILE
    if marker.is_file():
        return marker.read_text(encoding="utf-8").strip()
    digest = hashlib.sha256()
    for file in sorted(folder.rglob("*")):
        if file.is_file() and file.suffix in (".yaml", ".yml"):
            digest.update(str(file.relative_to(folder)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def probe_folders(folders: list[str]) -> dict[str, dict[str, str]]:
    """``{node_ip: {folder: token}}`` for every alive node of the connected Ray cluster: one tiny
    task pinned to each node (no CPU asked) reads the folders there."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    def look(paths: list[str]) -> dict[str, str]:
        return {p: _token(Path(p)) for p in paths}

    task = ray.remote(num_cpus=0, max_retries=0)(look)
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    refs = [task.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)).remote(folders)
            for n in nodes]
    return {n["NodeManagerAddress"]: r for n, r in zip(nodes, ray.get(refs, timeout=60), strict=True)}


def folder_problems(named: dict[str, str], seen: dict[str, dict[str, str]]) -> list[str]:
    """``named`` maps a setting path (``data_dir``) to its folder; ``seen`` is :func:`probe_folders`'s
    answer. One problem per folder that not every node sees alike."""
    problems = []
    for setting, folder in named.items():
        tokens = {ip: s.get(folder, "missing") for ip, s in seen.items()}
        if len(set(tokens.values())) > 1 or "missing" in tokens.values():
            lacking = sorted(ip for ip, t in tokens.items() if t == "missing")
            differ = sorted(ip for ip, t in tokens.items() if t != "missing")
            what = (f"missing on {', '.join(lacking)}" if lacking else
                    f"different on {', '.join(differ)}")
            problems.append(f"{setting}: the folder '{folder}' is not shared by the nodes of this Ray cluster "
                            f"({what}). Put it on a file system every node mounts at the same path (NFS, EFS), "
                            "or copy it to every node (cluster.yaml file_mounts).")
    return problems


def check_cluster(settings: Any) -> int:
    """Raise :class:`ConfigError` listing every problem of ``settings`` on the connected Ray
    cluster (see the module docstring); returns the number of alive nodes."""
    import ray

    nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
    if nodes < 2:
        return nodes
    problems = setting_problems(settings, nodes)
    data = Path(settings.data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    (data / PROBE_FILE).write_text(uuid.uuid4().hex, encoding="utf-8")
    named = {"data_dir": str(data)}
    named.update({f"flow_dirs[{i}]": str(Path(d).resolve()) for i, d in enumerate(settings.flow_dirs)})
    problems += folder_problems(named, probe_folders(list(named.values())))
    if problems:
        raise ConfigError(f"This Ray cluster has {nodes} nodes, and {len(problems)} setting(s) only work on one "
                          "host:\n  " + "\n  ".join(problems), problems)
    return nodes


def alive_nodes() -> frozenset[str]:
    """The node ids of the connected Ray cluster's alive nodes."""
    import ray

    return frozenset(n["NodeID"] for n in ray.nodes() if n.get("Alive"))


class JoinWatch:
    """Re-check the cluster when a node joins. ``seen``: the nodes the start-up check saw
    (default: the alive nodes now). :meth:`poll` returns the :class:`ConfigError` found because
    of a node that joined since the last look, or None; a node leaving needs no check."""

    def __init__(self, settings: Any, seen: frozenset[str] | None = None, interval_s: float = 10.0) -> None:
        import time

        self.settings = settings
        self.seen = alive_nodes() if seen is None else seen
        self.interval_s = interval_s
        self._clock = time.monotonic
        self._next = self._clock() + interval_s

    def poll(self, *, force: bool = False) -> ConfigError | None:
        """Look (when ``interval_s`` passed since the last look, or ``force``). Never raises: a
        problem found is returned, the caller decides (print it, fail a health check); a look
        that cannot be made (Ray busy or going away) counts as no look, the next one retries."""
        if not force and self._clock() < self._next:
            return None
        self._next = self._clock() + self.interval_s
        try:
            now = alive_nodes()
            if not now - self.seen:
                self.seen = now
                return None
            check_cluster(self.settings)
        except ConfigError as exc:
            self.seen = now
            return exc
        except Exception:  # noqa: BLE001 - see the docstring
            return None
        self.seen = now
        return None
