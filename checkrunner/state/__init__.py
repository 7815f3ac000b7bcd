"""Pure state logic: per-check hard/soft state and baselines."""
