"""`make load` in miniature: a real uvicorn server on 127.0.0.1, 16 clients for ~3 s, no errors."""

from benchmarks.load import CLIENTS, HOST, run


def test_a_short_load_run_has_no_errors_and_stores_every_accepted_feedback() -> None:
    report = run(seconds=3.0)

    assert HOST == "127.0.0.1" and CLIENTS == 16
    assert report.error_count == 0, report.errors
    assert report.requests > 50
    assert {"patient-view", "order-select", "order-sign", "feedback"} <= set(report.latencies)
    assert report.feedback_accepted == report.feedback_stored > 0
    assert report.rss_end_kb > 0
