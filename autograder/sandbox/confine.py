"""Self-confinement of a grading process, applied just before it runs student code.

Standalone on purpose (stdlib + ctypes only): it is copied into the sandbox next to harness.py
and used by both the fresh harness process and the warm worker's children. Each function is one
kernel mechanism; `apply(spec)` runs them in the only order that works:

1. open the Landlock ruleset while we may still open every allowed path;
2. drop the capability bounding set (needs CAP_SETPCAP, so before the uid changes);
3. drop to the sandbox uid/gid (a root -> non-root switch also clears the other capability sets);
4. clear ambient/permitted capabilities (matters inside a user namespace, where uid != 0 but
   bubblewrap handed us capabilities);
5. no_new_privs (required by Landlock and seccomp for an unprivileged process, and makes
   setuid binaries inert);
6. Landlock restrict_self, then the seccomp filter last (it forbids syscalls earlier steps use).

Numbers below are the kernel's ABI (include/uapi/linux/{landlock,seccomp,capability,prctl}.h);
they are stable by the kernel's no-regression rule.
"""

import ctypes
import errno
import os
import platform
import struct

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                        ctypes.c_ulong]

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000

MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18


class ConfineError(OSError):
    """A confinement step failed: the caller must not run student code."""


def _check(result, what):
    if result < 0:
        err = ctypes.get_errno()
        raise ConfineError(err, f"{what}: {os.strerror(err)}")
    return result


def prctl(option, arg2=0, arg3=0, arg4=0, arg5=0, what="prctl"):
    return _check(_libc.prctl(option, arg2, arg3, arg4, arg5), what)


# ---------------------------------------------------------------------------- processes

def die_with_parent(signal_number=9):
    prctl(PR_SET_PDEATHSIG, signal_number, what="prctl(PR_SET_PDEATHSIG)")


def become_subreaper():
    """Orphaned descendants get reparented to us (and reaped by us), not to the host's init."""
    prctl(PR_SET_CHILD_SUBREAPER, 1, what="prctl(PR_SET_CHILD_SUBREAPER)")


def not_dumpable():
    """Same-uid processes can no longer ptrace us or read /proc/<pid>/mem."""
    prctl(PR_SET_DUMPABLE, 0, what="prctl(PR_SET_DUMPABLE)")


def no_new_privs():
    prctl(PR_SET_NO_NEW_PRIVS, 1, what="prctl(PR_SET_NO_NEW_PRIVS)")


# ---------------------------------------------------------------------------- namespaces

def unshare(flags):
    _check(_libc.unshare(ctypes.c_int(flags)), f"unshare({flags:#x})")


def mount(source, target, fstype, flags, data=None, what="mount"):
    enc = (lambda s: s.encode() if isinstance(s, str) else s)
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags),
                       enc(data)), f"{what} {target}")


def private_view(work_source, tmp_bytes, hide):
    """In a fresh mount namespace: /work -> work_source, a new size-capped /tmp and /dev/shm,
    procfs for the (new) pid namespace, and every folder in `hide` covered by an empty tmpfs.

    Mounts are private first, so nothing done here propagates back to the worker's view.
    """
    mount(None, "/", None, MS_REC | MS_PRIVATE, what="make-private")
    mount(work_source, "/work", None, MS_BIND | MS_REC, what="bind work folder")
    size = f"size={int(tmp_bytes)},mode=1777"
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, size, what="tmpfs")
    if os.path.isdir("/dev/shm"):
        mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, size,
              what="tmpfs")
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, what="procfs")
    for path in hide:
        # Unmounting may be refused (bubblewrap locks its mounts); covering always works.
        mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4096,mode=0",
              what="hide")


# ---------------------------------------------------------------------------- identity

def _last_cap():
    try:
        with open("/proc/sys/kernel/cap_last_cap") as fh:
            return int(fh.read())
    except (OSError, ValueError):
        return 40


def drop_bounding_set():
    for cap in range(_last_cap() + 1):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            err = ctypes.get_errno()
            if err == errno.EINVAL:  # capability unknown to this kernel
                continue
            raise ConfineError(err, f"cannot drop capability {cap} from the bounding set "
                                    f"({os.strerror(err)})")


def clear_capabilities():
    """Empty the ambient, inheritable, permitted and effective sets (capset v3)."""
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)  # EINVAL on old kernels
    header = ctypes.create_string_buffer(struct.pack("Ii", 0x20080522, 0), 8)
    data = ctypes.create_string_buffer(24)  # two zeroed {effective, permitted, inheritable}
    _check(_libc.capset(header, data), "capset")
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("CapEff:", "CapPrm:")) and int(line.split()[1], 16):
                raise ConfineError(errno.EPERM, f"capabilities still held: {line.strip()}")


def drop_uid(uid, gid):
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid):
        raise ConfineError(errno.EPERM, f"could not switch to uid {uid} / gid {gid}")


# ---------------------------------------------------------------------------- Landlock

_SYS_CREATE, _SYS_ADD, _SYS_RESTRICT = 444, 445, 446  # same number on every architecture
_CREATE_VERSION = 1
_RULE_PATH_BENEATH = 1
# Filesystem rights by ABI version; a path rule on a regular file may only use _FILE_RIGHTS.
_FS_RIGHTS = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1, 2, 4, 8
_TRUNCATE, _IOCTL_DEV = 1 << 14, 1 << 15
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1, 2


def landlock_abi():
    """The kernel's Landlock ABI version, 0 when Landlock is missing or disabled."""
    version = _libc.syscall(_SYS_CREATE, None, ctypes.c_size_t(0),
                            ctypes.c_uint32(_CREATE_VERSION))
    return max(0, int(version))


def _fs_rights(abi):
    return _FS_RIGHTS[max(v for v in _FS_RIGHTS if v <= abi)]


def landlock(read_paths, write_paths):
    """Allow reading (and executing) read_paths, full access below write_paths, nothing else.

    From ABI 4 no TCP bind/connect is allowed either; from ABI 6 signals and abstract unix
    sockets cannot reach processes outside this Landlock domain (siblings included).
    Returns the ABI version used. Missing paths are skipped.
    """
    abi = landlock_abi()
    if abi < 1:
        raise ConfineError(errno.ENOSYS, "Landlock is not available in this kernel")
    handled = _fs_rights(abi)
    net = _NET_BIND_TCP | _NET_CONNECT_TCP if abi >= 4 else 0
    scoped = _SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL if abi >= 6 else 0
    attr = struct.pack("QQQ", handled, net, scoped)[: 8 if abi < 4 else 16 if abi < 6 else 24]
    ruleset = _check(_libc.syscall(_SYS_CREATE, attr, ctypes.c_size_t(len(attr)),
                                   ctypes.c_uint32(0)), "landlock_create_ruleset")
    try:
        read = _EXECUTE | _READ_FILE | _READ_DIR
        for paths, rights in ((read_paths, read), (write_paths, handled)):
            for path in paths:
                _add_path_rule(ruleset, path, rights & handled)
        no_new_privs()
        _check(_libc.syscall(_SYS_RESTRICT, ruleset, ctypes.c_uint32(0)),
               "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi


def _add_path_rule(ruleset, path, rights):
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        if not os.path.isdir(path):
            rights &= _FILE_RIGHTS
        rule = struct.pack("=Qi", rights, fd)  # struct landlock_path_beneath_attr is packed
        _check(_libc.syscall(_SYS_ADD, ruleset, _RULE_PATH_BENEATH, rule, ctypes.c_uint32(0)),
               f"landlock_add_rule {path}")
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------- seccomp

ARCH = platform.machine()
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# Denied with EPERM: sockets (network, netlink, host unix sockets; socketpair stays allowed),
# io_uring (could open sockets behind the filter's back), ptrace and cross-process memory
# access, System V / POSIX IPC objects (otherwise shared by every submission on the host),
# namespace and mount changes, keyrings, bpf, perf and userfaultfd (kernel attack surface).
_DENIED = {
    "x86_64": dict(socket=41, ptrace=101, process_vm_readv=310, process_vm_writev=311,
                   shmget=29, semget=64, msgget=68, mq_open=240, mount=165, umount2=166,
                   pivot_root=155, chroot=161, unshare=272, setns=308, add_key=248,
                   request_key=249, keyctl=250, bpf=321, perf_event_open=298,
                   userfaultfd=323, io_uring_setup=425, io_uring_enter=426,
                   io_uring_register=427),
    "aarch64": dict(socket=198, ptrace=117, process_vm_readv=270, process_vm_writev=271,
                    shmget=194, semget=190, msgget=186, mq_open=180, mount=40, umount2=39,
                    pivot_root=41, chroot=51, unshare=97, setns=268, add_key=217,
                    request_key=218, keyctl=219, bpf=280, perf_event_open=241,
                    userfaultfd=282, io_uring_setup=425, io_uring_enter=426,
                    io_uring_register=427),
}


def seccomp_supported():
    return ARCH in _DENIED


def seccomp_filter():
    """Install the deny-list filter above; other architectures' syscalls are killed."""
    if not seccomp_supported():
        raise ConfineError(errno.ENOSYS, f"no seccomp filter for architecture {ARCH}")
    ld_abs, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    allow, kill = 0x7FFF0000, 0x80000000
    deny = 0x00050000 | errno.EPERM
    numbers = sorted(set(_DENIED[ARCH].values()))
    program = [(ld_abs, 0, 0, 4),                          # A = seccomp_data.arch
               (jeq, 1, 0, _AUDIT_ARCH[ARCH]),
               (ret, 0, 0, kill),                          # foreign ABI (e.g. i386 on x86_64)
               (ld_abs, 0, 0, 0)]                          # A = seccomp_data.nr
    if ARCH == "x86_64":
        program.append((jge, len(numbers) + 1, 0, 0x40000000))  # x32 syscalls: deny
    for index, number in enumerate(numbers):
        program.append((jeq, len(numbers) - index, 0, number))
    program += [(ret, 0, 0, allow), (ret, 0, 0, deny)]
    raw = b"".join(struct.pack("=HBBI", *insn) for insn in program)
    filters = ctypes.create_string_buffer(raw, len(raw))
    fprog = _SockFprog(len(program), ctypes.addressof(filters))
    no_new_privs()
    prctl(PR_SET_SECCOMP, 2, ctypes.addressof(fprog), what="prctl(PR_SET_SECCOMP)")


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


# ---------------------------------------------------------------------------- all together

def apply(spec):
    """Confine this process as described by spec (plain data from the trusted parent):

    uid/gid: switch to them (we must be root, or already them); drop_caps: empty every
    capability set; die_with_parent: SIGKILL when the parent dies (where no pid namespace
    ends us with the sandbox); landlock: {"read": [...], "write": [...]}; seccomp: install
    the filter; dumpable (default true): the ordinary state for the process at the end.
    Refuses to return while still root unless spec says allow_root (trusted code only).
    """
    rules = spec.get("landlock")
    if spec.get("drop_caps", True) and _has_capability(8):  # CAP_SETPCAP
        drop_bounding_set()
    uid, gid = spec.get("uid"), spec.get("gid")
    if uid is not None and os.getuid() != uid:
        drop_uid(int(uid), int(gid))
    if spec.get("drop_caps", True):
        clear_capabilities()
    if spec.get("die_with_parent"):
        # A uid change clears the parent-death signal: set it (again) now.
        parent = os.getppid()
        die_with_parent()
        if os.getppid() != parent:
            os._exit(1)  # the parent is already gone
    no_new_privs()
    if rules is not None:
        landlock(rules.get("read", []), rules.get("write", []))
    if spec.get("seccomp"):
        seccomp_filter()
    if os.geteuid() == 0 and not spec.get("allow_root"):
        raise ConfineError(errno.EPERM, "refusing to run student code as root")
    if spec.get("dumpable", True):
        # A uid switch made us non-dumpable (/proc/self owned by root); restore the ordinary
        # state now that no capability is left to protect (ptrace is denied or namespaced).
        prctl(PR_SET_DUMPABLE, 1, what="prctl(PR_SET_DUMPABLE)")


def _has_capability(number):
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> number & 1)
    except OSError:
        pass
    return False
