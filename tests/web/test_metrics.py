"""/metrics in the Prometheus text format, read back with prometheus-client's own parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from checkrunner.web.metrics import Metrics
from tests.web.support import TOKEN, Served

#: DESIGN.md "Web surface": these names, exactly (family names drop the counter's _total).
DESIGNED = {
    "checkrunner_check_runs": "counter",
    "checkrunner_check_latency_seconds": "histogram",
    "checkrunner_check_status": "gauge",
    "checkrunner_check_last_success_timestamp_seconds": "gauge",
    "checkrunner_fire_lateness_seconds": "histogram",
    "checkrunner_fires": "counter",
    "checkrunner_notifications": "counter",
    "checkrunner_outbox_pending": "gauge",
    "checkrunner_incidents_open": "gauge",
}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_metrics_count_runs_statuses_latency_and_fires(served: Served) -> None:
    served.engine.observer.fire("monitor:peak", "ran", 0.004)
    served.engine.observer.fire("monitor:peak", "skipped", None)
    served.engine.observer.fire("checklist:morning", "missed", None)
    await served.engine.run_checklist("morning")
    await served.engine.run_check("fine")
    response = await served.client.get("/metrics", auth=("prometheus", TOKEN))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f.type for f in text_string_to_metric_families(response.text)}
    assert {name: families.get(name) for name in DESIGNED} == DESIGNED
    got = samples(response.text)
    assert got[("checkrunner_check_runs_total", (("check", "fine"), ("status", "ok")))] == 2
    assert got[("checkrunner_check_runs_total", (("check", "broken"), ("status", "critical")))] == 1
    assert got[("checkrunner_check_status", (("check", "broken"),))] == 2
    assert got[("checkrunner_check_status", (("check", "fine"),))] == 0
    assert got[("checkrunner_check_latency_seconds_count", (("check", "fine"),))] == 2
    assert got[("checkrunner_check_last_success_timestamp_seconds", (("check", "fine"),))] > 1.7e9
    assert ("checkrunner_check_last_success_timestamp_seconds", (("check", "broken"),)) not in got
    assert got[("checkrunner_fires_total", (("outcome", "ran"), ("schedule", "monitor:peak")))] == 1
    assert got[("checkrunner_fires_total", (("outcome", "skipped"), ("schedule", "monitor:peak")))] == 1
    assert got[("checkrunner_fires_total", (("outcome", "missed"), ("schedule", "checklist:morning")))] == 1
    assert got[("checkrunner_fire_lateness_seconds_count", ())] == 1
    assert got[("checkrunner_fire_lateness_seconds_bucket", (("le", "0.005"),))] == 1
    # read from the store at scrape time: the critical check opened one incident
    assert got[("checkrunner_incidents_open", ())] == served.store.count_open_incidents() == 1
    assert got[("checkrunner_outbox_pending", ())] == served.store.outbox_pending()


async def test_status_gauges_start_from_the_stored_states_after_a_restart(served: Served) -> None:
    await served.engine.run_check("broken")
    fresh = Metrics()
    fresh.seed(served.store.load_states().values())
    assert samples(fresh.render().decode())[("checkrunner_check_status", (("check", "broken"),))] == 2


def test_each_daemon_has_its_own_registry_and_observer_calls_never_raise() -> None:
    first, second = Metrics(), Metrics()
    first.notification("slack-ops", "sent")
    first.outbox_depth(3)
    first.incidents_open(2)
    first.fire("job", "ran", -0.5)  # a clock step: counted as on time
    one, two = samples(first.render().decode()), samples(second.render().decode())
    assert one[("checkrunner_notifications_total", (("channel", "slack-ops"), ("outcome", "sent")))] == 1
    assert ("checkrunner_notifications_total", (("channel", "slack-ops"), ("outcome", "sent"))) not in two
    assert one[("checkrunner_outbox_pending", ())] == 3 and one[("checkrunner_incidents_open", ())] == 2
    assert one[("checkrunner_fire_lateness_seconds_bucket", (("le", "0.001"),))] == 1
