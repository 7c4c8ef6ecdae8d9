"""Which isolation mechanism grading picks, in which order, and what a refusal says.

The selection tests replace the detection probes (is bwrap installed, are we root, does a
trial run of a mode work, the Landlock ABI); the last tests run the real trial of every mode
this machine supports, each proving that a world-readable file outside the sandbox is hidden.
"""

import os

import pytest

from neurograde.sandbox import box as sandbox, confine
from neurograde.sandbox.limits import Limits


@pytest.fixture
def machine(monkeypatch):
    """A simulated machine: edit the dict, then call sandbox.select()."""
    state = {"root": True, "bwrap": "/usr/bin/bwrap", "setpriv": "/usr/bin/setpriv",
             "abi": 7, "cgroups": True, "fail": set(), "trials": []}

    def trial(candidate):
        state["trials"].append(candidate.mode)
        return "simulated failure" if candidate.mode in state["fail"] else None

    monkeypatch.setattr(sandbox, "_is_root", lambda: state["root"])
    monkeypatch.setattr(sandbox, "_which", lambda name: state.get(name))
    monkeypatch.setattr(sandbox, "_landlock_abi", lambda: state["abi"])
    monkeypatch.setattr(sandbox, "cgroups_available", lambda: state["cgroups"])
    monkeypatch.setattr(sandbox, "_trial_run", trial)
    monkeypatch.delenv("NEUROGRADE_WARM", raising=False)
    return state


def test_bubblewrap_with_a_user_namespace_comes_first(machine):
    """Is bwrap (user namespace, uid dropped, cgroups) chosen when it works, after one trial?"""
    box = sandbox.select()
    assert (box.mode, box.drop_uid, box.use_cgroups, box.warm) == ("bwrap", True, True, True)
    assert machine["trials"] == ["bwrap"]


def test_bubblewrap_as_root_when_user_namespaces_fail(machine):
    """Without working user namespaces, is bubblewrap run as root (no user namespace) next?"""
    machine["fail"] = {"bwrap"}
    box = sandbox.select()
    assert (box.mode, box.drop_uid) == ("bwrap-root", True)
    assert machine["trials"] == ["bwrap", "bwrap-root"]


@pytest.mark.parametrize("missing", ["bwrap", "setpriv"])
def test_landlock_when_bubblewrap_cannot_be_used(machine, missing):
    """With bubblewrap (or setpriv, to start it unprivileged) missing, is Landlock chosen?"""
    machine[missing] = None
    box = sandbox.select()
    assert (box.mode, box.drop_uid, box.landlock_abi) == ("landlock", True, 7)
    assert machine["trials"] == ["landlock"]


def test_landlock_after_both_bubblewrap_modes_fail(machine):
    """Are the modes tried strictly in order: bwrap, bwrap-root, landlock?"""
    machine["fail"] = {"bwrap", "bwrap-root"}
    assert sandbox.select().mode == "landlock"
    assert machine["trials"] == ["bwrap", "bwrap-root", "landlock"]


def test_refusal_says_what_to_enable(machine):
    """With nothing usable, does the error name each missing piece and the escape hatch?"""
    machine["bwrap"] = None
    machine["abi"] = 0
    with pytest.raises(sandbox.SandboxUnavailable) as info:
        sandbox.select()
    text = str(info.value)
    assert "apt-get install bubblewrap" in text
    assert "Landlock is not enabled" in text and "lsm=landlock" in text
    assert "--unsafe-no-sandbox" in text


def test_refusal_after_failed_trials_explains_user_namespaces(machine):
    """When every trial fails, does the message give each reason and the userns sysctls?"""
    machine["fail"] = {"bwrap", "bwrap-root", "landlock"}
    with pytest.raises(sandbox.SandboxUnavailable) as info:
        sandbox.select()
    text = str(info.value)
    for mode in ("bwrap:", "bwrap-root:", "landlock:"):
        assert f"{mode} a trial run failed: simulated failure" in text
    assert "user.max_user_namespaces" in text


def test_without_root_no_bwrap_root_and_landlock_needs_abi_6(machine):
    """As an ordinary user, is bwrap-root skipped, Landlock refused below ABI 6 (signals could
    leave the submission) and accepted from ABI 6 without a uid drop?"""
    machine.update(root=False, fail={"bwrap"}, abi=5)
    with pytest.raises(sandbox.SandboxUnavailable) as info:
        sandbox.select()
    assert "without a user namespace needs root" in str(info.value)
    assert "needs ABI 6" in str(info.value)
    machine["abi"] = 6
    box = sandbox.select()
    assert (box.mode, box.drop_uid, box.use_cgroups) == ("landlock", False, False)


def test_unsafe_runs_without_a_sandbox_and_without_probing(machine):
    """Does --unsafe-no-sandbox select 'none' without any trial run?"""
    assert sandbox.select(allow_unsafe=True).mode == "none"
    assert machine["trials"] == []


def test_warm_workers_can_be_switched_off(machine, monkeypatch):
    """Does NEUROGRADE_WARM=0 ask for a fresh process per submission?"""
    monkeypatch.setenv("NEUROGRADE_WARM", "0")
    assert sandbox.select().warm is False


def test_without_cgroups_limits_fall_back_to_rlimits(machine):
    """Without writable cgroups, are memory and processes bounded by RLIMIT_DATA/NPROC?"""
    machine["cgroups"] = False
    box = sandbox.select()
    assert box.use_cgroups is False
    caps = Limits(memory_mb=512, max_pids=8).rlimits(cgroups=False, own_process_count=True)
    assert caps["RLIMIT_DATA"] == 512 * 1024 * 1024
    assert 8 <= caps["RLIMIT_NPROC"] <= 8 * max(4, os.cpu_count() or 1)
    assert {"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_CORE"} <= set(caps)


# ---------------------------------------------------------------------------- real trials

def _mode(mode):
    root = os.geteuid() == 0
    return sandbox.Sandbox(mode, drop_uid=root, use_cgroups=False,
                           landlock_abi=confine.landlock_abi())


def test_real_trial_bubblewrap():
    """Does bubblewrap here hide a world-readable file outside the sandbox (the trial)?"""
    assert sandbox._which("bwrap"), "bubblewrap is missing: apt-get install bubblewrap"
    assert sandbox._trial_run(_mode("bwrap")) is None


def test_real_trial_bubblewrap_as_root():
    """Does bubblewrap without a user namespace, as root, hide it too?"""
    if os.geteuid() != 0:
        pytest.skip("bubblewrap without a user namespace needs root")
    assert sandbox._trial_run(_mode("bwrap-root")) is None


def test_real_trial_landlock():
    """Does Landlock + seccomp + uid drop (no namespaces) make it unreadable?"""
    if confine.landlock_abi() < 1:
        pytest.skip("this kernel has no Landlock")
    if os.geteuid() != 0 and confine.landlock_abi() < 6:
        pytest.skip("Landlock without root needs ABI 6")
    assert sandbox._trial_run(_mode("landlock")) is None


def test_trial_notices_a_mode_that_does_not_isolate(monkeypatch):
    """Would a broken mechanism (one that leaves the file readable) fail its trial?"""
    broken = sandbox.Sandbox("landlock", drop_uid=False, use_cgroups=False, landlock_abi=1)
    monkeypatch.setattr(sandbox.Sandbox, "confinement",
                        lambda self, harness, writable: {"drop_caps": False,
                                                         "allow_root": True})
    assert "readable" in sandbox._trial_run(broken)
