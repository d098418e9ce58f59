"""Operating tokenry: its Prometheus metrics (``Metrics``) and its readiness checks."""

from tokenry.observe.metrics import Metrics
from tokenry.observe.ready import Readiness, check_readiness

__all__ = ["Metrics", "Readiness", "check_readiness"]
