"""Integrations: events a store can observe, how integrations are configured, and how deliveries are built,
signed, scheduled and kept away from private networks (integrations spec)."""
