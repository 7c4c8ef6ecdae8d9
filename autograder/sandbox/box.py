"""Process isolation for untrusted submissions: which mechanism, and the command lines.

Mechanisms, strongest first; `detect` takes the first that passes a trial run which proves a
file outside the sandbox cannot be read (what is used is recorded in every result):

* ``bwrap``: bubblewrap with a fresh user namespace and every other namespace (no network, own
  pid space, private size-capped /tmp and /dev/shm, read-only /usr and venv, read-only /dev,
  only the submission's work folder writable, no further user namespaces), as an unprivileged
  uid (dropped with setpriv *before* bwrap) when we are root.
* ``bwrap-root``: where user namespaces are disabled, bubblewrap run as root creates the same
  mount/pid/net/ipc/uts namespaces without one; every capability but the few needed to drop
  privileges is removed by bwrap, and the process switches to the sandbox uid, empties its
  capability sets (bounding set included) and sets no_new_privs before any student code.
* ``landlock``: no namespaces at all. Landlock limits the filesystem to reading (and
  executing) /usr, the venv, the harness and a few /etc entries, and writing the work folder
  and a private TMPDIR next to it; /proc, /sys, /home, the repo are unreadable. From Landlock
  ABI 4 TCP connect/bind is denied, from ABI 6 signals and abstract unix sockets cannot leave
  the submission's domain (ptrace never can). A seccomp filter (x86_64, aarch64) denies
  socket() (so all networking, netlink and host unix sockets; socketpair stays), ptrace,
  process_vm_*, SysV/POSIX IPC objects, io_uring, mount/namespace calls, keyrings, bpf, perf
  and userfaultfd. The uid is dropped to the sandbox uid (as root; without root ABI 6 is
  required), every capability removed, no_new_privs set. Not covered, honestly: file *names*
  outside can still be probed with stat() (Landlock checks opening, not lookups); the TMPDIR
  is not a size-capped tmpfs (RLIMIT_FSIZE caps each file; on the default tmpfs scratch its
  pages count against the memory cgroup); uid 65534 is shared with other runs (separated by
  Landlock domains, not by the uid); and kernels below ABI 4 rely on seccomp alone for TCP.
* ``none``: only with an explicit ``--unsafe-no-sandbox``; rlimits still apply.

Limits (limits.py) apply in every mode. If nothing works, SandboxUnavailable says what to enable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import confine
from .limits import Limits, apply_rlimits, cgroups_available

SANDBOX_UID = 65534  # nobody
SANDBOX_GID = 65534
HERE = Path(__file__).resolve().parent
ENGINE = HERE.parent
# What runs inside the sandbox: standalone modules, copied side by side next to the
# assignment's probes.py. inside/ holds the code that runs beside student code; checklib is the
# wire format both sides speak; confine is what the sandboxed process applies to itself.
SANDBOX_FILES = {"harness.py": ENGINE / "inside" / "harness.py",
                 "worker.py": ENGINE / "inside" / "worker.py",
                 "checklib.py": ENGINE / "checklib.py",
                 "confine.py": HERE / "confine.py"}
ETC_READ = ("/etc/alternatives", "/etc/fonts", "/etc/ssl/certs", "/etc/localtime")


class SandboxUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class Sandbox:
    mode: str  # "bwrap", "bwrap-root", "landlock" or "none"
    drop_uid: bool
    use_cgroups: bool
    landlock_abi: int = 0
    warm: bool = True  # fork each submission from a warm worker (fresh process if it fails)

    def describe(self) -> str:
        if self.mode == "none":
            return "no sandbox (--unsafe-no-sandbox): rlimits only"
        who = f"uid {SANDBOX_UID}" if self.drop_uid else f"uid {os.getuid()}"
        mem = "cgroup memory/pids" if self.use_cgroups else "rlimit memory/processes"
        what = {"bwrap": "bubblewrap",
                "bwrap-root": "bubblewrap without a user namespace",
                "landlock": f"Landlock ABI {self.landlock_abi} + seccomp, no namespaces"}
        return f"{what[self.mode]} as {who}, {mem}"

    @property
    def namespaces(self) -> bool:
        return self.mode in ("bwrap", "bwrap-root")

    def confinement(self, harness_dir: Path, writable: list[Path]) -> dict | None:
        """What the sandboxed process must still do to itself before student code (confine.py).

        bubblewrap already did the rest; paths are as that process sees them.
        """
        if self.mode == "none":
            return None
        spec: dict = {"drop_caps": True}
        if self.mode == "bwrap-root" or (self.mode == "landlock" and self.drop_uid):
            spec.update(uid=SANDBOX_UID, gid=SANDBOX_GID)
        if self.mode == "landlock":
            spec["die_with_parent"] = True
            spec["landlock"] = {"read": readable_paths(harness_dir),
                                "write": [str(p) for p in writable] + ["/dev/null"]}
            spec["seccomp"] = confine.seccomp_supported()
        return spec


def python_roots() -> list[Path]:
    """Folders the sandboxed interpreter needs to read: the venv and its base installation."""
    roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    exe = Path(sys.executable).resolve()
    roots.add(exe.parent.parent)
    return sorted(r for r in roots if not str(r).startswith("/usr"))


def readable_paths(harness_dir: Path) -> list[str]:
    return (["/usr", str(harness_dir), "/dev/urandom", "/dev/zero"]
            + [str(r) for r in python_roots()] + [e for e in ETC_READ if os.path.exists(e)])


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


# ---------------------------------------------------------------------------- selection

@lru_cache(maxsize=4)
def detect(allow_unsafe: bool = False) -> Sandbox:
    """Pick the strongest working mechanism, or explain what to enable (cached per process)."""
    return select(allow_unsafe)


def select(allow_unsafe: bool = False) -> Sandbox:
    """The selection itself; every probe is a module-level function so tests can replace it."""
    if allow_unsafe:
        return Sandbox(mode="none", drop_uid=False, use_cgroups=False, warm=_warm_wanted())
    root = _is_root()
    cgroups = root and cgroups_available()
    problems: list[str] = []
    if root:
        for folder in python_roots():
            blocked = _unreadable_for_sandbox(folder)
            if blocked is not None:
                raise SandboxUnavailable(
                    f"cannot isolate submissions: the Python environment {folder} is not "
                    f"readable by the sandbox uid {SANDBOX_UID} ({blocked} is closed to other "
                    f"users): create the venv outside root's home, e.g. /opt/neurograde/venv "
                    f"(scripts/bootstrap.sh)")
    candidates: list[Sandbox] = []
    if _which("bwrap") is None:
        problems.append("bubblewrap is not installed (Debian: apt-get install bubblewrap)")
    elif root and _which("setpriv") is None:
        problems.append("setpriv (util-linux) is missing, so bubblewrap cannot be started as "
                        "an unprivileged uid")
    else:
        candidates.append(Sandbox("bwrap", drop_uid=root, use_cgroups=cgroups))
        if root:
            candidates.append(Sandbox("bwrap-root", drop_uid=True, use_cgroups=cgroups))
        else:
            problems.append("bubblewrap without a user namespace needs root")
    abi = _landlock_abi()
    if abi < 1:
        problems.append("Landlock is not enabled in this kernel (CONFIG_SECURITY_LANDLOCK, "
                        "lsm=landlock,... on the kernel command line)")
    elif not root and abi < 6:
        problems.append(f"Landlock ABI {abi} without root cannot keep signals inside the "
                        f"submission (needs ABI 6, Linux 6.12) or drop the uid")
    elif not confine.seccomp_supported():
        problems.append(f"no seccomp filter for this architecture ({confine.ARCH}), so "
                        f"Landlock alone would leave the network open")
    else:
        candidates.append(Sandbox("landlock", drop_uid=root, use_cgroups=cgroups,
                                  landlock_abi=abi))
    for candidate in candidates:
        error = _trial_run(candidate)
        if error is None:
            return Sandbox(candidate.mode, candidate.drop_uid, candidate.use_cgroups,
                           candidate.landlock_abi, warm=_warm_wanted())
        problems.append(f"{candidate.mode}: a trial run failed: {error}")
    if any(c.mode == "bwrap" for c in candidates):
        problems.append("(user namespaces may be disabled: sysctl user.max_user_namespaces, "
                        "kernel.unprivileged_userns_clone, or AppArmor's "
                        "kernel.apparmor_restrict_unprivileged_userns)")
    raise SandboxUnavailable(
        "cannot isolate submissions: " + "; ".join(problems)
        + ". Fix one of these, or pass --unsafe-no-sandbox to run student code without "
          "isolation (only for code you trust).")


def _is_root() -> bool:
    return os.geteuid() == 0


def _which(name: str) -> str | None:
    return shutil.which(name)


def _landlock_abi() -> int:
    return confine.landlock_abi()


def _warm_wanted() -> bool:
    """NEUROGRADE_WARM=0 forces one fresh process per submission (debugging, benchmarks)."""
    return os.environ.get("NEUROGRADE_WARM", "1") != "0"


def _trial_run(candidate: Sandbox) -> str | None:
    """Run Python confined as `candidate`; succeed only if a readable file outside is hidden."""
    with tempfile.TemporaryDirectory(prefix="neurograde-trial-") as tmp, \
            tempfile.TemporaryDirectory(prefix="neurograde-canary-") as outside:
        base = Path(tmp)
        harness, work = base / "harness", base / "work"
        harness.mkdir()
        work.mkdir()
        shutil.copy(HERE / "confine.py", harness / "confine.py")
        canary = Path(outside) / "canary"
        canary.write_text("visible")
        for path in (base, harness, work, Path(outside)):
            os.chmod(path, 0o755)
        os.chmod(canary, 0o644)
        if candidate.drop_uid:
            os.chown(work, SANDBOX_UID, SANDBOX_GID)
        inner = harness if candidate.mode == "landlock" else Path("/harness")
        spec = candidate.confinement(inner, [work])
        code = ("import sys; sys.path.insert(0, sys.argv[1]); import confine, json, numpy; "
                "confine.apply(json.loads(sys.argv[2]))\n"
                "try:\n    open(sys.argv[3]).read()\nexcept OSError:\n    sys.exit(0)\n"
                "sys.exit('a file outside the sandbox was readable')")
        import json
        argv = [sys.executable, "-I", "-c", code, str(inner), json.dumps(spec), str(canary)]
        cmd = command(candidate, harness, work, argv, Limits())
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=60, cwd=work,
                                  env=host_env(work, work) if not candidate.namespaces
                                  else None,
                                  preexec_fn=lambda: apply_rlimits(Limits(), cgroups=True))
        except (OSError, subprocess.TimeoutExpired) as exc:
            return str(exc)
        if proc.returncode != 0:
            return proc.stderr.decode(errors="replace").strip()[-300:] or f"exit {proc.returncode}"
    return None


# ---------------------------------------------------------------------------- command lines

# The root of bwrap's view is a tmpfs owned by the sandbox uid: writable, and in a warm worker
# shared by its successive children, unless made read-only once everything is mounted.
_READ_ONLY_ROOT = ("--remount-ro", "/")


def _bwrap_prefix(box: Sandbox, limits: Limits, caps: tuple[str, ...]) -> list[str]:
    cmd: list[str] = []
    if box.mode == "bwrap":
        if box.drop_uid:
            cmd += ["setpriv", f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_GID}",
                    "--clear-groups", "--inh-caps=-all", "--"]
        # --unshare-user (not just -try) so that --disable-userns can forbid nested ones.
        cmd += ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns"]
    else:
        # As root without a user namespace bwrap keeps *all* capabilities unless told.
        cmd += ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--cap-drop", "ALL"]
    for cap in caps:
        cmd += ["--cap-add", cap]
    cmd += ["--die-with-parent", "--new-session", "--clearenv",
            "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
            "--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--size", str(limits.tmp_mb * 1024 * 1024),
            "--tmpfs", "/dev/shm",
            "--remount-ro", "/dev",  # bwrap's /dev is a tmpfs the sandbox uid could write
            "--perms", "1777", "--size", str(limits.tmp_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    binds = [e for e in ETC_READ if os.path.exists(e)] + [str(r) for r in python_roots()]
    # bwrap creates missing parents of a mount point as 0700 when run as root, which the
    # sandbox uid could not traverse (bwrap-root mode): create them 0755 first.
    parents: list[str] = []
    for target in binds:
        for parent in list(Path(target).parents)[::-1][1:]:
            if str(parent) not in parents and not str(parent).startswith("/usr"):
                parents.append(str(parent))
    for parent in parents:
        cmd += ["--perms", "0755", "--dir", parent]
    for target in binds:
        cmd += ["--ro-bind", target, target]
    return cmd


def command(sandbox: Sandbox, harness_dir: Path, work_dir: Path, argv: list[str],
            limits: Limits, result_fd: int = 3) -> list[str]:
    """Fresh path: the command line that runs argv isolated; harness read-only at /harness,
    the work folder writable at /work. Without namespaces argv runs as is (it confines itself:
    see Sandbox.confinement)."""
    if not sandbox.namespaces:
        return list(argv)
    caps = () if sandbox.mode == "bwrap" else ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP")
    cmd = _bwrap_prefix(sandbox, limits, caps)
    cmd += ["--ro-bind", str(harness_dir), "/harness",
            "--bind", str(work_dir), "/work", "--chdir", "/work", *_READ_ONLY_ROOT]
    for key, value in sandbox_env(result_fd).items():
        cmd += ["--setenv", key, value]
    return cmd + ["--"] + list(argv)


def worker_command(sandbox: Sandbox, harness_dir: Path, spool_dir: Path, argv: list[str],
                   limits: Limits) -> list[str]:
    """Warm path: the worker's sandbox. Its children need CAP_SYS_ADMIN (in the sandbox's user
    namespace for ``bwrap``) to give each submission its own mount/pid/ipc namespaces, and
    drop every capability before student code runs; the worker itself never runs any."""
    if not sandbox.namespaces:
        return list(argv)
    caps = ("CAP_SYS_ADMIN", "CAP_SETPCAP")
    if sandbox.mode == "bwrap-root":
        caps += ("CAP_SETUID", "CAP_SETGID")
    cmd = _bwrap_prefix(sandbox, limits, caps)
    cmd += ["--ro-bind", str(harness_dir), "/harness", "--bind", str(spool_dir), "/spool",
            "--dir", "/work", "--chdir", "/", *_READ_ONLY_ROOT]
    for key, value in sandbox_env(3).items():
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


def host_env(work_dir: Path, tmp_dir: Path, result_fd: int = 3) -> dict[str, str]:
    """The environment without namespaces: the same, with host paths for HOME and TMPDIR."""
    return {**sandbox_env(result_fd), "HOME": str(work_dir), "TMPDIR": str(tmp_dir),
            "MPLCONFIGDIR": str(Path(tmp_dir) / "mpl")}
