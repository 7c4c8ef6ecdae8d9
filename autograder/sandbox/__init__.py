"""The machinery that confines untrusted code: choosing a sandbox (box), the self-confinement
the sandboxed process applies (confine), resource limits (limits), and the two ways a job runs
(runner: a fresh process; warmpool: a child of a warm worker)."""
