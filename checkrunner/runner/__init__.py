"""Running one check safely: deadline, retries, any exception -> unknown, thresholds."""

from checkrunner.runner.check import RunOutcome, run_check

__all__ = ["RunOutcome", "run_check"]
