"""checkrunner: a scheduled check-runner daemon."""

__version__ = "0.1.0"
