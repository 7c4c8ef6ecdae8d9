#!/usr/bin/env bash
# Installs everything neurograde needs on a fresh Debian machine (run as root):
# bubblewrap for the grading sandbox, a venv the sandbox uid can read, the package itself.
# Idempotent: a second run only checks.  NEUROGRADE_VENV overrides the venv location.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${NEUROGRADE_VENV:-/opt/neurograde/venv}"

if ! command -v bwrap >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[bootstrap] installing bubblewrap (grading sandbox)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
fi

# Headless Chromium renders the HTML class report in the tests (tests/test_report_browser.py);
# grading itself does not need it (NEUROGRADE_SKIP_CHROMIUM=1 skips it, e.g. in grading CI).
if [ -z "${NEUROGRADE_SKIP_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1 \
        && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[bootstrap] installing chromium (renders the class report in tests)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi

# Debian's interpreter lives under /usr, which the sandbox mounts read-only; a pyenv
# interpreter under /root is unreadable for the unprivileged grading uid.
PY="${NEUROGRADE_PYTHON:-}"
if [ -z "$PY" ] && [ -x /usr/bin/python3.11 ] && ! /usr/bin/python3.11 -c 'import ensurepip' 2>/dev/null \
        && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[bootstrap] installing python3.11-venv (Debian's interpreter, readable by the sandbox)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11-venv >/dev/null
fi
if [ -z "$PY" ]; then
    if [ -x /usr/bin/python3.11 ] && /usr/bin/python3.11 -c 'import ensurepip, venv' 2>/dev/null; then
        PY=/usr/bin/python3.11
    else
        PY=python3
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "[bootstrap] creating venv $VENV with $PY"
    mkdir -p "$(dirname "$VENV")"
    "$PY" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import autograder, torch, otter, nbclient, distributed' 2>/dev/null \
        || [ pyproject.toml -nt "$VENV/.neurograde-installed" ]; then
    echo "[bootstrap] installing neurograde and its dependencies into $VENV"
    "$VENV/bin/pip" install -q -e . 2>&1 | grep -v "is ignored: it is neither" || true
    "$VENV/bin/python" -c 'import autograder, torch, otter, nbclient'
    touch "$VENV/.neurograde-installed"
fi
# The sandbox runs student code as an unprivileged uid that must read (not write) the venv.
chmod -R a+rX "$VENV"
echo "[bootstrap] ready: $VENV/bin/neurograde"
