"""The warm worker: started once per job slot inside the sandbox, it forks one child per submission.

Python start-up and imports (numpy, torch when the assignment uses it, the harness and the
assignment's probes) are paid once per worker; a submission then costs a fork or two. The worker
never runs student code itself, so nothing a submission does can change what the next one
inherits (each child is a fresh copy of the same pristine process).

Protocol, over unix sockets from the trusted parent (warmpool.py):

* control socket (SOCK_SEQPACKET; its fd is argv[1]): one request per submission, JSON with
  four descriptors attached: [result pipe, output pipe, hidden-input pipe, sync socket].
* sync socket (per submission): the child sends b"ready" (the kernel attaches its pid, as the
  parent's namespace sees it, because the parent set SO_PASSCRED: that is what the parent
  kills at the wall clock). When the submission has ended its wait status is sent as
  {"status": N} (the first such message counts) and the worker closes the socket once nothing
  of the submission is left.

The parent keeps the worker in a cgroup whose limits it re-arms before each request, so every
child starts inside it (a fork inherits it: no costly task migration per submission) and runs
alone in it; the child makes itself, not the worker, the OOM killer's first choice.

Process tree per submission, with namespaces (bubblewrap modes):

    worker -> I (pid 1 of a new pid namespace; new mount + ipc namespaces) -> G (pid 2)

I gives the submission its own view (its work folder at /work, a fresh size-capped /tmp and
/dev/shm, procfs of its own pid namespace, the spool of other jobs covered), then forks G, reaps
every orphan while G runs, and reports G's status. G drops every capability (and the uid in
bwrap-root mode) and runs harness.grade; as pid 2 it has ordinary signal semantics (pid 1 would
ignore signals it sends itself). When I ends, the kernel kills and reaps whatever is left in
the namespace: no process or zombie outlives a submission, and a child can neither see nor
signal the worker or a sibling.

Without namespaces (landlock mode) G is forked directly and confines itself with Landlock +
seccomp + uid drop; the worker is a child subreaper, so orphans come back to it and are killed
and reaped after each submission.

Standalone on purpose (stdlib + the sandbox-side modules): usage
    python -I worker.py CONTROL_FD CONFIG_JSON
"""

import ctypes
import gc
import json
import os
import signal
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import confine  # noqa: E402  (after sys.path set-up, by design)

RESULT_FD = 3
HIGH_FD = 100
_libc = ctypes.CDLL(None, use_errno=True)


def main(argv):
    control = socket.socket(fileno=int(argv[1]))
    config = json.loads(argv[2])
    if config.get("die_with_parent"):
        confine.die_with_parent()
    confine.become_subreaper()
    error = None
    own_pid_ns = None
    try:
        import harness  # imports numpy
        if config.get("torch"):
            import torch  # noqa: F401  (the expensive import is the point of a warm worker)
            _warm_torch(torch)
        _preload(config.get("preload") or ())
        probes = harness.load_probes(config["probes"])
        if config.get("namespaces"):
            own_pid_ns = _become_pid_namespace_init(control)
            _self_test(config, own_pid_ns)
    except Exception as exc:  # report why, so the parent can fall back to fresh processes
        error = f"{type(exc).__name__}: {exc}"[:500]
    control.send(json.dumps({"ready": error is None, "error": error}).encode())
    if error is not None:
        return 1
    # Children then never write to these objects' GC headers: fewer copy-on-write faults.
    gc.freeze()
    control.settimeout(float(config.get("idle_seconds", 300)))
    while True:
        try:
            message, fds, _flags, _addr = socket.recv_fds(control, 1 << 20, 4)
        except (socket.timeout, OSError):
            return 0  # idle for too long, or the parent went away
        if not message:
            return 0
        if len(fds) != 4:
            for fd in fds:
                os.close(fd)
            continue
        _serve(json.loads(message), fds, control, probes, config, own_pid_ns)


def _warm_torch(torch):
    """One tiny training step with each common optimizer, so that what torch loads lazily
    on first use (its optimizers pull in hundreds of modules: about a second) is loaded here
    once instead of in every child. The random generator's state is put back afterwards, so
    the step draws nothing a child would have drawn."""
    state = torch.get_rng_state()
    try:
        model = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.ReLU(),
                                    torch.nn.ConvTranspose2d(2, 3, 3), torch.nn.Sigmoid(),
                                    torch.nn.Flatten(), torch.nn.Linear(48, 2))
        x = torch.rand(2, 3, 4, 4)
        for make in (torch.optim.SGD, torch.optim.Adam):
            optimizer = make(model.parameters(), lr=0.01)
            out = model(x)
            loss = torch.nn.functional.mse_loss(out, torch.zeros_like(out)) + \
                torch.nn.functional.binary_cross_entropy_with_logits(out, torch.ones_like(out))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    except Exception:
        pass  # only a head start: a child loads whatever this did not
    finally:
        torch.set_rng_state(state)


def _preload(names):
    """Import, once, what the assignment's notebook imports (numpy.random, which numpy loads
    lazily, and the set-up cell's standard modules): every child would otherwise pay for it
    (numpy.random alone takes about 10 ms). A child gets the same modules it would have
    imported itself; one that fails to import here is left for the child to fail on."""
    import importlib
    for name in names:
        try:
            importlib.import_module(str(name))
        except Exception:
            pass


def _become_pid_namespace_init(control):
    """Continue as pid 1 of a pid namespace of our own; return a descriptor of it.

    bubblewrap's pid namespace belongs to an outer user namespace (--disable-userns nests
    ours), so we could not switch back to it after creating one per submission. A namespace we
    create ourselves is ours to return to. The original process just waits and passes on the
    exit status.
    """
    confine.unshare(confine.CLONE_NEWPID)
    pid = os.fork()
    if pid != 0:
        control.close()
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    return os.open("/proc/self/ns/pid", os.O_RDONLY)


def _fork_into_new_pid_namespace(own_pid_ns):
    """fork(), the child being pid 1 of a new pid namespace; ours stays as it was.

    unshare(CLONE_NEWPID) only affects children created afterwards, and only once, so we
    switch the namespace for our future children back to our own right after the fork."""
    confine.unshare(confine.CLONE_NEWPID)
    try:
        pid = os.fork()
    except BaseException:
        _restore_pid_namespace(own_pid_ns)
        raise
    if pid != 0:
        _restore_pid_namespace(own_pid_ns)
    return pid


def _restore_pid_namespace(own_pid_ns):
    if _libc.setns(own_pid_ns, confine.CLONE_NEWPID) != 0:
        os._exit(75)  # cannot undo: our next children would share one namespace


def _serve(request, fds, control, probes, config, own_pid_ns):
    result_fd, output_fd, input_fd, sync_fd = fds
    sys.stdout.flush()
    sys.stderr.flush()
    pid = _fork_into_new_pid_namespace(own_pid_ns) if own_pid_ns is not None else os.fork()
    if pid == 0:
        try:
            control.close()
            if own_pid_ns is not None:
                os.close(own_pid_ns)
            _child(request, result_fd, output_fd, input_fd, sync_fd, probes, config)
        except BaseException as exc:  # a bug of ours: tell the parent, show the traceback
            _report_failure(result_fd, exc)
            import traceback
            traceback.print_exc()
        finally:
            os._exit(71)
    for fd in (result_fd, output_fd, input_fd):
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    _reap_strays()
    sync = socket.socket(fileno=sync_fd)
    try:
        sync.send(json.dumps({"status": status}).encode())
    except OSError:
        pass  # the parent has the status from the child already, or gave up on this run
    sync.close()  # tells the parent that nothing of this submission is left


def _child(request, result_fd, output_fd, input_fd, sync_fd, probes, config):
    """Tell the parent who we are, then grade here (no namespaces) or under an init (I)."""
    os.setsid()
    sync = socket.socket(fileno=sync_fd)
    sync.send(b"ready")  # the parent learns our pid (to kill the run); we are in its cgroup
    job = request.get("job_data")  # small jobs come with the request (parsed before fork)
    if job is None:
        with open(request["job"]) as fh:  # before the spool it lives in is hidden
            job = json.load(fh)
    if not config.get("namespaces"):
        sync.close()
        confine.die_with_parent()  # no pid namespace would end us with the worker
        _grade(request, job, (result_fd, output_fd, input_fd), probes, confined_view=False)
    # We are pid 1 (I) of the submission's pid namespace.
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # pid 1 ignores what it does not handle
    confine.unshare(confine.CLONE_NEWNS | confine.CLONE_NEWIPC)
    confine.private_view(request["work"], request["tmp_bytes"], hide=["/spool"])
    confine.not_dumpable()  # the grader, unprivileged, must not reach into us
    grader = os.fork()
    if grader == 0:
        sync.close()
        confine.prctl(confine.PR_SET_DUMPABLE, 1)  # ours: /proc/self belongs to us again
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _grade(request, job, (result_fd, output_fd, input_fd), probes, confined_view=True)
    for fd in (result_fd, output_fd, input_fd):
        os.close(fd)
    confine.apply({"drop_caps": True, "allow_root": True, "dumpable": False})
    while True:  # reap every orphan of the namespace until the grader itself has ended
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(73)
        if pid == grader:
            break
    try:
        sync.send(json.dumps({"status": status}).encode())
    except OSError:
        pass
    os._exit(0)  # the kernel now kills whatever the submission left in this namespace


def _grade(request, job, fds, probes, confined_view):
    """G: descriptors, environment and limits; confine; grade. Never returns."""
    import harness
    result_fd, output_fd, input_fd = fds
    report_fd = result_fd
    try:
        os.chdir("/work" if confined_view else request["work"])
        _arrange_fds(result_fd, output_fd, input_fd)
        report_fd = RESULT_FD
        os.environ.clear()
        os.environ.update(request["env"])
        _oom_killable()
        _set_rlimits(request["rlimits"])
        sys.argv = ["harness.py", request["job"]]
        channel = harness.Channel(RESULT_FD)
    except Exception as exc:  # not isolated yet: report and stop before any student code
        _report_failure(report_fd, exc)
        os._exit(70)
    harness.confine_or_exit(request.get("confine"), channel)
    harness.grade(job, channel, probes)
    os._exit(0)


def _oom_killable():
    """The worker shares the run's cgroup: make the submission the OOM killer's first choice
    (raising one's own score needs no privilege; lowering the worker's would need
    CAP_SYS_RESOURCE, which not every root has). Should the worker still be killed, the
    parent starts a new one and re-runs the submission in a fresh process."""
    try:
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")
    except OSError:
        pass


def _report_failure(fd, exc):
    message = json.dumps({"kind": "sandbox-error",
                          "message": f"{type(exc).__name__}: {exc}"[:500]})
    try:
        os.write(fd, (message + "\n").encode())
    except OSError:
        pass


def _set_rlimits(caps):
    import resource
    for name, value in caps.items():
        pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
        try:
            resource.setrlimit(getattr(resource, name), pair)
        except (ValueError, OSError, AttributeError):
            pass  # a stricter hard limit is already in place


def _arrange_fds(result_fd, output_fd, input_fd):
    """0 = hidden-input pipe (the harness keeps it and gives student code /dev/null),
    1 and 2 = output pipe, 3 = result pipe, nothing else open."""
    import fcntl
    result_high = fcntl.fcntl(result_fd, fcntl.F_DUPFD, HIGH_FD)
    output_high = fcntl.fcntl(output_fd, fcntl.F_DUPFD, HIGH_FD)
    input_high = fcntl.fcntl(input_fd, fcntl.F_DUPFD, HIGH_FD)
    os.dup2(input_high, 0)
    os.dup2(output_high, 1)
    os.dup2(output_high, 2)
    os.dup2(result_high, RESULT_FD)
    os.closerange(RESULT_FD + 1, _max_fd())


def _max_fd():
    try:
        return max(int(fd) for fd in os.listdir("/proc/self/fd")) + 1
    except (OSError, ValueError):
        return 4096


def _self_test(config, own_pid_ns):
    """Can a child really get its own namespaces, mounts and confinement here?"""
    pid = _fork_into_new_pid_namespace(own_pid_ns)
    if pid == 0:
        code = 1
        try:
            confine.unshare(confine.CLONE_NEWNS | confine.CLONE_NEWIPC)
            confine.private_view("/work", 65536, hide=["/spool"])
            confine.apply({"drop_caps": True, **config.get("test_confine", {})})
            code = 0 if os.getpid() == 1 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise OSError(f"a child could not set up its own namespaces (wait status {status})")


def _reap_strays():
    """Kill and reap any process that was orphaned to us (we are a child subreaper)."""
    for _ in range(50):
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid:
            continue
        children = _children()
        if not children:
            return
        for child in children:
            try:
                os.kill(child, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.002)


def _children():
    found = []
    try:
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children") as fh:
                found += [int(p) for p in fh.read().split()]
    except (OSError, ValueError):
        pass
    return found


if __name__ == "__main__":
    sys.exit(main(sys.argv))
