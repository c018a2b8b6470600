"""Promotion codes on the wire: codes to add or delete (requests), and codes as listed (responses)."""
