// Every bound the service enforces, in one place, grouped by area, each with its unit last in
// its name. The schemas, the loops and the retries read these; nothing else hard-codes a limit.
// A leaf: it imports nothing, and every layer may import it. The docs link here instead of
// copying the values.

// ─── Ledger: quantities, totals, ids, stored text ───────────────────────────────────────────

/** Smallest and largest quantity one transaction may move (units). */
export const QUANTITY_MIN = 1;
export const QUANTITY_MAX = 1_000_000_000;

/** No running total (on hand, reserved) may pass this (units): beyond it doubles lose integers. */
export const TOTAL_MAX = Number.MAX_SAFE_INTEGER;

/** Product, location and reservation ids (characters). */
export const ID_LENGTH_MAX = 128;

/** A product may be stocked in at most this many locations (keeps a stock read bounded). */
export const LOCATIONS_PER_PRODUCT_MAX = 1_000;

/** Free text stored on a row (characters). */
export const REASON_LENGTH_MAX = 200;
export const ACTOR_LENGTH_MAX = 200;
/** `metadata` is a JSON object of at most this many bytes once serialized (UTF-8). */
export const METADATA_BYTES_MAX = 2_048;

/** Idempotency keys (printable ASCII characters). */
export const IDEMPOTENCY_KEY_LENGTH_MAX = 255;

/** A principal id from API_KEYS, which becomes created_by (characters). */
export const PRINCIPAL_LENGTH_MAX = 128;

// ─── HTTP: bodies, headers, pages ───────────────────────────────────────────────────────────

/** Request bodies on JSON endpoints and every other /v1 POST (bytes). */
export const REQUEST_BODY_BYTES_MAX = 64 * 1024;
/**
 * Bytes of a body sent without a length (chunked) that are still read, and thrown away, once it
 * is over its limit, before the 413 goes out. Cutting the upload short left the connection
 * unusable for a proxy still sending it (local `wrangler dev` then hung on the next request);
 * past this, the rest is cancelled anyway.
 */
export const OVERSIZED_BODY_DRAIN_BYTES_MAX = 1024 * 1024;

/** A bearer token longer than this is refused before it is hashed (characters). */
export const BEARER_TOKEN_LENGTH_MAX = 512;
/** An incoming X-Request-Id longer than this is replaced by a generated one (characters). */
export const REQUEST_ID_LENGTH_MAX = 128;
/** Digits of a query-string integer (16 covers TOTAL_MAX). */
export const QUERY_INTEGER_DIGITS_MAX = 16;

/** GET /v1/products/{id}/transactions (rows per page). */
export const TRANSACTIONS_PAGE_LIMIT_DEFAULT = 100;
export const TRANSACTIONS_PAGE_LIMIT_MAX = 500;

/** GET /v1/stock reads at most this many products in one request. */
export const STOCK_BATCH_PRODUCT_IDS_MAX = 100;

/** POST /v1/transactions/batch takes at most this many items. */
export const BATCH_ITEMS_MAX = 500;

/** Product objects called at once by one request or message (reservations, batches, export). */
export const PRODUCT_FANOUT_MAX = 10;

// ─── Reservations ───────────────────────────────────────────────────────────────────────────

/** Lines per reservation, and how long a hold may last (seconds). */
export const RESERVATION_LINES_MAX = 100;
export const RESERVATION_TTL_SECONDS_MIN = 1;
export const RESERVATION_TTL_SECONDS_MAX = 86_400;
export const RESERVATION_TTL_SECONDS_DEFAULT = 900;

/**
 * Reservations live in this many Durable Objects, chosen by a hash of the id, rather than one
 * new object each (docs/decisions/0002-reservation-shards.md). Changing it moves every
 * reservation: never change it on a deployment that holds reservations.
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
 * products) is settled by its alarm this long after it started, well before its expiry (ms).
 */
export const RESERVATION_PENDING_TIMEOUT_MS = 30_000;

/** Retries of an unfinished reservation step (a product object unavailable): exponential, capped. */
export const RESERVATION_RETRY_BACKOFF_MS = { base: 1_000, factor: 2, max: 300_000 } as const;

// ─── Product registry (each product object registers itself in D1 from its alarm) ──────────

export const REGISTRATION_RETRY_BACKOFF_MS = { base: 1_000, factor: 2, max: 300_000 } as const;

// ─── Export and reconciliation ──────────────────────────────────────────────────────────────

/**
 * Export: rows a product object hands over per call, and rows one queue message may copy before
 * it hands the rest to a follow-up message. A page goes to D1 as one JSON-array statement, or a
 * few when its text is long (src/export/d1-writer.ts), so a message stays far under D1's 1,000
 * queries per invocation.
 */
export const EXPORT_PAGE_ROWS = 500;
export const EXPORT_ROWS_PER_MESSAGE_MAX = 5_000;
/**
 * Characters of JSON per D1 statement of exported rows. A character is at most 3 bytes of UTF-8,
 * so a chunk stays under D1's 2 MB per bound string whatever the text.
 */
export const EXPORT_JSON_CHUNK_CHARS_MAX = 600_000;
/** Export and reconciliation: products per queue message, and registry rows read per planning step. */
export const RUN_PRODUCTS_PER_MESSAGE = 50;
export const RUN_PLAN_PAGE_PRODUCTS = 1_000;
/** run_products binds 5 parameters per row: 20 rows per INSERT stays within D1's 100. */
export const RUN_PRODUCT_ROWS_PER_INSERT = 20;
/** Messages per Queue.sendBatch call (the platform's limit). */
export const QUEUE_SEND_BATCH_MESSAGES_MAX = 100;
/**
 * Reconciliation re-reads D1's copy to recompute its hash chain, up to this many rows per product
 * (1,000 a query); with 5 products a message that stays under D1's 1,000 queries per invocation.
 * Beyond it, older rows are checked by linkage (one query) rather than recomputed.
 */
export const RECONCILE_PRODUCTS_PER_MESSAGE = 5;
export const RECONCILE_RECOMPUTE_ROWS_MAX = 100_000;
export const RECONCILE_PAGE_ROWS = 1_000;
/** Reconciliation compares D1 with the ledger in chunks of this many seqs, to locate a divergence. */
export const RECONCILE_CHUNK_ROWS = 1_000;
/** A product whose export or check keeps failing is tried this many times, then reported failed. */
export const RUN_PRODUCT_ATTEMPTS_MAX = 3;
/** The delay before a failing product is tried again, by its attempt number (seconds). */
export const RUN_PRODUCT_RETRY_BACKOFF_SECONDS = { base: 2, factor: 2, max: 60 } as const;
/** The delay before a whole queue message that threw is redelivered, by its attempts (seconds). */
export const RUN_MESSAGE_RETRY_BACKOFF_SECONDS = { base: 1, factor: 2, max: 60 } as const;
/** A run's read-back: failed products listed, and reconciliation findings listed (rows). */
export const RUN_ERRORS_LISTED_MAX = 100;
export const RUN_FINDINGS_LISTED_MAX = 1_000;
/** Admin listings of recent runs. */
export const RUNS_LIST_LIMIT_DEFAULT = 20;
export const RUNS_LIST_LIMIT_MAX = 100;
/** Run ids as the service issues them (characters). */
export const RUN_ID_LENGTH_MAX = 64;

// ─── Audit (D1) ─────────────────────────────────────────────────────────────────────────────

export const AUDIT_PAGE_LIMIT_DEFAULT = 100;
export const AUDIT_PAGE_LIMIT_MAX = 1_000;
/** An audit cursor as the service issues it (characters). */
export const AUDIT_CURSOR_LENGTH_MAX = 1_024;

// ─── Webhooks in ────────────────────────────────────────────────────────────────────────────

export const WEBHOOK_BODY_BYTES_MAX = 256 * 1024;
export const WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS = 300;
export const WEBHOOK_ID_LENGTH_MAX = 255;
/** `v1,` entries of one webhook-signature header that are checked; more are ignored. */
export const WEBHOOK_SIGNATURES_CHECKED_MAX = 20;
/** A delivery's `type` is logged cut to this many characters. */
export const WEBHOOK_TYPE_LOGGED_LENGTH_MAX = 100;
/** Lines per order or return event. */
export const WEBHOOK_LINES_MAX = 500;
/** Source ids (characters) and secrets per source (rotation). */
export const WEBHOOK_SOURCE_ID_LENGTH_MAX = 64;
export const WEBHOOK_SECRETS_PER_SOURCE_MAX = 10;
/** Order, line, return and reference ids in events (characters). */
export const BUSINESS_ID_LENGTH_MAX = 128;
export const WEBHOOK_DELIVERIES_PAGE_LIMIT_DEFAULT = 50;
export const WEBHOOK_DELIVERIES_PAGE_LIMIT_MAX = 200;
/**
 * How long a delivery being applied keeps other copies of it (the same webhook-id) out (ms). A
 * copy that arrives meanwhile waits for its outcome; past the lease, the first run is taken to
 * have died and the copy applies the event itself. A live run renews it every
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
/** Tries to record a delivery's end in D1 before the answer stands without it, and the pause between tries. */
export const WEBHOOK_FINISH_TRIES = 3;
export const WEBHOOK_FINISH_RETRY_BACKOFF_MS = { base: 100, factor: 3, max: 900 } as const;

// ─── Products and settings ──────────────────────────────────────────────────────────────────

/** GET /v1/products (products per page). */
export const PRODUCTS_PAGE_LIMIT_DEFAULT = 100;
export const PRODUCTS_PAGE_LIMIT_MAX = 1_000;
/** low_stock_threshold (units). */
export const LOW_STOCK_THRESHOLD_MAX = 1_000_000_000;
/** Objects a product's stock may be spread over. */
export const SHARDS_MIN = 1;
export const SHARDS_MAX = 16;

// ─── Change feed and subscriptions (webhooks out) ───────────────────────────────────────────

/** GET /v1/products/{id}/events (events per page). */
export const EVENTS_PAGE_LIMIT_DEFAULT = 100;
export const EVENTS_PAGE_LIMIT_MAX = 500;
/** GET /v1/subscriptions (subscriptions per page). */
export const SUBSCRIPTIONS_PAGE_LIMIT_MAX = 100;
/** Subscriptions that may be active at once (each product object reads them all). */
export const SUBSCRIPTIONS_ACTIVE_MAX = 100;
/** A subscription's product filter, and its description (characters) and URL (characters). */
export const SUBSCRIPTION_PRODUCT_IDS_MAX = 100;
export const SUBSCRIPTION_DESCRIPTION_LENGTH_MAX = 500;
export const SUBSCRIPTION_URL_LENGTH_MAX = 2_048;
/** A product object re-reads the active subscriptions from D1 at most this often (ms). */
export const SUBSCRIPTION_REGISTRY_TTL_MS = 5_000;
/** A product object whose events could not be handed on tries again on this schedule (ms). */
export const FORWARD_RETRY_BACKOFF_MS = { base: 1_000, factor: 2, max: 60_000 } as const;
/** A subscription object whose registry row D1 refused to update tries again after this (ms). */
export const SUBSCRIPTION_REGISTRY_RETRY_MS = 5_000;
/** Events a product object hands one subscription's object per call. */
export const EVENT_FORWARD_BATCH_MAX = 200;
/** After a rotation, the old secret keeps signing beside the new one for this long (ms). */
export const SECRET_ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;
/** A receiver that has not answered within this long has failed this attempt (ms). */
export const DELIVERY_TIMEOUT_MS = 10_000;
/**
 * The pause after each failed attempt of one event (ms), before the jitter: 8 attempts over
 * about 27.6 hours (the Standard Webhooks schedule). After the last one the event is failed.
 */
export const DELIVERY_RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000] as const;
/** Each pause is stretched or shrunk at random by up to this share of itself, so receivers are not hit in lockstep. */
export const DELIVERY_RETRY_JITTER_RATIO = 0.1;
/** A subscription whose events failed this many times in a row is disabled. */
export const SUBSCRIPTION_CONSECUTIVE_FAILURES_MAX = 100;
/** Deliveries one alarm run of a subscription's object attempts at once, and in all. */
export const DELIVERY_CONCURRENCY_MAX = 10;
export const DELIVERIES_PER_ALARM_MAX = 500;
/** GET /v1/subscriptions/{id}/deliveries (rows per page). */
export const DELIVERIES_PAGE_LIMIT_DEFAULT = 100;
export const DELIVERIES_PAGE_LIMIT_MAX = 500;
/** A receiver's answer kept in the delivery log (characters). */
export const DELIVERY_RESPONSE_LOGGED_LENGTH_MAX = 200;

// ─── Tamper evidence ────────────────────────────────────────────────────────────────────────

/** Rows hashed per transaction by the upgrade backfill, and rows checked per verify page. */
export const HASH_BACKFILL_PAGE_ROWS = 1_000;
export const VERIFY_PAGE_ROWS = 5_000;
