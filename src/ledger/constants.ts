// Every bound the service enforces, in one place, with its unit last in the name.
// The HTTP schemas and the Durable Object loops read these; nothing else hard-codes a limit.

/** Smallest and largest quantity one transaction may move. */
export const QUANTITY_MIN = 1;
export const QUANTITY_MAX = 1_000_000_000;

/** No running total (on hand, reserved) may pass this: beyond it doubles lose integers. */
export const TOTAL_MAX = Number.MAX_SAFE_INTEGER;

/** Product, location and reservation ids: 1 to 128 characters, first one alphanumeric. */
export const ID_LENGTH_MAX = 128;
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@~-]{0,127}$/;

export const DEFAULT_LOCATION_ID = "default";

/** A product may be stocked in at most this many locations (keeps a stock read bounded). */
export const LOCATIONS_PER_PRODUCT_MAX = 1_000;

export const REASON_LENGTH_MAX = 200;
export const ACTOR_LENGTH_MAX = 200;
/** `metadata` is a JSON object of at most this many bytes once serialized (UTF-8). */
export const METADATA_BYTES_MAX = 2_048;

/** Idempotency keys: 1 to 255 printable ASCII characters. */
export const IDEMPOTENCY_KEY_LENGTH_MAX = 255;
export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

/** Request bodies on JSON endpoints. */
export const REQUEST_BODY_BYTES_MAX = 64 * 1024;
/**
 * Bytes of a body sent without a length (chunked) that are still read, and thrown away, once it
 * is over its limit, before the 413 goes out. Cutting the upload short left the connection
 * unusable for a proxy still sending it (local `wrangler dev` then hung on the next request);
 * past this, the rest is cancelled anyway.
 */
export const OVERSIZED_BODY_DRAIN_BYTES_MAX = 1024 * 1024;

export const TRANSACTIONS_PAGE_LIMIT_DEFAULT = 100;
export const TRANSACTIONS_PAGE_LIMIT_MAX = 500;

/** GET /v1/stock reads at most this many products in one request. */
export const STOCK_BATCH_PRODUCT_IDS_MAX = 100;

/** An incoming X-Request-Id is echoed only when it looks like an id, never arbitrary text. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Reservations: lines per reservation and how long a hold may last. */
export const RESERVATION_LINES_MAX = 100;
export const RESERVATION_TTL_SECONDS_MIN = 1;
export const RESERVATION_TTL_SECONDS_MAX = 86_400;
export const RESERVATION_TTL_SECONDS_DEFAULT = 900;

/**
 * Reservations live in this many Durable Objects, chosen by a hash of the id, rather than one
 * new object each: creating an object (and its SQLite database) cost more than the rest of a
 * checkout (see README, Performance). Changing it moves every reservation: never change it on a
 * deployment that holds reservations.
 */
export const RESERVATION_SHARDS = 64;
/**
 * One alarm run of a Reservation object works on at most this many due reservations, one after
 * another, and stops earlier once their product calls would pass RESERVATION_ALARM_PRODUCT_CALLS_MAX
 * (a run is one invocation, with a bounded number of subrequests). The next run takes the rest,
 * right after.
 */
export const RESERVATION_ALARM_BATCH_MAX = 50;
export const RESERVATION_ALARM_PRODUCT_CALLS_MAX = 500;

/**
 * A reservation whose creation did not finish (the coordinating object crashed between two
 * products) is undone by its alarm this long after it started, well before its expiry.
 */
export const RESERVATION_PENDING_TIMEOUT_MS = 30_000;

/** Retries of an unfinished step (a product object unavailable): exponential, capped. */
export const RESERVATION_RETRY_DELAY_MS_MIN = 1_000;
export const RESERVATION_RETRY_DELAY_MS_MAX = 300_000;

/** Product objects called at once by one request (reservations, batches). */
export const PRODUCT_FANOUT_MAX = 10;

/** POST /v1/transactions/batch takes at most this many items. */
export const BATCH_ITEMS_MAX = 500;

/**
 * Export: rows a product object hands over per call, and rows one queue message may copy before
 * it hands the rest to a follow-up message. A page goes to D1 as one JSON-array statement, or a
 * few when its text is long (src/export/d1-writer.ts), so a message stays far under D1's 1,000
 * queries per invocation.
 */
export const EXPORT_PAGE_ROWS = 500;
export const EXPORT_ROWS_PER_MESSAGE_MAX = 5_000;
/** Export and reconciliation: products per queue message, and registry rows read per planning step. */
export const RUN_PRODUCTS_PER_MESSAGE = 50;
/**
 * Reconciliation re-reads D1's copy to recompute its hash chain, up to this many rows per product
 * (1,000 a query); with 5 products a message that stays under D1's 1,000 queries per invocation.
 * Beyond it, older rows are checked by linkage (one query) rather than recomputed.
 */
export const RECONCILE_PRODUCTS_PER_MESSAGE = 5;
export const RECONCILE_RECOMPUTE_ROWS_MAX = 100_000;
export const RECONCILE_PAGE_ROWS = 1_000;
export const RUN_PLAN_PAGE_PRODUCTS = 1_000;
/** A product whose export or check keeps failing is retried this many times, then reported. */
export const RUN_PRODUCT_ATTEMPTS_MAX = 3;
/** Reconciliation compares D1 with the ledger in chunks of this many seqs, to locate a divergence. */
export const RECONCILE_CHUNK_ROWS = 1_000;
/** Registry writes to D1 from a product's alarm back off up to this. */
export const REGISTRATION_RETRY_DELAY_MS_MAX = 300_000;
/** Audit listing page size. */
export const AUDIT_PAGE_LIMIT_DEFAULT = 100;
export const AUDIT_PAGE_LIMIT_MAX = 1_000;
/** Admin listings of recent runs. */
export const RUNS_LIST_LIMIT_MAX = 100;

/** Webhooks: body size, timestamp tolerance, lines per event, and the principal they write as. */
export const WEBHOOK_BODY_BYTES_MAX = 256 * 1024;
export const WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS = 300;
export const WEBHOOK_ID_LENGTH_MAX = 255;
export const WEBHOOK_LINES_MAX = 500;
export const WEBHOOK_DELIVERIES_PAGE_LIMIT_MAX = 200;
/**
 * How long a delivery being applied keeps other copies of it (the same webhook-id) out. A copy
 * that arrives meanwhile waits for its outcome; past the lease, the first run is taken to have
 * died and the copy applies the event itself. A live run renews it every
 * WEBHOOK_LEASE_RENEW_MS, so only a run that stopped loses it.
 */
export const WEBHOOK_PROCESSING_LEASE_MS = 30_000;
export const WEBHOOK_LEASE_RENEW_MS = 10_000;
/**
 * How long such a copy waits for the outcome before answering 503 delivery_in_progress (retry
 * later), reading the log every WEBHOOK_IN_PROGRESS_POLL_MS at first, then at doubling
 * intervals up to WEBHOOK_IN_PROGRESS_POLL_MAX_MS.
 */
export const WEBHOOK_IN_PROGRESS_WAIT_MS = 5_000;
export const WEBHOOK_IN_PROGRESS_POLL_MS = 100;
export const WEBHOOK_IN_PROGRESS_POLL_MAX_MS = 1_000;
/** Order, line, return and reference ids in events: like product ids but without ':', which separates key parts. */
export const BUSINESS_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@~-]{0,127}$/;

/** Tamper evidence: rows hashed per transaction by the upgrade backfill, and rows checked per verify page. */
export const HASH_BACKFILL_PAGE_ROWS = 1_000;
export const VERIFY_PAGE_ROWS = 5_000;
