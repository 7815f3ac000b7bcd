"""Reports: what operators receive after each checklist run and every day, week and month.

Pure pieces (time is a parameter, no I/O): ``periods`` (day/week/month in the config timezone,
``--period`` forms), ``stats`` (uptime, incidents, latency quantiles, changes, deliveries),
``slo`` (compliance, error budget, multi-window burn rates), ``summary`` (worst first),
``checklist`` (the checklist report's context, with what changed since the previous run),
``render`` (the report templates and their filters).

With the store: ``compose.build_report(store, config, name, period, now) -> ReportView``;
``deliver`` (period choice, ``--out`` previews, one message per channel, dedup keys);
``burn.burn_states`` (every SLO's burn rates now); ``retention.apply_retention``;
``preflight.preflight(config)`` (``validate`` renders every template).

This room reads the store, alerting, notify, config, core and templating; sending belongs to
the engine (``Engine.run_report``, ``Engine.notify``).
"""
