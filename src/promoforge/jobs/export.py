"""The code_export job: every code of the promotion as one CSV file, stored in parts in the database."""

from __future__ import annotations

from promoforge.domain.models import Job
from promoforge.jobs.context import JobContext
from promoforge.services import job_runs

CSV_HEADER = ("code", "uses", "max_uses", "consume_unit", "user", "created_by", "created_at")
LINE_END = b"\r\n"


def export_file_name(job: Job) -> str:
    """Name the file as EP does: job id, creation time, `_codes.csv`."""
    return f"{job.id}_{job.created_at:%Y%m%d_%H%M%S}_codes.csv"


def run_export(ctx: JobContext, job: Job) -> None:
    """Write the CSV (RFC 4180, UTF-8, header row, CRLF) part by part, then mark the job completed."""
    job_runs.begin_export(ctx.db, job=job, owner=ctx.owner, now=ctx.clock())
    buffer = bytearray(",".join(CSV_HEADER).encode("ascii") + LINE_END)
    part = 0
    size = 0
    rows_done = 0

    def flush() -> None:
        nonlocal part, size
        job_runs.store_export_part(
            ctx.db,
            job=job,
            owner=ctx.owner,
            part=part,
            data=bytes(buffer),
            rows_done=rows_done,
            lease_until=ctx.lease_until(),
        )
        part += 1
        size += len(buffer)
        buffer.clear()

    with job_runs.export_csv_chunks(ctx.db, job=job, rows_per_chunk=ctx.settings.export_chunk_rows) as chunks:
        for lines, count in chunks:
            ctx.step_done()
            buffer += lines
            buffer += LINE_END
            rows_done += count
            if len(buffer) >= ctx.settings.export_part_bytes:
                flush()
    if buffer or part == 0:
        flush()
    job_runs.complete_export(
        ctx.db,
        job=job,
        owner=ctx.owner,
        file_name=export_file_name(job),
        file_size=size,
        rows=rows_done,
        now=ctx.clock(),
    )
