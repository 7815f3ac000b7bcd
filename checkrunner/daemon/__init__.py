"""The long-running service: timer -> claims -> engine, reload, shutdown."""
