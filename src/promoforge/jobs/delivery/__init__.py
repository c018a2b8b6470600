"""Network transports for integration deliveries: they send ready-made bytes and report an outcome."""
