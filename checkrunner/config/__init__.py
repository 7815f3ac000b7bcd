"""schedules.yaml -> validated immutable Config (see loader.py for the order of passes)."""

from checkrunner.config.loader import DATABASE_ENV, load_config
from checkrunner.config.spec import CheckSpec, Config, MonitorSpec

__all__ = ["DATABASE_ENV", "CheckSpec", "Config", "MonitorSpec", "load_config"]
