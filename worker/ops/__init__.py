"""What a worker tells operators: its heartbeat, its Prometheus endpoint, its task metrics, and
the periodic queue-depth sample."""
