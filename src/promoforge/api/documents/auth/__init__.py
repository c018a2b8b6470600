"""Access tokens on the wire: the form that asks for one (requests), and the token (responses)."""
