"""Integrations on the wire (integrations spec §2, §3, §4.7, §4.8)."""
