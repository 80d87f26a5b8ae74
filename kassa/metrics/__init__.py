"""The shop's metrics in Prometheus's text format at /metrics: what was sold and what Stripe,
webhooks and pages did. Imports nothing of the shop, so every layer may count into it."""
