"""neurograde: autograded neural-network exercises with sandboxed, trusted-side judging.

The engine is a pipeline, one module per stage:
collect -> probe (plan) -> execute (sandbox, harness) -> judge -> gradebook -> report;
release builds student notebooks and otter autograder zips from the same check specs.
"""

__version__ = "0.1.0"
