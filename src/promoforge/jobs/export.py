"""The code_export job: every code of the promotion as one CSV file, stored in parts in the database."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from promoforge.domain.jobs import Job
from promoforge.jobs.context import JobContext
from promoforge.observability.metrics import CODES_EXPORTED
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
    # Each part is stored on another thread while the next is read (both wait in the database, not in
    # Python); one store at a time, so at most two parts are in memory.
    storing: Future[None] | None = None

    def flush(writer: ThreadPoolExecutor) -> None:
        nonlocal part, size, storing
        data = bytes(buffer)
        if storing is not None:
            storing.result()
        storing = writer.submit(
            job_runs.store_export_part,
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
        buffer.clear()

    chunk_rows = ctx.settings.export_chunk_rows
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-store") as writer:
        with job_runs.export_csv_chunks(ctx.db, job=job, rows_per_chunk=chunk_rows) as chunks:
            for lines, count in chunks:
                ctx.step_done()
                buffer += lines
                buffer += LINE_END
                rows_done += count
                if len(buffer) >= ctx.settings.export_part_bytes:
                    flush(writer)
        if buffer or part == 0:
            flush(writer)
        if storing is not None:
            storing.result()
    job_runs.complete_export(
        ctx.db,
        job=job,
        owner=ctx.owner,
        file_name=export_file_name(job),
        file_size=size,
        rows=rows_done,
        now=ctx.clock(),
    )
    CODES_EXPORTED.inc(rows_done)
