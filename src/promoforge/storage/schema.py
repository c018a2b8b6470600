"""Tables of the service (SQLAlchemy Core), shared by repositories and migrations."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Sequence,
    String,
    Table,
    Text,
    text,
)

from promoforge.domain.jobs import ACTIVE_STATUSES, JobStatus
from promoforge.storage.column_types import (
    CodeKeyText,
    CompactDateTime,
    ConsumeUnitNumber,
    SkuText,
    UTCDateTime,
    UUIDBytes,
    UUIDText,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

AUTOMATIC_PROMOTION_CONDITION = "automatic AND deleted_at IS NULL"
ACTIVE_JOB_CONDITION = "status IN ({})".format(
    ", ".join(f"'{s.value}'" for s in JobStatus if s in ACTIVE_STATUSES)
)
# Export files not yet deleted: what the purge of expired files looks through.
KEPT_FILE_CONDITION = "file_size IS NOT NULL"

# A code row's seq is its promotion's ref shifted left by this many bits plus the code's number within
# the promotion: a promotion's codes are one range of the table's own key (docs/adr/0012).
CODE_NUMBER_BITS = 32
# The unique index that makes a code (case-folded) one per store.
CODE_KEY_INDEX = "uq_promotion_codes_store_ref_code_key"
CODE_NUMBER_LIMIT = 1 << CODE_NUMBER_BITS


# Compact integer keys that code rows use instead of 36-character ids. PostgreSQL draws them from these
# sequences; SQLite, whose writers are serialised, takes the largest plus one (rows with a ref are never
# deleted while codes point at them). Every insert sets one; the column is nullable only because SQLite
# cannot add a NOT NULL column to a table in place (docs/adr/0012).
STORE_REFS = Sequence("stores_ref_seq", metadata=metadata)
PROMOTION_REFS = Sequence("promotions_ref_seq", metadata=metadata)
JOB_REFS = Sequence("promotion_jobs_ref_seq", metadata=metadata)

stores = Table(
    "stores",
    metadata,
    Column("id", UUIDText, primary_key=True),
    Column("ref", BigInteger, STORE_REFS, nullable=True),
    Index("uq_stores_ref", "ref", unique=True),
    Column("name", Text, nullable=False),
    Column("client_id", String(64), nullable=False, unique=True),
    Column("client_secret_hash", String(128), nullable=False),
    Column("max_codes_per_promotion", BigInteger, nullable=False),
    Column("default_currency", String(3), nullable=False, server_default=text("'USD'")),
    Column("cart_expiry_days", Integer, nullable=False, server_default=text("7")),
    Column("code_attempts_per_cart", Integer, nullable=False, server_default=text("10")),
    Column("code_attempts_per_address", Integer, nullable=False, server_default=text("30")),
    # Failed code applications a minute across the whole store, whatever the carts and addresses.
    Column("code_attempts_per_store", Integer, nullable=False, server_default=text("600")),
    Column("carts_per_customer_per_hour", Integer, nullable=False, server_default=text("100")),
    Column("carts_per_address_per_hour", Integer, nullable=False, server_default=text("600")),
    Column("customer_token_key", Text, nullable=True),
    # When set, a customer or account token must carry exactly this `iss` / this `aud`.
    Column("customer_token_issuer", Text, nullable=True),
    Column("customer_token_audience", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Days a completed export's file is kept (README: Export retention).
    Column("export_retention_days", Integer, nullable=False, server_default=text("7")),
    # The event keys the store's enabled integrations observe, kept with them: a change of a store that
    # observes nothing records nothing and costs no statement more (integrations D-I14).
    Column("observed_events", JSON, nullable=False, server_default=text("'[]'")),
)

service_keys = Table(
    "service_keys",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("secret", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

promotions = Table(
    "promotions",
    metadata,
    Column("id", UUIDText, primary_key=True),
    Column("ref", BigInteger, PROMOTION_REFS, nullable=True),
    Index("uq_promotions_ref", "ref", unique=True),
    Column("store_id", UUIDText, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("automatic", Boolean, nullable=False),
    Column("promotion_type", String(32), nullable=False),
    Column("schema", JSON, nullable=False),
    Column("min_cart_value", JSON(none_as_null=True), nullable=True),
    Column("max_discount_value", JSON(none_as_null=True), nullable=True),
    Column("max_applications_per_cart", BigInteger, nullable=True),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("created_by", Text, nullable=True),
    Column("updated_by", Text, nullable=True),
    # Codes on the promotion plus capacity reserved by running generation jobs (docs/adr/0002).
    Column("code_count", BigInteger, nullable=False, server_default=text("0")),
    # Numbers handed to the promotion's codes so far; never goes down, so a number is never reused.
    Column("code_numbers", BigInteger, nullable=False, server_default=text("0")),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Set when the promotion is deleted: it vanishes for every reader at once, and a purge job removes
    # its codes in batches, leaving this row as a tombstone (docs/adr/0008).
    Column("deleted_at", UTCDateTime, nullable=True),
    Index(None, "store_id", "created_at"),
    # Every cart pricing reads the store's running automatic promotions; there are few of them.
    Index(
        "ix_promotions_automatic",
        "store_id",
        "ends_at",
        sqlite_where=text(AUTOMATIC_PROMOTION_CONDITION),
        postgresql_where=text(AUTOMATIC_PROMOTION_CONDITION),
    ),
)

promotion_versions = Table(
    "promotion_versions",
    metadata,
    Column(
        "promotion_id",
        UUIDText,
        ForeignKey("promotions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("version", Integer, primary_key=True),
    Column("store_id", UUIDText, nullable=False),
    Column("attributes", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

promotion_codes = Table(
    "promotion_codes",
    metadata,
    # promotion ref << CODE_NUMBER_BITS | the code's number: listing, counting, exporting and purging a
    # promotion's codes are range scans of the table's own key, with no index of their own.
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    # NULL for every code made since migration 0008: its id is computed from seq and created_at
    # (domain.identifiers.code_id, docs/adr/0013). Ids made before are kept here, in a partial index.
    Column("id", UUIDBytes, nullable=True),
    # No foreign keys: a per-row check would dominate bulk generation. Codes are only written in
    # transactions that hold the promotion (or its job), and are deleted with it.
    Column("store_ref", BigInteger, nullable=False),
    Column("job_ref", BigInteger, nullable=True),
    Column("code_key", CodeKeyText, nullable=False),
    # NULL when the code reads exactly as its key (every generated code without capitals in its prefix).
    Column("code", Text, nullable=True),
    # Both NULL on a code that leaves them to its job (PostgreSQL's generated codes, docs/adr/0015): its
    # max_uses is the job's code_max_uses, and it has all of them left until its first use.
    Column("max_uses", BigInteger, nullable=True),
    Column("uses", BigInteger, nullable=True),
    Column("consume_unit", ConsumeUnitNumber, nullable=False),
    Column("user_restriction", JSON(none_as_null=True), nullable=True),
    # NULL for generated codes: theirs is their job's.
    Column("created_by", Text, nullable=True),
    # NULL on a code that leaves it to its job (PostgreSQL's generated codes, docs/adr/0015): a generated
    # code is made at its job's created_at, on either backend.
    Column("created_at", CompactDateTime, nullable=True),
    Index(
        "uq_promotion_codes_id",
        "id",
        unique=True,
        sqlite_where=text("id IS NOT NULL"),
        postgresql_where=text("id IS NOT NULL"),
    ),
    Index(CODE_KEY_INDEX, "store_ref", "code_key", unique=True),
)

promotion_jobs = Table(
    "promotion_jobs",
    metadata,
    Column("id", UUIDText, primary_key=True),
    Column("ref", BigInteger, JOB_REFS, nullable=True),
    Index("uq_promotion_jobs_ref", "ref", unique=True),
    Column("store_id", UUIDText, nullable=False),
    Column(
        "promotion_id",
        UUIDText,
        ForeignKey("promotions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("job_type", String(32), nullable=False),
    Column("name", Text, nullable=True),
    Column("parameters", JSON(none_as_null=True), nullable=True),
    Column("status", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("created_by", Text, nullable=True),
    Column("capacity_reserved", Boolean, nullable=False, server_default=text("false")),
    Column("generated", BigInteger, nullable=False, server_default=text("0")),
    Column("deleted", BigInteger, nullable=True),
    Column("progress_done", BigInteger, nullable=False, server_default=text("0")),
    Column("progress_total", BigInteger, nullable=False, server_default=text("0")),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at", UTCDateTime, nullable=True),
    # A job handed back after a transient failure is not claimed again before this time.
    Column("run_after", UTCDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("file_name", Text, nullable=True),
    Column("file_size", BigInteger, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Set when an export completes, from its store's export_retention_days; the file is deleted after.
    Column("file_expires_at", UTCDateTime, nullable=True),
    # A code_generate job's max_uses_per_code, for the codes that leave theirs to the job (docs/adr/0015).
    Column("code_max_uses", BigInteger, nullable=True),
    Index(None, "promotion_id", "created_at"),
    # One active job per promotion, enforced by the database itself (concurrent POSTs included).
    Index(
        "uq_promotion_jobs_one_active",
        "promotion_id",
        unique=True,
        sqlite_where=text(ACTIVE_JOB_CONDITION),
        postgresql_where=text(ACTIVE_JOB_CONDITION),
    ),
    Index(
        "ix_promotion_jobs_claimable",
        "created_at",
        sqlite_where=text(ACTIVE_JOB_CONDITION),
        postgresql_where=text(ACTIVE_JOB_CONDITION),
    ),
    # Only files still kept: jobs whose files are gone keep their expiry but leave the index.
    Index(
        "ix_promotion_jobs_file_expires_at",
        "file_expires_at",
        sqlite_where=text(KEPT_FILE_CONDITION),
        postgresql_where=text(KEPT_FILE_CONDITION),
    ),
)

job_files = Table(
    "job_files",
    metadata,
    Column("job_id", UUIDText, ForeignKey("promotion_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

products = Table(
    "products",
    metadata,
    # The id is unique within its store only, so one catalog export can be loaded into several stores.
    Column("store_id", UUIDText, ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True),
    Column("id", UUIDText, primary_key=True),
    Column("sku", SkuText, nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("slug", Text, nullable=False),
    Column("status", String(16), nullable=False),
    # {currency: {"amount": minor units, "includes_tax": bool}}
    Column("prices", JSON, nullable=False),
    Column("catalog_id", Text, nullable=True),
    Column("node_ids", JSON, nullable=False),
    # {template: {field: value}}, as EP's `extensions`
    Column("attributes", JSON, nullable=False),
    Column("image_href", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("uq_products_store_sku", "store_id", "sku", unique=True),
)

# Carts keep their lines and applied codes only; every read prices them afresh (architecture: pricing is
# derived, never stored). A cart id is the client's reference, unique within its store.
carts = Table(
    "carts",
    metadata,
    Column("store_id", UUIDText, ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("currency", String(3), nullable=True),
    Column("custom_discounts_enabled", Boolean, nullable=False),
    Column("use_rule_promotions", Boolean, nullable=False),
    Column("snapshot_date", UTCDateTime, nullable=True),
    Column("custom_attributes", JSON(none_as_null=True), nullable=True),
    Column("customer_id", Text, nullable=True),
    Column("account_id", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # The expiry purge and the list walk a store's carts by their last update.
    Index(None, "store_id", "updated_at"),
    Index(None, "store_id", "customer_id"),
)

cart_items = Table(
    "cart_items",
    metadata,
    Column("id", UUIDText, primary_key=True),
    Column("store_id", UUIDText, nullable=False),
    Column("cart_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    # Lines with the same key are merged (§4.3); custom items without a SKU have none.
    Column("merge_key", Text, nullable=True),
    Column("product_id", UUIDText, nullable=True),
    Column("sku", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("slug", Text, nullable=False),
    Column("image_href", Text, nullable=True),
    Column("catalog_id", Text, nullable=True),
    Column("unit_price", BigInteger, nullable=False),
    Column("includes_tax", Boolean, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("custom_inputs", JSON(none_as_null=True), nullable=True),
    # Lines added in one request share their time; the position keeps the order they were sent in.
    Column("position", Integer, nullable=False),
    Column("auto_add_quantity", BigInteger, nullable=False, server_default=text("0")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(
        ["store_id", "cart_id"],
        ["carts.store_id", "carts.id"],
        ondelete="CASCADE",
        name="fk_cart_items_carts",
    ),
    Index(None, "store_id", "cart_id", "created_at"),
    Index("uq_cart_items_merge_key", "store_id", "cart_id", "merge_key", unique=True),
)

cart_codes = Table(
    "cart_codes",
    metadata,
    Column("store_id", UUIDText, primary_key=True),
    Column("cart_id", String(64), primary_key=True),
    # One code per promotion: applying another code of the same promotion replaces it (B15).
    Column("promotion_id", UUIDText, primary_key=True),
    Column("code_id", UUIDText, nullable=False),
    # The seq of the code's row: how a cart's codes are read with their rows (the id may be computed).
    Column("code_seq", BigInteger, nullable=True),
    Column("code", Text, nullable=False),
    Column("applied_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(
        ["store_id", "cart_id"],
        ["carts.store_id", "carts.id"],
        ondelete="CASCADE",
        name="fk_cart_codes_carts",
    ),
)

# Failed code applications per cart and per client address in one-minute windows (D12); in the database so
# that every API process sees the same counts.
attempt_counters = Table(
    "attempt_counters",
    metadata,
    Column("store_id", UUIDText, primary_key=True),
    Column("subject", String(320), primary_key=True),
    Column("window_start", UTCDateTime, primary_key=True),
    Column("attempts", BigInteger, nullable=False),
    Index(None, "window_start"),
)

# Orders are written once at checkout with the numbers of the final pricing (carts.md §7); only their
# status, shipping and a few references change later.
orders = Table(
    "orders",
    metadata,
    Column("id", UUIDText, primary_key=True),
    Column("store_id", UUIDText, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("cart_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("payment", String(24), nullable=False),
    Column("shipping", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("without_discount", BigInteger, nullable=False),
    Column("discount", BigInteger, nullable=False),
    Column("with_tax", BigInteger, nullable=False),
    Column("customer_id", Text, nullable=True),
    Column("account_id", Text, nullable=True),
    Column("account_member_id", Text, nullable=True),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    # `customer` or `contact` as the order shows it: {name, email}.
    Column("party", String(16), nullable=False),
    Column("billing_address", JSON, nullable=False),
    Column("shipping_address", JSON, nullable=False),
    Column("order_number", Text, nullable=True),
    Column("external_ref", Text, nullable=True),
    Column("custom_attributes", JSON(none_as_null=True), nullable=True),
    # Condensed promotions as they were at checkout, for include=promotions after they change or go.
    Column("promotions", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "store_id", "created_at"),
    Index(None, "store_id", "customer_id"),
    Index(None, "store_id", "account_id"),
)

order_items = Table(
    "order_items",
    metadata,
    Column("id", UUIDText, primary_key=True),
    Column("store_id", UUIDText, nullable=False),
    Column("order_id", UUIDText, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    # product, custom or promotion (a Standard cart-level promotion, B33).
    Column("kind", String(16), nullable=False),
    Column("cart_item_id", Text, nullable=False),
    Column("product_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("sku", Text, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("unit_price", BigInteger, nullable=False),
    Column("value", BigInteger, nullable=False),
    Column("includes_tax", Boolean, nullable=False),
    # Everything taken off the line (item-level discounts and cart-level shares), as a positive amount.
    Column("discount", BigInteger, nullable=False),
    Column("item_discounts", JSON, nullable=False),
    Column("catalog_id", Text, nullable=True),
    Column("custom_inputs", JSON(none_as_null=True), nullable=True),
    Index(None, "order_id", "position"),
    Index(None, "store_id", "product_id"),
    Index(None, "store_id", "sku"),
)

# One record per order and code that gave a discount (§7.5, B19). No foreign keys: usages outlive their
# promotion (api.md §7-A12) and are anonymised across promotions (E17).
promotion_usages = Table(
    "promotion_usages",
    metadata,
    Column("id", UUIDText, primary_key=True),
    Column("store_id", UUIDText, nullable=False),
    Column("promotion_id", UUIDText, nullable=False),
    Column("code_id", UUIDText, nullable=False),
    Column("code", Text, nullable=False),
    Column("order_id", UUIDText, nullable=True),
    Column("times_used", BigInteger, nullable=False),
    Column("used_on", UTCDateTime, nullable=False),
    Column("customer_id", Text, nullable=True),
    Column("account_id", Text, nullable=True),
    Column("customer_email", Text, nullable=True),
    Column("anonymized", Boolean, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", Text, nullable=True),
    Index(None, "store_id", "promotion_id", "updated_at"),
    Index(None, "store_id", "code_id", "used_on"),
)

# Checkout retries (D13): the first order made with a key; a repeat within 24 hours gets it back.
checkout_keys = Table(
    "checkout_keys",
    metadata,
    Column("store_id", UUIDText, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("cart_id", String(64), nullable=False),
    Column("order_id", UUIDText, nullable=False),
    # Who first used the key (token kind and shopper) and a digest of that request's body (D13).
    Column("owner", Text, nullable=True),
    Column("request_digest", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "created_at"),
)

# One row per running worker process (standalone or inside an API process), renewed by its heartbeat;
# readiness looks for a recent one, and rows nobody renews any more are purged by the live workers.
worker_heartbeats = Table(
    "worker_heartbeats",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("threads", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("beat_at", UTCDateTime, nullable=False),
    Index(None, "beat_at"),
)

# Integrations (integrations spec): where events go, what was recorded for them, and every delivery attempt.
INTEGRATION_JOB_WAITING_CONDITION = "status IN ('pending', 'processing')"

integrations = Table(
    "integrations",
    metadata,
    Column("id", UUIDText, primary_key=True),
    Column("store_id", UUIDText, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("integration_type", String(16), nullable=False),
    Column("observes", JSON, nullable=False),
    # The configuration without its secrets; those are in `secrets`, encrypted with a server key.
    Column("configuration", JSON, nullable=False),
    Column("secrets", LargeBinary, nullable=False),
    # After a rotation the previous signing secret (inside `secrets`) still signs until this time.
    Column("previous_secret_valid_until", UTCDateTime, nullable=True),
    Column("last_attempt_at", UTCDateTime, nullable=True),
    Column("last_success_at", UTCDateTime, nullable=True),
    Column("last_failure_at", UTCDateTime, nullable=True),
    Column("consecutive_failures", Integer, nullable=False, server_default=text("0")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "store_id", "created_at"),
)

integration_settings = Table(
    "integration_settings",
    metadata,
    Column("store_id", UUIDText, ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True),
    Column("allowed_private_targets", JSON, nullable=False),
    Column("max_observes_per_integration", Integer, nullable=False),
    Column("max_integrations", Integer, nullable=False),
    Column("log_retention_days", Integer, nullable=False),
)

integration_events = Table(
    "integration_events",
    metadata,
    Column("id", UUIDText, primary_key=True),
    Column("store_id", UUIDText, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("event_key", String(64), nullable=False),
    # The payload as serialized in the transaction of the change (a snapshot, never re-read).
    Column("payload", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

integration_jobs = Table(
    "integration_jobs",
    metadata,
    Column("id", UUIDText, primary_key=True),
    Column("store_id", UUIDText, nullable=False),
    Column("integration_id", UUIDText, ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", UUIDText, ForeignKey("integration_events.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "integration_id", "created_at"),
    Index(None, "event_id"),
    # What workers look through: jobs waiting for an attempt or in one (a lease may have run out).
    Index(
        "ix_integration_jobs_due",
        "next_attempt_at",
        sqlite_where=text(INTEGRATION_JOB_WAITING_CONDITION),
        postgresql_where=text(INTEGRATION_JOB_WAITING_CONDITION),
    ),
    # What the retention purge looks through: finished jobs by their last change.
    Index(None, "updated_at"),
)

integration_logs = Table(
    "integration_logs",
    metadata,
    Column("id", UUIDText, primary_key=True),
    Column("store_id", UUIDText, nullable=False),
    Column("integration_id", UUIDText, ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
    Column("job_id", UUIDText, ForeignKey("integration_jobs.id", ondelete="CASCADE"), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Column("attempt", Integer, nullable=False),
    # Seconds from the attempt's start to its outcome, in tenths of a millisecond (4 decimals).
    Column("processing_time", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("error_detail", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "store_id", "created_at"),
    Index(None, "integration_id", "created_at"),
    Index(None, "job_id", "created_at"),
)
