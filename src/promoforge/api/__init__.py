"""HTTP edge: the Elastic Path wire format."""
