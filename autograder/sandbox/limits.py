"""Resource limits of one submission: rlimits set in the process itself, and a cgroup per run.

cgroup v1 memory + pids (+ cpu and freezer when present) are used when writable (we are root);
RLIMIT_AS is never used because it breaks ``import torch`` (huge virtual reservations).
Without cgroups, RLIMIT_DATA bounds memory and RLIMIT_NPROC processes. CPU time and file size
are always rlimits; the wall clock is enforced by the caller, which kills the whole cgroup
(frozen first, so a fork bomb cannot outrun the kill) or process group.
"""

from __future__ import annotations

import os
import resource
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_PARENT = "neurograde"


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 300.0
    cpu_seconds: int = 600
    memory_mb: int = 2048
    max_pids: int = 64
    file_mb: int = 64
    tmp_mb: int = 256
    output_kb: int = 64
    channel_mb: int = 64       # result-channel bytes the parent keeps per run
    line_mb: int = 32          # ... per line (one check's outputs)
    cpus: int = 1          # CPU bandwidth per submission (cgroup cpu quota), in CPUs

    def rlimits(self, cgroups: bool, own_process_count: bool = False) -> dict[str, int | tuple]:
        """The rlimits of a run, as plain data (the warm worker applies them in its child):
        a number sets soft and hard limit alike, a pair sets (soft, hard).

        own_process_count: the process counts RLIMIT_NPROC sees belong to sandboxed runs only
        (the sandbox uid, or a user namespace of its own), so it can stand in for pids.max."""
        # CPU: SIGXCPU at the soft limit (reported as a CPU timeout); the hard limit, a little
        # later, kills a process that ignores SIGXCPU.
        caps = {"RLIMIT_CPU": (int(self.cpu_seconds), int(self.cpu_seconds) + 2),
                "RLIMIT_FSIZE": self.file_mb * 1024 * 1024,
                "RLIMIT_CORE": 0}
        if not cgroups:
            caps["RLIMIT_DATA"] = self.memory_mb * 1024 * 1024
        if not cgroups and own_process_count:
            # Counted per uid (and user namespace): with the shared sandbox uid a coarse bound,
            # hence the margin for concurrent runs.
            caps["RLIMIT_NPROC"] = self.max_pids * max(4, os.cpu_count() or 1)
        return caps


def set_rlimits(caps: dict[str, int | tuple]) -> None:
    """Lower soft and hard limits (a process can never raise them again)."""
    for name, value in caps.items():
        pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
        try:
            resource.setrlimit(getattr(resource, name), pair)
        except (ValueError, OSError, AttributeError):
            pass  # e.g. a hard limit already lower than ours: keep the stricter one


def apply_rlimits(limits: Limits, cgroups: bool, own_process_count: bool = False) -> None:
    """Runs in the child between fork and exec (preexec_fn)."""
    set_rlimits(limits.rlimits(cgroups, own_process_count))


def cgroups_available() -> bool:
    for controller in ("memory", "pids"):
        base = CGROUP_ROOT / controller
        if not (base / "cgroup.procs").exists() or not os.access(base, os.W_OK):
            return False
    return True


class CGroup:
    """A cgroup v1 set (memory + pids, cpu and freezer if present); no-op when disabled.

    A fresh process gets one per run; a warm worker keeps one for all its children (one at a
    time), which spares a mkdir/rmdir per controller and submission: `begin` re-arms it.
    """

    def __init__(self, enabled: bool, limits: Limits, label: str = "run", freezer: bool = True,
                 reserve: int = 0):
        self.enabled = enabled
        self.reserve = reserve  # processes of ours living in the group (a warm worker)
        # Our pid in the name lets a later grader clean up after one that was SIGKILLed.
        self.name = f"{CGROUP_PARENT}/{label}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.paths: dict[str, Path] = {}
        self._configured: tuple | None = None
        self._oom_kills = 0
        if not enabled:
            return
        controllers = ["memory", "pids"]
        # A cpu group of its own makes the scheduler share CPU per submission, not per
        # process: a fork bomb gets one CPU at most, not the machine, so the other
        # submissions of the batch keep their pace.
        if (CGROUP_ROOT / "cpu" / "cgroup.procs").exists() and os.access(CGROUP_ROOT / "cpu",
                                                                         os.W_OK):
            controllers.append("cpu")
        # Each controller costs a task migration (milliseconds on cgroup v1): the freezer is
        # only worth it where no pid namespace ends the whole run with its init.
        if freezer and (CGROUP_ROOT / "freezer" / "cgroup.procs").exists():
            controllers.append("freezer")
        try:
            for controller in controllers:
                path = CGROUP_ROOT / controller / self.name
                path.mkdir(parents=True, exist_ok=True)
                self.paths[controller] = path
            self.configure(limits)
        except OSError:
            self.remove()
            raise

    def configure(self, limits: Limits) -> None:
        wanted = (limits.memory_mb, limits.max_pids, limits.cpus)
        if not self.enabled or wanted == self._configured:
            return
        mem = self.paths["memory"]
        limit = str(limits.memory_mb * 1024 * 1024)
        files = [mem / "memory.limit_in_bytes", mem / "memory.memsw.limit_in_bytes"]
        if self._configured and limits.memory_mb > self._configured[0]:
            files.reverse()  # memory+swap may never be below memory: raise it first
        for path in files:
            if path.exists():
                try:
                    path.write_text(limit)
                except OSError:
                    if path.name == "memory.limit_in_bytes":
                        raise
        (self.paths["pids"] / "pids.max").write_text(str(limits.max_pids + self.reserve))
        cpu = self.paths.get("cpu")
        if cpu is not None:
            try:
                period = int((cpu / "cpu.cfs_period_us").read_text())
                (cpu / "cpu.cfs_quota_us").write_text(str(period * limits.cpus))
            except (OSError, ValueError):
                pass  # fair sharing between groups still applies
        self._configured = wanted

    def begin(self, limits: Limits, keep: frozenset[int] = frozenset()) -> bool:
        """Re-arm for the next run: limits, usage peaks, OOM count. False if processes other
        than `keep` cannot be made to leave."""
        if not self.enabled:
            return True
        for _ in range(200):
            if not set(self.pids()) - keep:
                break
            self.kill_all(keep)
            time.sleep(0.005)
        else:
            return False
        self.configure(limits)
        mem = self.paths["memory"]
        for name in ("memory.max_usage_in_bytes", "memory.failcnt"):
            try:
                (mem / name).write_text("0")
            except OSError:
                pass
        self._oom_kills = self._oom_kill_count()
        return True

    def _oom_kill_count(self) -> int:
        try:
            for line in (self.paths["memory"] / "memory.oom_control").read_text().splitlines():
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return 0

    def enter(self) -> None:
        """Runs in the child between fork and exec: move ourselves into the groups."""
        self.add(os.getpid())

    def add(self, pid: int) -> None:
        for path in self.paths.values():
            (path / "cgroup.procs").write_text(str(pid))

    def pids(self) -> list[int]:
        found: set[int] = set()
        for path in self.paths.values():
            try:
                found.update(int(p) for p in (path / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return sorted(found)

    def oom_killed(self) -> bool:
        """Did the kernel's OOM killer act in this group since `begin` (or creation)?"""
        if not self.enabled:
            return False
        if self._oom_kill_count() > self._oom_kills:
            return True
        mem = self.paths["memory"]
        try:  # kernels without the oom_kill counter: the usage peak hit the limit
            return int((mem / "memory.failcnt").read_text()) > 0 and \
                int((mem / "memory.max_usage_in_bytes").read_text()) >= \
                int((mem / "memory.limit_in_bytes").read_text()) * 0.98
        except (OSError, ValueError):
            return False

    def kill_all(self, keep: frozenset[int] = frozenset()) -> None:
        """SIGKILL every process in the group but `keep`; frozen first (when there is a
        freezer) so that none can fork meanwhile."""
        if not self.enabled or not set(self.pids()) - keep:
            return
        freezer = self.paths.get("freezer")
        frozen = freezer is not None and self._freeze(freezer)
        for _ in range(100):
            pids = set(self.pids()) - keep
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
            if frozen:
                break  # nobody can fork while frozen; the kills land when we thaw
            time.sleep(0.005)
        if frozen:
            try:
                (freezer / "freezer.state").write_text("THAWED")
            except OSError:
                pass

    @staticmethod
    def _freeze(path: Path) -> bool:
        try:
            (path / "freezer.state").write_text("FROZEN")
            for _ in range(200):
                if (path / "freezer.state").read_text().strip() == "FROZEN":
                    return True
                time.sleep(0.002)
        except OSError:
            pass
        return False

    def remove(self) -> None:
        for path in self.paths.values():
            for _ in range(100):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    self.kill_all()
                    time.sleep(0.02)


def owner_alive(name: str) -> bool:
    """For a name made as '<label>-<pid>-<random>': is that grader process still running?"""
    parts = name.split("-")
    if len(parts) < 3 or not parts[-2].isdigit():
        return True  # not ours to judge
    try:
        os.kill(int(parts[-2]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def remove_stale_cgroups() -> None:
    """Empty and remove the cgroups of graders that died without cleaning up (SIGKILL)."""
    for controller in ("memory", "pids", "cpu", "freezer"):
        parent = CGROUP_ROOT / controller / CGROUP_PARENT
        try:
            children = [p for p in parent.iterdir() if p.is_dir()]
        except OSError:
            continue
        for path in children:
            if owner_alive(path.name):
                continue
            for _ in range(20):
                try:
                    pids = (path / "cgroup.procs").read_text().split()
                    for pid in pids:
                        os.kill(int(pid), 9)
                    path.rmdir()
                    break
                except (OSError, ValueError):
                    time.sleep(0.01)
