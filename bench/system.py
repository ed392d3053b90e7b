"""What the benchmark reads from the machine: CPUs, memory, process statistics, versions."""

from __future__ import annotations

import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Pinning",
    "cpu_seconds",
    "describe_machine",
    "free_port",
    "pinning",
    "raise_fd_limit",
    "rss_bytes",
]

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU seconds a process's live threads have run, to the nanosecond (0 once it is gone).

    ``/proc/PID/task/*/schedstat`` is used rather than ``/proc/PID/stat``, whose clock ticks
    (10 ms) are too coarse for a burst that lasts a few milliseconds.
    """
    total = 0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return 0.0
    for task in tasks:
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    if total == 0:
        return _stat_cpu_seconds(pid)
    return total / 1e9


def _stat_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3, utime 14 and stime 15 (1-based, proc(5)).
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from ``/proc/PID/status``.

    Raises:
        OSError: the process does not exist.
    """
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise OSError(f"no VmRSS for process {pid}")


def raise_fd_limit() -> int:
    """Raise this process's open-file limit to its hard limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port() -> int:
    """A TCP port nothing listens on right now, on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class Pinning:
    """``taskset -c`` CPU lists for the server and for the load generator (None: unpinned)."""

    server: str | None
    clients: str | None

    def describe(self) -> str:
        if self.server is None:
            return "not pinned (taskset missing or a single CPU)"
        return f"server on CPU {self.server}, load generator on CPU {self.clients}"


def pinning() -> Pinning:
    """The server gets the first CPU this process may use, the load generator the others."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 or shutil.which("taskset") is None:
        return Pinning(None, None)
    return Pinning(str(cpus[0]), ",".join(str(cpu) for cpu in cpus[1:]))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _os() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                name = line.split("=", 1)[1].strip('"')
                return f"{name}, Linux {platform.release()}"
    except OSError:
        pass
    return platform.platform()


def _node_version() -> str:
    found = shutil.which("node")
    if found is None:
        return "missing"
    completed = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    return completed.stdout.strip() or "unknown"


def describe_machine() -> dict[str, str]:
    """CPU, cores, memory, OS and runtimes, for the report."""
    return {
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": _memory(),
        "OS": _os(),
        "Python": sys.version.split()[0],
        "Node.js": _node_version(),
    }
