"""The check-plugin contract and plugin discovery."""

from checkrunner.plugins.contract import CheckContext, CheckOptions, CheckPlugin, PingState, secret

__all__ = ["CheckContext", "CheckOptions", "CheckPlugin", "PingState", "secret"]
