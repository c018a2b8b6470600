"""Checkout and orders on the wire: checkout and order bodies (requests), orders and usages (responses)."""
