"""The code_generate job: exactly `number_of_codes` new random codes, resumable after a crash."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from promoforge.domain.codes import OrderedCodeDraw, canonical_code, code_space_size, joined_prefix
from promoforge.domain.jobs import Job, JobStatus, generate_parameters_from
from promoforge.jobs.context import JobContext, JobFailed
from promoforge.observability.metrics import CODES_GENERATED
from promoforge.services import job_runs

# Jobs at least this large refresh the planner's statistics when they finish.
STATISTICS_REFRESH_CODES = 10_000
# Rounds in a row that add no code before the job gives up; with the code space at most half full
# (checked when the job is created) a round adds nothing with probability below 2^-batch.
MAX_FRUITLESS_ROUNDS = 20
UNDO_BATCH = 20_000


def next_batch_size(size: int, seconds: float, ctx: JobContext) -> int:
    """Aim each batch at the configured duration: few commits, yet short write locks and quick cancels."""
    settings = ctx.settings
    ceiling = max(settings.generate_max_chunk_size, settings.generate_chunk_size)
    wanted = size * min(2.0, settings.generate_batch_seconds / max(seconds, 1e-3))
    return max(1, settings.generate_chunk_size // 4, min(ceiling, int(wanted)))


def run_generate(ctx: JobContext, job: Job) -> None:
    """Generate the job's codes in batches; each batch and its count commit together."""
    parameters = generate_parameters_from(job.parameters)
    total = parameters.number_of_codes
    if not job.capacity_reserved and not job_runs.reserve_generation(
        ctx.db, job=job, owner=ctx.owner, total=total, now=ctx.clock()
    ):
        return
    prefix = joined_prefix(parameters.code_prefix)
    key_prefix = canonical_code(prefix) if prefix else ""
    generated = job.generated
    fruitless = 0
    size = ctx.settings.generate_chunk_size
    length = parameters.code_length
    # The codes are drawn in ascending order (OrderedCodeDraw), the next batch on another thread while this
    # one is inserted (the database works without holding the GIL). That draw waits until this batch's
    # rows start going out: on two cores, a draw running during the batch's first short statements slowed
    # each of them several times over. A draw that runs out before the job has its codes (repeats dropped,
    # clashes skipped) is followed by a draw of what is missing.
    draw = OrderedCodeDraw(total - generated, length)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="draw-codes") as drawing:
        upcoming: Future[list[str]] = drawing.submit(draw.take, size)
        while generated < total:
            ctx.step_done()
            started = time.monotonic()
            batch = upcoming.result()
            if not batch:
                draw = OrderedCodeDraw(total - generated, length)
                batch = draw.take(size)
            sending = threading.Event()
            upcoming = drawing.submit(_take_once_set, sending, draw, size)
            try:
                inserted = job_runs.insert_generated_batch(
                    ctx.db,
                    job=job,
                    owner=ctx.owner,
                    parameters=parameters,
                    prefix=prefix,
                    key_prefix=key_prefix,
                    bodies=batch,
                    now=ctx.clock(),
                    lease_until=ctx.lease_until(),
                    on_send=sending.set,
                )
            finally:
                sending.set()
            generated += inserted
            CODES_GENERATED.inc(inserted)
            size = next_batch_size(size, time.monotonic() - started, ctx)
            fruitless = 0 if inserted else fruitless + 1
            if fruitless >= MAX_FRUITLESS_ROUNDS:
                raise JobFailed(
                    f"could not find enough unused codes: {MAX_FRUITLESS_ROUNDS} batches of random "
                    f"{length}-character codes in a row all matched codes the store already has "
                    f"(of {code_space_size(length)} possible). Use a longer code_length or a "
                    "code_prefix; the codes made so far were removed."
                )
    job_runs.complete_generation(ctx.db, job=job, owner=ctx.owner, generated=generated, now=ctx.clock())
    if total - job.generated >= STATISTICS_REFRESH_CODES:
        job_runs.refresh_code_statistics(ctx.db, job=job)


def _take_once_set(event: threading.Event, draw: OrderedCodeDraw, count: int) -> list[str]:
    """Wait for `event`, then take `count` codes from `draw`."""
    event.wait()
    return draw.take(count)


def undo_generate(ctx: JobContext, job: Job, status: JobStatus) -> None:
    """Remove the codes a generation job made, batch by batch."""
    while job_runs.delete_generated_batch(ctx.db, job=job, owner=ctx.owner, status=status, batch=UNDO_BATCH):
        ctx.step_done()
