"""What a worker tells operators: its liveness row (`liveness.py`), its Prometheus endpoint,
its task metrics, and the periodic queue-depth sample."""
