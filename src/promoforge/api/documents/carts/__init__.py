"""Carts on the wire: carts, lines and codes as clients send them (requests), priced carts (responses)."""
