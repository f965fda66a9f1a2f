"""What every long-running process shares for being observed: its log format and its Prometheus
/metrics endpoint (gRPC-specific metrics and tracing live with the services)."""
