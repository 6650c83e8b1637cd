"""What operators see: log lines (text or JSON, stderr only) and Prometheus metrics. Never imports `mcp`."""
