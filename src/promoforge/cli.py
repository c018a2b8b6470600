"""Command line: serve | worker | migrate | stores | products | keys ...

Each command imports what it needs when it runs, so that `--help`, `migrate` and `stores` start fast and
the API processes that `serve --workers N` spawns (which import this module first) answer their
supervisor's health check soon.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from promoforge.domain.codes import DEFAULT_MAX_CODES_PER_PROMOTION
from promoforge.domain.jobs import DEFAULT_EXPORT_RETENTION_DAYS
from promoforge.domain.products import DEFAULT_IMPORT_BATCH, MAX_PRODUCTS_PER_IMPORT
from promoforge.observability.logs import configure_logging, log_format_from_environment, logging_config

if TYPE_CHECKING:
    import uvicorn

    from promoforge.bootstrap import Container
    from promoforge.config import Settings
    from promoforge.domain.stores import Store
    from promoforge.services import signing_keys
    from promoforge.services.auth import StoreCredentials

APP_FACTORY = "promoforge.api.app:app_from_environment"
DEFAULT_STORE_CREDENTIALS_FILE = "default-store-credentials.json"
log = logging.getLogger("promoforge.cli")


def _container(*, worker_threads: int | None = None) -> Container:
    from promoforge.bootstrap import DatabaseNotMigrated, build
    from promoforge.config import Settings
    from promoforge.services.signing_keys import SigningKeysInvalid

    try:
        return build(Settings(), worker_threads=worker_threads)
    except (DatabaseNotMigrated, SigningKeysInvalid) as error:
        raise click.ClickException(str(error)) from None


def _store_json(store: Store, secret: str | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "store_id": store.id,
        "name": store.name,
        "client_id": store.client_id,
        "max_codes_per_promotion": store.max_codes_per_promotion,
        "export_retention_days": store.export_retention_days,
        "default_currency": store.default_currency,
        "cart_expiry_days": store.cart_expiry_days,
        "code_attempts_per_cart": store.code_attempts_per_cart,
        "code_attempts_per_address": store.code_attempts_per_address,
        "code_attempts_per_store": store.code_attempts_per_store,
        "carts_per_customer_per_hour": store.carts_per_customer_per_hour,
        "carts_per_address_per_hour": store.carts_per_address_per_hour,
        "customer_token_key": "set" if store.customer_token_key else None,
        "customer_token_issuer": store.customer_token_issuer,
        "customer_token_audience": store.customer_token_audience,
        "created_at": store.created_at.isoformat(),
    }
    if secret is not None:
        document["client_secret"] = secret
    return document


def _print_json(document: object) -> None:
    click.echo(json.dumps(document, indent=2))


@click.group()
@click.version_option(package_name="promoforge")
def main() -> None:
    """PromoForge: a promotions service speaking the Elastic Path Promotions API.

    The database comes from PROMOFORGE_DATABASE_URL (sqlite:///... or postgresql://...);
    by default a SQLite file in PROMOFORGE_DATA_DIR (./var).
    """
    configure_logging(log_format_from_environment())


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    from promoforge.bootstrap import open_database
    from promoforge.config import Settings
    from promoforge.storage import migrate as migrations

    logging.getLogger("alembic").setLevel(logging.INFO)
    settings = Settings()
    db = open_database(settings)
    try:
        migrations.upgrade_to_head(db.engine)
    finally:
        db.dispose()
    click.echo(f"database is at revision {migrations.head_revision()}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="API processes.")
@click.option("--no-worker", is_flag=True, help="Do not run a job worker inside the API processes.")
@click.option(
    "--forwarded-allow-ips",
    default="",
    help="Comma-separated proxy addresses or networks whose X-Forwarded-For / X-Forwarded-Proto are "
    "trusted (default: none, so the peer address is the client).",
)
@click.option(
    "--healthcheck-timeout",
    type=click.IntRange(1, 3600),
    help="Seconds an API process may take to answer its supervisor, start-up included, before it is "
    "replaced (with --workers above 1).  [default: PROMOFORGE_PROCESS_HEALTHCHECK_SECONDS or 60]",
)
def serve(
    host: str,
    port: int,
    workers: int,
    no_worker: bool,
    forwarded_allow_ips: str,
    healthcheck_timeout: int | None,
) -> None:
    """Serve the API (with a job worker in each process unless --no-worker)."""
    import uvicorn

    from promoforge.services import auth
    from promoforge.services.clock import utc_now

    container = _container()
    try:
        created = auth.ensure_default_store(container.db, now=utc_now())
    finally:
        container.close()
    settings = container.settings
    if created is not None:
        _hand_over_default_store(created, settings)
    if no_worker:
        os.environ["PROMOFORGE_RUN_WORKER"] = "false"
    _prepare_metrics_directory(settings)
    _announce(f"Starting PromoForge on http://{host}:{port}", settings)
    options: dict[str, Any] = {
        "factory": True,
        "log_level": "info",
        # The API writes each request's access line itself, with the route template: uvicorn's would carry
        # the raw path, and with it cart ids and codes.
        "access_log": False,
        "timeout_graceful_shutdown": 15,
        # uvicorn replaces a process that has not answered within 5 s, which on a busy host can be every
        # process, again and again, before any has finished starting.
        "timeout_worker_healthcheck": healthcheck_timeout or settings.process_healthcheck_seconds,
        **_proxy_options(forwarded_allow_ips),
    }
    if settings.log_format == "json":
        options.update(log_config=logging_config("json"))
    if workers == 1:
        uvicorn.run(APP_FACTORY, host=host, port=port, **options)
        return
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(APP_FACTORY, host=host, port=port, workers=workers, **options)
    Multiprocess(config, sockets=[_tcp_listening_socket(config)]).run()


def _proxy_options(forwarded_allow_ips: str) -> dict[str, Any]:
    """uvicorn's proxy settings: forwarded headers only from the proxies named (uvicorn trusts 127.0.0.1)."""
    trusted = [entry.strip() for entry in forwarded_allow_ips.split(",") if entry.strip()]
    if not trusted:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}


def _hand_over_default_store(created: StoreCredentials, settings: Settings) -> None:
    """Show the new default store's credentials once: on stdout, or with json logs (where stdout is taken
    for the log stream) in a file only this user can read, so that no secret reaches the logs."""
    if settings.log_format != "json":
        click.echo(
            "Created the store 'default'. Keep these credentials; the secret is not shown again:\n"
            f"  client_id:     {created.store.client_id}\n"
            f"  client_secret: {created.client_secret}"
        )
        return
    path = (settings.data_dir / DEFAULT_STORE_CREDENTIALS_FILE).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    credentials = {"client_id": created.store.client_id, "client_secret": created.client_secret}
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        json.dump(credentials, file)
    log.info(
        "created the store 'default' (client_id %s); its client secret is in %s, readable by this user "
        "only: keep it elsewhere and delete the file",
        created.store.client_id,
        path,
    )


def _announce(message: str, settings: Settings) -> None:
    """Tell the operator: on stdout, or as a log line when logs are JSON (one object a line)."""
    if settings.log_format == "json":
        log.info(message)
    else:
        click.echo(message)
        sys.stdout.flush()


def _prepare_metrics_directory(settings: Settings) -> None:
    """Share one metrics directory between this host's processes and clear what stopped ones left."""
    from promoforge.observability.metrics_directory import (
        remove_files_of_stopped_processes,
        use_metrics_directory,
    )

    remove_files_of_stopped_processes(use_metrics_directory(settings.data_dir))


def _tcp_listening_socket(config: uvicorn.Config) -> socket.socket:
    """Bind uvicorn's shared socket and name its protocol, so that accepted connections get TCP_NODELAY."""
    # uvicorn binds it with protocol 0, accepted sockets inherit that, and asyncio only sets TCP_NODELAY
    # when the protocol reads IPPROTO_TCP (uvicorn issue #3149): every keep-alive response then waits
    # on the client's delayed ACK, about 40 ms on Linux.
    bound: socket.socket = config.bind_socket()
    if bound.family not in (socket.AF_INET, socket.AF_INET6):
        return bound
    return socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())


@main.command()
@click.option(
    "--concurrency", default=1, show_default=True, type=click.IntRange(1, 64), help="Jobs run at once."
)
@click.option(
    "--check",
    is_flag=True,
    help="Do not run: exit 0 if the database answers at the current schema and a worker on this host "
    "recorded a heartbeat within a minute, 1 otherwise (a container probe). Prints the checks as JSON.",
)
def worker(concurrency: int, check: bool) -> None:
    """Run job workers until SIGTERM or SIGINT (finishing the current step, handing the job back)."""
    if check:
        sys.exit(_worker_readiness())
    from promoforge.config import Settings
    from promoforge.observability.metrics_directory import use_metrics_directory

    # Before the metrics are first imported, so that the API processes of this host add this worker's up.
    use_metrics_directory(Settings().data_dir)
    from promoforge.jobs.worker import Worker
    from promoforge.observability.metrics import forget_this_process, instrument_pool

    container = _container(worker_threads=concurrency)
    instrument_pool(container.db.engine)
    runner = Worker(
        container.db,
        container.settings,
        clock=container.clock,
        concurrency=concurrency,
        secrets=container.secrets,
    )

    def _stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("promoforge.worker").info("stopping on signal %d", signum)
        runner.stop_event.set()
        runner.wake()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    _announce(f"worker running with concurrency {concurrency}", container.settings)
    try:
        runner.run_forever()
    finally:
        container.close()
        forget_this_process()


def _worker_readiness() -> int:
    """Check the readiness of this host's workers; print the checks, return the exit status."""
    from promoforge.bootstrap import open_database
    from promoforge.config import Settings
    from promoforge.domain.health import ExpectedWorker
    from promoforge.services import health
    from promoforge.services.clock import utc_now
    from promoforge.storage.migrate import head_revision

    db = open_database(Settings(), worker_threads=0)
    try:
        readiness = health.check_readiness(
            db,
            expected_revision=head_revision(),
            worker=ExpectedWorker(host=socket.gethostname()),
            now=utc_now(),
        )
    finally:
        db.dispose()
    click.echo(json.dumps(readiness.document()))
    return 0 if readiness.ready else 1


@main.group()
def stores() -> None:
    """Manage stores (tenants) and their API keys."""


@stores.command("create")
@click.option("--name", required=True, help="Store name.")
@click.option(
    "--max-codes-per-promotion",
    type=int,
    default=DEFAULT_MAX_CODES_PER_PROMOTION,
    show_default=True,
    help="Most codes one promotion may hold.",
)
@click.option(
    "--export-retention-days",
    type=int,
    default=DEFAULT_EXPORT_RETENTION_DAYS,
    show_default=True,
    help="Days an export file is kept after its job completes.",
)
def stores_create(name: str, max_codes_per_promotion: int, export_retention_days: int) -> None:
    """Create a store; prints its id, client id and client secret (shown only now)."""
    from promoforge.domain.errors import DomainError
    from promoforge.services import auth
    from promoforge.services.clock import utc_now

    container = _container()
    try:
        credentials = auth.create_store(
            container.db,
            name=name,
            max_codes_per_promotion=max_codes_per_promotion,
            export_retention_days=export_retention_days,
            now=utc_now(),
        )
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    finally:
        container.close()
    _print_json(
        {
            "store_id": credentials.store.id,
            "client_id": credentials.store.client_id,
            "client_secret": credentials.client_secret,
            "name": credentials.store.name,
            "max_codes_per_promotion": credentials.store.max_codes_per_promotion,
            "export_retention_days": credentials.store.export_retention_days,
        }
    )


@stores.command("list")
def stores_list() -> None:
    """List stores (never their secrets)."""
    from promoforge.services import auth

    container = _container()
    try:
        _print_json([_store_json(store) for store in auth.list_stores(container.db)])
    finally:
        container.close()


@stores.command("update")
@click.option("--store", "reference", help="Store id, client id or name (optional when there is one store).")
@click.option("--name", help="New name.")
@click.option("--max-codes-per-promotion", type=int, help="Most codes one promotion may hold.")
@click.option(
    "--export-retention-days", type=int, help="Days an export file is kept (exports completed from now on)."
)
@click.option("--default-currency", help="Currency of a cart whose first line names none (ISO 4217).")
@click.option("--cart-expiry-days", type=int, help="Days after its last change a cart is purged.")
@click.option("--code-attempts-per-cart", type=int, help="Failed code applications a minute per cart.")
@click.option(
    "--code-attempts-per-address",
    type=int,
    help="Failed code applications a minute per client address (IPv6: per /64).",
)
@click.option(
    "--code-attempts-per-store", type=int, help="Failed code applications a minute across the whole store."
)
@click.option(
    "--carts-per-customer-per-hour", type=int, help="Carts one customer or account may create an hour."
)
@click.option("--carts-per-address-per-hour", type=int, help="Carts one client address may create an hour.")
@click.option(
    "--customer-token-key",
    help="HS256 secret, or @FILE with an RS256/ES256 public key (PEM), that verifies customer tokens.",
)
@click.option("--no-customer-token-key", is_flag=True, help="Remove the customer token key.")
@click.option(
    "--customer-token-issuer", help="The `iss` customer and account tokens must carry (empty: not checked)."
)
@click.option(
    "--customer-token-audience", help="An `aud` customer and account tokens must name (empty: not checked)."
)
@click.option("--rotate-secret", is_flag=True, help="Issue a new client secret (printed once).")
def stores_update(
    reference: str | None,
    name: str | None,
    max_codes_per_promotion: int | None,
    export_retention_days: int | None,
    default_currency: str | None,
    cart_expiry_days: int | None,
    code_attempts_per_cart: int | None,
    code_attempts_per_address: int | None,
    code_attempts_per_store: int | None,
    carts_per_customer_per_hour: int | None,
    carts_per_address_per_hour: int | None,
    customer_token_key: str | None,
    no_customer_token_key: bool,
    customer_token_issuer: str | None,
    customer_token_audience: str | None,
    rotate_secret: bool,
) -> None:
    """Change a store's settings."""
    from promoforge.domain.errors import DomainError
    from promoforge.services import auth
    from promoforge.services.clock import utc_now

    if customer_token_key is not None and customer_token_key.startswith("@"):
        try:
            customer_token_key = Path(customer_token_key[1:]).read_text()
        except OSError as error:
            raise click.BadParameter(str(error), param_hint="--customer-token-key") from None
    carts = auth.CartSettings(
        default_currency=default_currency.upper() if default_currency else None,
        cart_expiry_days=cart_expiry_days,
        code_attempts_per_cart=code_attempts_per_cart,
        code_attempts_per_address=code_attempts_per_address,
        code_attempts_per_store=code_attempts_per_store,
        carts_per_customer_per_hour=carts_per_customer_per_hour,
        carts_per_address_per_hour=carts_per_address_per_hour,
        customer_token_key=customer_token_key,
        remove_customer_token_key=no_customer_token_key,
        customer_token_issuer=customer_token_issuer,
        customer_token_audience=customer_token_audience,
    )
    container = _container()
    try:
        result = auth.update_store(
            container.db,
            reference=reference,
            name=name,
            max_codes_per_promotion=max_codes_per_promotion,
            export_retention_days=export_retention_days,
            carts=carts,
            rotate_secret=rotate_secret,
            now=utc_now(),
        )
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    finally:
        container.close()
    if isinstance(result, auth.StoreCredentials):
        _print_json(_store_json(result.store, result.client_secret))
    else:
        _print_json(_store_json(result))


@main.group("products")
def products_group() -> None:
    """Manage a store's product registry."""


MAX_PROBLEMS_SHOWN = 100


@contextmanager
def _progress(path: Path) -> Iterator[Callable[[int], None]]:
    """A progress bar over the file's bytes on a terminal (stderr); nothing otherwise."""
    if not sys.stderr.isatty():
        yield lambda _offset: None
        return
    with click.progressbar(
        length=max(path.stat().st_size, 1), label="Importing products", file=sys.stderr
    ) as bar:
        yield lambda offset: bar.update(offset - bar.pos)


@products_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--store", "reference", help="Store id, client id or name (optional when there is one store).")
@click.option(
    "--batch-size",
    default=DEFAULT_IMPORT_BATCH,
    show_default=True,
    type=click.IntRange(1, MAX_PRODUCTS_PER_IMPORT),
    help="Products written per transaction.",
)
def products_import(file: Path, reference: str | None, batch_size: int) -> None:
    """Import products from FILE: a JSON array of products, or JSON lines (one product per line).

    Each product is shaped as in PUT /v2/promoforge/products/:id ({"type": "product", "attributes":
    {...}, "meta": {...}}). Products are replaced by id, or by SKU when they have no id. Batches are
    written all or none; the import stops at the first batch holding a bad product, names the line
    (JSON lines) or index (array) of every bad product in it, and can be run again once the file is fixed.
    """
    from promoforge.domain.errors import DomainError
    from promoforge.product_files import UnreadableFile, import_product_file
    from promoforge.services import auth

    container = _container()
    try:
        store = auth.find_store(container.db, reference=reference)
        with _progress(file) as advance:
            report = import_product_file(
                container.db, store_id=store.id, path=file, batch_size=batch_size, on_batch=advance
            )
    except (DomainError, UnreadableFile) as error:
        raise click.ClickException(str(error)) from None
    finally:
        container.close()
    summary: dict[str, Any] = {
        "store_id": store.id,
        "file": str(file),
        "format": report.file_format.value,
        "read": report.read,
        "written": report.written,
        "created": report.created,
        "updated": report.updated,
        "batches": report.batches,
        "seconds": round(report.seconds, 3),
    }
    if report.refused_batch is None:
        _print_json(summary)
        return
    first, last = report.refused_batch
    summary["refused_batch"] = {"from": first, "to": last, "problems": len(report.problems)}
    _print_json(summary)
    for problem in report.problems[:MAX_PROBLEMS_SHOWN]:
        click.echo(problem, err=True)
    if len(report.problems) > MAX_PROBLEMS_SHOWN:
        click.echo(f"... and {len(report.problems) - MAX_PROBLEMS_SHOWN} more", err=True)
    raise click.ClickException(
        f"the batch from {first} to {last} was not written; {report.written} products in "
        f"{report.batches} batch(es) before it were. Products are replaced by id or SKU, so the "
        "file can be imported again once it is fixed."
    )


@main.group()
def keys() -> None:
    """Manage the keys that sign access tokens and download links."""


def _key_json(key: signing_keys.SigningKey, *, signing: bool) -> dict[str, Any]:
    created = None if key.created_at is None else key.created_at.isoformat()
    return {"kid": key.kid, "created_at": created, "signing": signing}


@keys.command("list")
def keys_list() -> None:
    """List the signing keys, signing key first (never their secrets)."""
    from promoforge.services import signing_keys

    container = _container()
    try:
        listing = signing_keys.list_keys(container.settings, container.db)
    finally:
        container.close()
    _print_json(
        {
            "source": listing.source,
            "keys": [_key_json(key, signing=i == 0) for i, key in enumerate(listing.keys)],
            "keys_in_database": listing.keys_in_database,
        }
    )


@keys.command("rotate")
def keys_rotate() -> None:
    """Make a new key the signing key; older keys still verify until retired."""
    from promoforge.services import signing_keys
    from promoforge.services.clock import utc_now

    container = _container()
    try:
        key = signing_keys.rotate_keys(container.settings, container.db, now=utc_now())
    except signing_keys.KeysNotRotatable as error:
        raise click.ClickException(str(error)) from None
    finally:
        container.close()
    _print_json({"rotated": _key_json(key, signing=True)})


@keys.command("retire")
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    help="Keep only the N newest keys, whatever they may still verify (e.g. after a leak).",
)
def keys_retire(keep: int | None) -> None:
    """Delete keys that nothing valid can use any more (replaced longer ago than a token or link lives).

    With keys from PROMOFORGE_SIGNING_KEYS or PROMOFORGE_SIGNING_KEY_FILE, deletes every key left in the
    database. Other processes stop accepting a retired key when they next re-read the keys.
    """
    from promoforge.services import signing_keys
    from promoforge.services.clock import utc_now

    container = _container()
    try:
        retired = signing_keys.retire_keys(container.settings, container.db, now=utc_now(), keep=keep)
    finally:
        container.close()
    _print_json({"retired": [_key_json(key, signing=False) for key in retired]})
