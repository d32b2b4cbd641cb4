"""What the operator sees: Prometheus metrics (:mod:`.metrics`), one observer per request
(:mod:`.requests`: request metrics, request ids, the access log) and JSON log lines
(:mod:`.json_logs`). All of it is off unless ``deltacloudd`` is asked for it."""
