"""What every benchmark shares: databases, the server process, timing, machine facts and the report."""
