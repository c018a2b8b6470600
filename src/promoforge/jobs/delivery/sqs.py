"""Amazon SQS delivery (integrations §5.2, D-I25): one `SendMessage` per attempt through boto3, an optional
extra (`pip install 'promoforge[sqs]'`). Tested against moto's SQS on loopback only; never against AWS.

`PROMOFORGE_SQS_ENDPOINT_URL` points every client at another SQS-compatible endpoint (tests, LocalStack);
the queue URL still names the queue.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from promoforge.domain.integrations.configuration import SqsConfiguration
from promoforge.domain.integrations.messages import could_not_connect, sqs_send_failed
from promoforge.jobs.delivery.outcome import AttemptOutcome, elapsed, failed


class SqsSender:
    """Sends CloudEvents to SQS queues; keeps one client per region, key and endpoint."""

    def __init__(self, *, endpoint_url: str | None = None) -> None:
        self._endpoint_url = endpoint_url
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()

    def send(
        self,
        configuration: SqsConfiguration,
        body: bytes,
        *,
        fifo_fields: Mapping[str, str],
        timeout: float = 10.0,
    ) -> AttemptOutcome:
        """`SendMessage`; success when SQS answers a MessageId within `timeout`."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectTimeoutError,
            EndpointConnectionError,
            ReadTimeoutError,
        )

        started = time.monotonic()
        try:
            client = self._client(configuration, timeout)
            answer = client.send_message(
                QueueUrl=configuration.url, MessageBody=body.decode("utf-8"), **dict(fifo_fields)
            )
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", "Unknown"))
            message = str(error.response.get("Error", {}).get("Message", ""))
            return failed(sqs_send_failed(code), started=started, now=time.monotonic(), body=message[:2048])
        except (ConnectTimeoutError, ReadTimeoutError):
            return failed(sqs_send_failed("Timeout"), started=started, now=time.monotonic())
        except EndpointConnectionError as error:
            return failed(could_not_connect(str(error)), started=started, now=time.monotonic())
        except BotoCoreError as error:
            return failed(sqs_send_failed(type(error).__name__), started=started, now=time.monotonic())
        if not answer.get("MessageId"):
            return failed(sqs_send_failed("NoMessageId"), started=started, now=time.monotonic())
        return AttemptOutcome(
            succeeded=True,
            status_code=0,
            body="",
            error_detail="",
            retry_after=None,
            gone=False,
            processing_time=elapsed(started, time.monotonic()),
        )

    def _client(self, configuration: SqsConfiguration, timeout: float) -> Any:
        key = (configuration.region, configuration.aws_access_key_id, configuration.aws_secret_access_key)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                import boto3
                from botocore.config import Config

                client = boto3.client(
                    "sqs",
                    region_name=configuration.region,
                    aws_access_key_id=configuration.aws_access_key_id,
                    aws_secret_access_key=configuration.aws_secret_access_key,
                    endpoint_url=self._endpoint_url,
                    config=Config(
                        connect_timeout=timeout,
                        read_timeout=timeout,
                        retries={"max_attempts": 1, "mode": "standard"},
                    ),
                )
                self._clients[key] = client
            return client
