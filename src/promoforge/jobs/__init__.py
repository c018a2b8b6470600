"""Background work: the worker that claims jobs from the job table, and what each job type does."""
