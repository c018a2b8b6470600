"""Promotion jobs on the wire: jobs to create (requests), and jobs and export links (responses)."""
