"""Job use cases seen from the API: create, list, get, cancel, and the export file behind a signed link."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, Signer

from promoforge.domain.codes import check_code_space
from promoforge.domain.errors import (
    ExportFileExpired,
    FieldProblem,
    Forbidden,
    NoFileToDownload,
    NotFound,
    SemanticError,
)
from promoforge.domain.jobs import (
    GenerateParameters,
    Job,
    JobStatus,
    JobType,
    queued_job,
    status_after_cancel,
)
from promoforge.domain.queries import Page
from promoforge.services.job_runs import record_job_event
from promoforge.services.promotions import PROMOTION_NOT_FOUND
from promoforge.services.signing_keys import KID_PATTERN, KeyRing, SigningKey
from promoforge.storage.repositories import Transactor

LINK_SALT = "promoforge.export-link"
JOB_NOT_FOUND = "job not found"


@dataclass(frozen=True)
class JobRequest:
    """A validated request for a new job."""

    job_type: JobType
    name: str | None
    generate: GenerateParameters | None
    parameters: dict[str, Any] | None


@dataclass(frozen=True)
class ExportLink:
    """Where an export file can be downloaded, and until when."""

    path: str
    expires: int
    signature: str


@dataclass(frozen=True)
class ExportFile:
    """An export file ready to stream."""

    name: str
    size: int
    parts: Iterator[bytes]


class LinkSigner:
    """Signs download links (HMAC-SHA256) so they work without a token, for a limited time.

    The signature is `<kid>.<signature>`: the kid names the key, and is signed with the path and expiry.
    """

    def __init__(self, keys: KeyRing) -> None:
        self._keys = keys

    @staticmethod
    def _signer(key: SigningKey) -> Signer:
        return Signer(key.secret, salt=LINK_SALT, sep=".", digest_method=hashlib.sha256)

    def sign(self, path: str, expires: int) -> str:
        """Return the signature of a path valid until `expires` (epoch seconds)."""
        key = self._keys.signing_key()
        signed = self._signer(key).sign(f"{key.kid}|{path}|{expires}".encode())
        return f"{key.kid}.{signed.rsplit(b'.', 1)[1].decode()}"

    def valid(self, path: str, expires: int, signature: str) -> bool:
        """Tell whether `signature` is this service's signature of the path and expiry."""
        kid, _, digest = signature.partition(".")
        key = self._keys.key(kid) if KID_PATTERN.fullmatch(kid) else None
        if key is None:
            return False
        try:
            self._signer(key).unsign(f"{kid}|{path}|{expires}.{digest}".encode())
        except BadSignature:
            return False
        return True


def create_job(
    uow: Transactor,
    *,
    store_id: str,
    promotion_id: str,
    request: JobRequest,
    actor: str | None,
    now: datetime,
) -> Job:
    """Queue a job; refuse it at once when it could never succeed."""
    job = queued_job(
        job_id=str(uuid.uuid4()),
        store_id=store_id,
        promotion_id=promotion_id,
        job_type=request.job_type,
        name=request.name,
        parameters=request.parameters,
        created_by=actor,
        progress_total=request.generate.number_of_codes if request.generate else 0,
        now=now,
    )
    with uow.write() as tx:
        repos = tx.store(store_id)
        if not repos.promotions.lock(promotion_id):
            raise NotFound(PROMOTION_NOT_FOUND)
        if request.generate is not None:
            store = tx.stores.get(store_id)
            assert store is not None
            if request.generate.number_of_codes > store.max_codes_per_promotion:
                raise SemanticError(
                    [
                        FieldProblem(
                            "data.parameters.number_of_codes",
                            f"number_of_codes may be at most {store.max_codes_per_promotion}, "
                            "the store's max_codes_per_promotion",
                            "max",
                        )
                    ]
                )
            check_code_space(
                existing_codes=repos.promotions.code_total(),
                new_codes=request.generate.number_of_codes,
                length=request.generate.code_length,
            )
        repos.jobs.add(job)
    return job


def list_jobs(
    uow: Transactor,
    *,
    store_id: str,
    promotion_id: str,
    page: Page,
    job_type: JobType | None = None,
    status: JobStatus | None = None,
) -> tuple[list[Job], int]:
    """Return a page of a promotion's jobs, newest first."""
    with uow.read() as tx:
        repos = tx.store(store_id)
        if not repos.promotions.exists(promotion_id):
            raise NotFound(PROMOTION_NOT_FOUND)
        return repos.jobs.list_page(promotion_id, page, job_type=job_type, status=status)


def get_job(uow: Transactor, *, store_id: str, promotion_id: str, job_id: str) -> Job:
    """Return one job of a promotion."""
    with uow.read() as tx:
        repos = tx.store(store_id)
        job = repos.jobs.get(promotion_id, job_id) if repos.promotions.exists(promotion_id) else None
    if job is None:
        raise NotFound(JOB_NOT_FOUND)
    return job


def cancel_job(uow: Transactor, *, store_id: str, promotion_id: str, job_id: str, now: datetime) -> Job:
    """Ask for a job to stop: a pending job is cancelled at once, a processing one is undone by its worker."""
    with uow.write() as tx:
        repos = tx.store(store_id)
        exists = repos.promotions.exists(promotion_id)
        job = repos.jobs.get(promotion_id, job_id, for_update=True) if exists else None
        if job is None:
            raise NotFound(JOB_NOT_FOUND)
        target = status_after_cancel(job.status)
        repos.jobs.set_status(job_id, target, now)
        # A pending job ends here; a processing one ends (and records its event) when its worker undoes it.
        record_job_event(repos, job_id, job.job_type, target, now)
    return replace(job, status=target, updated_at=now)


def export_link(
    uow: Transactor,
    signer: LinkSigner,
    *,
    store_id: str,
    promotion_id: str,
    job_id: str,
    now: datetime,
    ttl_seconds: int,
) -> ExportLink:
    """Return a signed, expiring download link for a completed export."""
    job = get_job(uow, store_id=store_id, promotion_id=promotion_id, job_id=job_id)
    if job.job_type is not JobType.CODE_EXPORT or job.status is not JobStatus.COMPLETED or not job.file_name:
        raise NoFileToDownload(f"Job has no file to download. Job status: {job.status.value}")
    _refuse_expired(job, now)
    path = f"/v2/files/{store_id}/{promotion_id}/{job.file_name}"
    expires = int(now.timestamp()) + ttl_seconds
    return ExportLink(path=path, expires=expires, signature=signer.sign(path, expires))


def open_export(
    uow: Transactor,
    signer: LinkSigner,
    *,
    store_id: str,
    promotion_id: str,
    file_name: str,
    expires: int,
    signature: str,
    now: datetime,
) -> ExportFile:
    """Check a download link and return the file it names, streamed part by part."""
    path = f"/v2/files/{store_id}/{promotion_id}/{file_name}"
    if not signer.valid(path, expires, signature) or now.timestamp() > expires:
        raise Forbidden(
            "The download link is invalid or has expired; ask the job's file endpoint for a new one"
        )
    job_id = file_name.split("_", 1)[0]
    with uow.read() as tx:
        repos = tx.store(store_id)
        job = repos.jobs.get(promotion_id, job_id) if repos.promotions.exists(promotion_id) else None
        if job is None or job.file_name != file_name:
            raise NotFound("The file no longer exists")
        _refuse_expired(job, now)
        if job.file_size is None:
            raise NotFound("The file no longer exists")
        parts = repos.jobs.file_part_numbers(job_id)
    return ExportFile(name=file_name, size=job.file_size, parts=_read_parts(uow, store_id, job_id, parts))


def _refuse_expired(job: Job, now: datetime) -> None:
    expires = job.file_expires_at
    if expires is not None and (expires <= now or job.file_size is None):
        raise ExportFileExpired(
            f"The export file expired on {expires:%Y-%m-%dT%H:%M:%SZ} and was deleted; "
            "run a new code_export job"
        )


def purge_expired_exports(uow: Transactor, *, now: datetime, batch: int) -> int:
    """Delete the files of exports expired by `now` (every store's), `batch` parts a transaction.

    Return how many parts were deleted.
    """
    total = 0
    while True:
        with uow.write() as tx:
            deleted = tx.expired_exports.purge_parts(now, batch)
        total += deleted
        if deleted < batch:
            return total


def _read_parts(uow: Transactor, store_id: str, job_id: str, parts: list[int]) -> Iterator[bytes]:
    for part in parts:
        with uow.read() as tx:
            data = tx.store(store_id).jobs.file_part(job_id, part)
        yield data
