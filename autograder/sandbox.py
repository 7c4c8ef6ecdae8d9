"""Process isolation for untrusted submissions.

Mechanisms, strongest first (what is used is recorded in every result):

* ``bwrap``: bubblewrap with fresh namespaces (no network, own pid space, private /tmp of
  bounded size, read-only /usr and venv, only the submission's work folder writable), run as an
  unprivileged uid (dropped with setpriv *before* bwrap) when we are root.
* limits: cgroup v1 memory + pids when writable (RLIMIT_AS would break ``import torch``),
  otherwise RLIMIT_DATA/RLIMIT_NPROC; always RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_CORE and a
  wall-clock kill of the whole process group in the caller.
* ``none``: only with an explicit ``--unsafe-no-sandbox``; rlimits still apply.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SANDBOX_UID = 65534  # nobody
SANDBOX_GID = 65534
CGROUP_ROOT = Path("/sys/fs/cgroup")


class SandboxUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 300.0
    cpu_seconds: int = 600
    memory_mb: int = 2048
    max_pids: int = 64
    file_mb: int = 64
    tmp_mb: int = 256
    output_kb: int = 64
    channel_mb: int = 256


@dataclass(frozen=True)
class Sandbox:
    mode: str  # "bwrap" or "none"
    drop_uid: bool
    use_cgroups: bool

    def describe(self) -> str:
        if self.mode == "none":
            return "no sandbox (--unsafe-no-sandbox): rlimits only"
        who = f"uid {SANDBOX_UID}" if self.drop_uid else f"uid {os.getuid()}"
        mem = "cgroup memory/pids" if self.use_cgroups else "rlimit memory/processes"
        return f"bubblewrap as {who}, {mem}"


def python_roots() -> list[Path]:
    """Folders the sandboxed interpreter needs to read: the venv and its base installation."""
    roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    exe = Path(sys.executable).resolve()
    roots.add(exe.parent.parent)
    return sorted(r for r in roots if not str(r).startswith("/usr"))


def _unreadable_for_sandbox(path: Path) -> Path | None:
    """The first folder on the way to path that 'other' users cannot traverse, if any."""
    current = Path("/")
    for part in path.parts[1:]:
        current = current / part
        try:
            mode = current.stat().st_mode
        except OSError:
            return current
        if current.is_dir() and not mode & 0o001:
            return current
    return None


@lru_cache(maxsize=4)
def detect(allow_unsafe: bool = False) -> Sandbox:
    """Pick the strongest working mechanism, or explain what to enable."""
    if allow_unsafe:
        return Sandbox(mode="none", drop_uid=False, use_cgroups=False)
    problems = []
    if shutil.which("bwrap") is None:
        problems.append("bubblewrap is not installed (Debian: apt-get install bubblewrap)")
    root = os.geteuid() == 0
    drop = root and shutil.which("setpriv") is not None
    if drop:
        for folder in python_roots():
            blocked = _unreadable_for_sandbox(folder)
            if blocked is not None:
                problems.append(
                    f"the Python environment {folder} is not readable by the sandbox uid "
                    f"{SANDBOX_UID} ({blocked} is closed to other users): create the venv "
                    f"outside root's home, e.g. /opt/neurograde/venv (scripts/bootstrap.sh)")
    if not problems:
        candidate = Sandbox(mode="bwrap", drop_uid=drop, use_cgroups=root and _cgroups_ok())
        error = _trial_run(candidate)
        if error is None:
            return candidate
        problems.append(f"a trial run of bubblewrap failed: {error} (user namespaces may be "
                        f"disabled: sysctl user.max_user_namespaces / "
                        f"kernel.unprivileged_userns_clone)")
    raise SandboxUnavailable(
        "cannot isolate submissions: " + "; ".join(problems)
        + ". Fix that, or pass --unsafe-no-sandbox to run student code without isolation "
          "(only for code you trust).")


def _cgroups_ok() -> bool:
    for controller in ("memory", "pids"):
        base = CGROUP_ROOT / controller
        if not (base / "cgroup.procs").exists() or not os.access(base, os.W_OK):
            return False
    return True


def _trial_run(candidate: Sandbox) -> str | None:
    import tempfile
    with tempfile.TemporaryDirectory(prefix="neurograde-trial-") as tmp:
        os.chmod(tmp, 0o777)
        cmd = command(candidate, Path(tmp), Path(tmp), [sys.executable, "-I", "-c",
                                                        "import numpy"], Limits())
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=60,
                                  preexec_fn=lambda: apply_rlimits(Limits(), False))
        except (OSError, subprocess.TimeoutExpired) as exc:
            return str(exc)
        if proc.returncode != 0:
            return proc.stderr.decode(errors="replace").strip()[-300:] or f"exit {proc.returncode}"
    return None


def command(sandbox: Sandbox, harness_dir: Path, work_dir: Path, argv: list[str],
            limits: Limits, result_fd: int = 3) -> list[str]:
    """The full command line that runs argv isolated; harness read-only, work dir writable."""
    if sandbox.mode == "none":
        return list(argv)
    cmd: list[str] = []
    if sandbox.drop_uid:
        cmd += ["setpriv", f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_GID}",
                "--clear-groups", "--inh-caps=-all", "--"]
    cmd += ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
            "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
            "--proc", "/proc", "--dev", "/dev",
            "--size", str(limits.tmp_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    for etc in ("/etc/alternatives", "/etc/fonts", "/etc/ssl/certs"):
        if os.path.exists(etc):
            cmd += ["--ro-bind", etc, etc]
    for root in python_roots():
        cmd += ["--ro-bind", str(root), str(root)]
    cmd += ["--ro-bind", str(harness_dir), "/harness",
            "--bind", str(work_dir), "/work", "--chdir", "/work"]
    for key, value in sandbox_env(result_fd).items():
        cmd += ["--setenv", key, value]
    return cmd + ["--"] + list(argv)


def sandbox_env(result_fd: int = 3) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": "/work",
        "TMPDIR": "/tmp",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/mpl",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "NEUROGRADE_GRADING": "1",
        "NEUROGRADE_RESULT_FD": str(result_fd),
        "PYTHONHASHSEED": "0",
        **{k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_") and
           k != "OPENBLAS_NUM_THREADS"},
    }


def apply_rlimits(limits: Limits, memory_by_cgroup: bool) -> None:
    """Runs in the child between fork and exec (preexec_fn)."""
    def cap(which, value):
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass
    cap(resource.RLIMIT_CPU, int(limits.cpu_seconds))
    cap(resource.RLIMIT_FSIZE, limits.file_mb * 1024 * 1024)
    cap(resource.RLIMIT_CORE, 0)
    if not memory_by_cgroup:
        cap(resource.RLIMIT_DATA, limits.memory_mb * 1024 * 1024)


class CGroup:
    """A per-submission cgroup v1 pair (memory + pids); no-op when cgroups are not used."""

    def __init__(self, enabled: bool, limits: Limits):
        self.enabled = enabled
        self.name = f"neurograde/{uuid.uuid4().hex[:12]}"
        self.paths: list[Path] = []
        if not enabled:
            return
        mem = CGROUP_ROOT / "memory" / self.name
        pids = CGROUP_ROOT / "pids" / self.name
        for path in (mem, pids):
            path.mkdir(parents=True, exist_ok=True)
            self.paths.append(path)
        limit = str(limits.memory_mb * 1024 * 1024)
        (mem / "memory.limit_in_bytes").write_text(limit)
        swap = mem / "memory.memsw.limit_in_bytes"
        if swap.exists():
            try:
                swap.write_text(limit)
            except OSError:
                pass
        (pids / "pids.max").write_text(str(limits.max_pids))

    def enter(self) -> None:
        """Runs in the child between fork and exec: move ourselves into the groups."""
        for path in self.paths:
            (path / "cgroup.procs").write_text(str(os.getpid()))

    def oom_killed(self) -> bool:
        if not self.enabled:
            return False
        control = self.paths[0] / "memory.oom_control"
        try:
            for line in control.read_text().splitlines():
                if line.startswith("oom_kill ") and int(line.split()[1]) > 0:
                    return True
            return int((self.paths[0] / "memory.failcnt").read_text()) > 0 and \
                int((self.paths[0] / "memory.max_usage_in_bytes").read_text()) >= \
                int((self.paths[0] / "memory.limit_in_bytes").read_text()) * 0.98
        except (OSError, ValueError):
            return False

    def kill_all(self) -> None:
        for path in self.paths:
            try:
                for pid in (path / "cgroup.procs").read_text().split():
                    try:
                        os.kill(int(pid), 9)
                    except ProcessLookupError:
                        pass
            except OSError:
                pass

    def remove(self) -> None:
        import time
        for path in self.paths:
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except OSError:
                    self.kill_all()
                    time.sleep(0.02)
