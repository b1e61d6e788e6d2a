"""Prometheus metrics observed where the work happens (worker processes), as opposed to the
cluster-level gauges the API computes at scrape time (`server/ops/collector.py`).

- `pipeline`: pages and tasks (latency histograms, counters, engine output tokens);
- `webhooks`: webhook delivery outcomes, for the webhook delivery code to call.

All of them live in prometheus-client's default registry of the process that observes them;
`docs/operations.md` lists every metric and where it is scraped.
"""
