"""Code that runs inside the sandbox, beside the student's code. Never imported by the trusted
side for its logic: these files are copied into the sandbox (sandbox.box.SANDBOX_FILES) and
import nothing from the trusted package (tests/test_boundary.py)."""
