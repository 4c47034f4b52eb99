"""Low-level helpers: TCP ports, process groups (read from /proc), log tails.

Linux only (the local brokers and the embedded PostgreSQL wheels are Linux binaries here).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import signal
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from shared.infra.errors import InfraError, PortInUseError

LOCALHOST = "127.0.0.1"


# --------------------------------------------------------------------------- ports


EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_FLOOR = 10_000
"""The lowest port handed out (well-known services of this machine sit below it)."""


def handout_range() -> range:
    """The ports to hand to a process that will bind one later: below the kernel's ephemeral
    range, from which every bind to port 0 (a worker's metrics listener, a test's receiver) and
    every outgoing connection's source port is drawn. A port chosen inside it could be taken
    meanwhile: a worker's metrics listener once took the port chosen for the decision API while
    that API was starting. Empty when the kernel's range cannot be read or leaves no room below."""
    try:
        low = int(EPHEMERAL_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return range(0)
    return range(_FLOOR, low) if low > _FLOOR + 1000 else range(0)


def free_port(host: str = LOCALHOST) -> int:
    """A TCP port free right now, for a process that binds it later (`free_ports`)."""
    return free_ports(1, host)[0]


def free_ports(count: int, host: str = LOCALHOST) -> list[int]:
    """`count` distinct TCP ports free right now, for processes that bind them later: drawn from
    `handout_range` (the kernel's ephemeral choice where that is empty). Each socket stays bound
    until all are chosen, so no port is handed out twice."""
    candidates = handout_range()
    sockets: list[socket.socket] = []
    try:
        tries = 0
        while len(sockets) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            port = candidates[secrets.randbelow(len(candidates))] if candidates else 0
            try:
                sock.bind((host, port))
            except OSError:
                sock.close()
                tries += 1
                if tries > 1000:
                    raise InfraError(f"no free port found in {candidates}") from None
                continue
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_is_free(port: int, host: str = LOCALHOST) -> bool:
    """True when nothing is bound to ``host:port`` (a listener anywhere on the port makes it taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR so that connections lingering in TIME_WAIT do not count as "taken".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
        return True


def ensure_port_free(port: int, what: str, host: str = LOCALHOST) -> None:
    """Raise :class:`PortInUseError` at once if ``host:port`` is taken."""
    if not port_is_free(port, host):
        raise PortInUseError(port, host, what, listening=port_accepts(port, host))


def port_accepts(port: int, host: str = LOCALHOST, timeout: float = 0.5) -> bool:
    """True when a TCP connection to ``host:port`` succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- processes


@dataclass(frozen=True)
class ProcInfo:
    """One line of /proc/<pid>/stat, the fields we need."""

    pid: int
    state: str
    ppid: int
    pgid: int
    sid: int

    @property
    def alive(self) -> bool:
        """A zombie (``Z``) or dead (``X``) process holds nothing any more."""
        return self.state not in ("Z", "X")


def read_proc(pid: int) -> ProcInfo | None:
    """Parse /proc/<pid>/stat; None if there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name is in parentheses and may contain spaces or ')': split at the last ')'.
    rest = raw[raw.rfind(")") + 2 :].split()
    return ProcInfo(pid=pid, state=rest[0], ppid=int(rest[1]), pgid=int(rest[2]), sid=int(rest[3]))


def iter_procs() -> Iterable[ProcInfo]:
    """All processes visible in /proc."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            info = read_proc(int(entry))
            if info is not None:
                yield info


def pid_alive(pid: int | None) -> bool:
    """True when ``pid`` exists and is not a zombie."""
    if pid is None or pid <= 0:
        return False
    info = read_proc(pid)
    return info is not None and info.alive


def cmdline(pid: int) -> list[str]:
    """The argv of ``pid`` (empty if unreadable or gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def cmdline_contains(pid: int, needle: str) -> bool:
    """True when one argument of ``pid`` contains ``needle`` (guards against pid reuse)."""
    return any(needle in arg for arg in cmdline(pid))


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is ``pgid``."""
    return [p.pid for p in iter_procs() if p.pgid == pgid and p.alive]


def children_of(pid: int) -> list[int]:
    """Live direct children of ``pid``."""
    return [p.pid for p in iter_procs() if p.ppid == pid and p.alive]


def wait_until_gone(pids: Iterable[int], timeout: float) -> list[int]:
    """Wait until none of ``pids`` is alive; return those still alive at the deadline."""
    pending = list(pids)
    deadline = time.monotonic() + timeout
    while True:
        pending = [pid for pid in pending if pid_alive(pid)]
        if not pending or time.monotonic() >= deadline:
            return pending
        time.sleep(0.05)


def stop_process_group(
    pgid: int,
    sig: int = signal.SIGTERM,
    grace: float = 10.0,
    reap: Iterable[int] = (),
) -> None:
    """Send ``sig`` to the process group, SIGKILL it after ``grace`` seconds, and verify it is empty.

    ``reap`` lists pids that are our own children (so that they do not linger as zombies we must
    wait for); anything else is reaped by its parent. Raises :class:`InfraError` if a member
    survives SIGKILL.
    """
    own_children = list(reap)

    def _members() -> list[int]:
        for child in own_children:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(child, os.WNOHANG)
        return group_members(pgid)

    def _signal(signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signum)

    if not _members():
        return
    _signal(sig)
    deadline = time.monotonic() + grace
    while _members() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not _members():
        return
    _signal(signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while _members() and time.monotonic() < deadline:
        time.sleep(0.05)
    left = _members()
    if left:
        raise InfraError(f"process group {pgid} still has members after SIGKILL: {left}")


def tail(path: Path | None, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file (empty string if there is none)."""
    if path is None:
        return ""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 16_384))
            data = fh.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])
