"""Promotions on the wire: the bodies that create and change them (requests), and what the API answers."""
