"""SSH into the harness' hosts, for ``ray up`` (tests/cluster/test_ray_up.py).

:func:`make_key` makes the harness' key pair; :func:`start_sshd` runs Debian's OpenSSH server in a
host: on the host's IP only, with its own host key and configuration in the host's scratch
folder, root login by that key only. The server runs in a private PID and mount namespace
(``unshare``), so that a host is a host for what runs in it, not only for its network:

* ``/proc`` shows the host's own processes only, so the ``ray stop`` of Ray's start commands (it
  kills Ray processes by name) stops this host's Ray and nothing else on the machine;
* ``/root`` (the SSH user's home, where ``ray up`` copies the project) and Ray's default temp
  folder are the host's own folders, bind-mounted; the rest of the file system is shared.

Everything it starts is in the host's network namespace: :meth:`Host.kill_all` ends it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from ray._common.utils import get_default_ray_temp_dir

from tests.cluster.hosts import Host, in_netns

__all__ = ["make_key", "sshd_unavailable", "start_sshd"]

SSHD = shutil.which("sshd", path="/usr/sbin:/usr/bin") or "sshd"


def sshd_unavailable() -> str | None:
    """Why ``ray up`` cannot be tested here, or None."""
    for tool, package in (("sshd", "openssh-server"), ("ssh", "openssh-client"), ("rsync", "rsync"),
                          ("unshare", "util-linux")):
        if shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin") is None:
            return f"`{tool}` is not installed (Debian package {package})"
    return None


def make_key(folder: Path) -> Path:
    """An ed25519 key pair ``folder/id_ed25519(.pub)`` without passphrase; the private key's path."""
    key = folder / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "presta-ax-harness", "-f", str(key)],
                   check=True, capture_output=True)
    return key


def start_sshd(host: Host, public_key: Path, timeout_s: float = 20) -> None:
    """Start sshd in ``host`` (see the module docstring) and wait until it accepts connections."""
    ssh = host.root / "ssh"
    home = host.root / "home"
    raytmp = host.root / "raytmp"
    for d in (ssh, home, raytmp):
        d.mkdir(parents=True, exist_ok=True)
    (home / ".bashrc").touch()  # Ray's command runner sources it, as on any real host
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ssh / "host_key")], check=True,
                   capture_output=True)
    keys = ssh / "authorized_keys"
    keys.write_text(public_key.read_text())
    keys.chmod(0o600)
    config = ssh / "sshd_config"
    config.write_text("\n".join([
        f"ListenAddress {host.ip}", "Port 22", f"HostKey {ssh / 'host_key'}", f"PidFile {ssh / 'sshd.pid'}",
        f"AuthorizedKeysFile {keys}", "PermitRootLogin prohibit-password", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no", "MaxSessions 50", "MaxStartups 50",
        "Subsystem sftp internal-sftp", "",
    ]))
    ray_tmp = get_default_ray_temp_dir()
    inner = (f"mount --bind {home} /root && mkdir -p {ray_tmp} && mount --bind {raytmp} {ray_tmp} && "
             f"mkdir -p /run/sshd && exec {SSHD} -D -e -f {config}")
    host.spawn(["unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc",
                "sh", "-c", inner], "sshd.log")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with in_netns(host.switch), socket.create_connection((host.ip, 22), timeout=1) as s:
                if s.recv(4).startswith(b"SSH"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"sshd in {host.ns} did not start:\n{host.log('sshd.log')}")
        time.sleep(0.2)
