"""The code_export job: every code of the promotion as one CSV file, stored in parts in the database."""

from __future__ import annotations

import csv
import io

from promoforge.domain.models import Job
from promoforge.jobs.context import JobContext
from promoforge.services import job_runs

CSV_HEADER = ("code", "uses", "max_uses", "consume_unit", "user", "created_by", "created_at")


def export_file_name(job: Job) -> str:
    """Name the file as EP does: job id, creation time, `_codes.csv`."""
    return f"{job.id}_{job.created_at:%Y%m%d_%H%M%S}_codes.csv"


def run_export(ctx: JobContext, job: Job) -> None:
    """Write the CSV (RFC 4180, UTF-8, header row) part by part, then mark the job completed."""
    job_runs.begin_export(ctx.db, job=job, owner=ctx.owner, now=ctx.clock())
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    part = 0
    size = 0
    rows_done = 0

    def flush() -> None:
        nonlocal part, size
        data = text.getvalue().encode("utf-8")
        text.seek(0)
        text.truncate(0)
        job_runs.store_export_part(
            ctx.db,
            job=job,
            owner=ctx.owner,
            part=part,
            data=data,
            rows_done=rows_done,
            lease_until=ctx.lease_until(),
        )
        part += 1
        size += len(data)

    with job_runs.export_rows(ctx.db, job=job, batch=ctx.settings.export_chunk_rows) as batches:
        for rows in batches:
            ctx.check_stop()
            writer.writerows(rows)
            rows_done += len(rows)
            if text.tell() >= ctx.settings.export_part_bytes:
                flush()
    if text.tell() or part == 0:
        flush()
    job_runs.finish_job(
        ctx.db,
        job=job,
        owner=ctx.owner,
        now=ctx.clock(),
        file_name=export_file_name(job),
        file_size=size,
        progress_done=rows_done,
    )
