"""The job state machine."""

from __future__ import annotations

import pytest

from promoforge.domain.errors import JobNotCancellable
from promoforge.domain.jobs import (
    InvalidTransition,
    JobStatus,
    can_move,
    generate_parameters_from,
    move,
    parse_status,
    status_after_cancel,
)

ALLOWED = {
    (JobStatus.PENDING, JobStatus.PROCESSING),
    (JobStatus.PENDING, JobStatus.CANCELLED),
    (JobStatus.PROCESSING, JobStatus.COMPLETED),
    (JobStatus.PROCESSING, JobStatus.FAILED),
    (JobStatus.PROCESSING, JobStatus.CANCELLING),
    (JobStatus.CANCELLING, JobStatus.CANCELLED),
}


@pytest.mark.parametrize("current", list(JobStatus))
@pytest.mark.parametrize("target", list(JobStatus))
def test_only_documented_transitions_are_allowed(current: JobStatus, target: JobStatus) -> None:
    assert can_move(current, target) == ((current, target) in ALLOWED)
    if (current, target) in ALLOWED:
        assert move(current, target) is target
    else:
        with pytest.raises(InvalidTransition):
            move(current, target)


def test_cancel_of_pending_needs_no_undo_and_processing_does() -> None:
    assert status_after_cancel(JobStatus.PENDING) is JobStatus.CANCELLED
    assert status_after_cancel(JobStatus.PROCESSING) is JobStatus.CANCELLING


@pytest.mark.parametrize(
    "status", [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.CANCELLING]
)
def test_finished_or_cancelling_jobs_cannot_be_cancelled(status: JobStatus) -> None:
    with pytest.raises(JobNotCancellable):
        status_after_cancel(status)


def test_status_filter_accepts_the_old_spelling() -> None:
    assert parse_status(" complete ") is JobStatus.COMPLETED
    assert parse_status("Completed") is JobStatus.COMPLETED
    with pytest.raises(ValueError):
        parse_status("done")


def test_parameters_round_trip_from_storage() -> None:
    parameters = generate_parameters_from(
        {"number_of_codes": 5, "max_uses_per_code": 0, "consume_unit": "per_item", "code_length": 12}
    )
    assert parameters.number_of_codes == 5
    assert parameters.max_uses_per_code == 0
    assert parameters.consume_unit.value == "per_item"
    assert parameters.code_length == 12
    assert parameters.code_prefix is None
