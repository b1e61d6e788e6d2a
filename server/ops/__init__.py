"""The ops domain of the API: `/metrics` for Prometheus, `GET /v1/ops/stats` and the `/ops`
dashboard for operators."""
