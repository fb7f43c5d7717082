INSERT INTO `reservations` (`id`, `phase`, `reason`, `ttl_seconds`, `expires_at`, `created_by`, `created_at`, `lines`, `idempotency_key`, `fingerprint`, `attempt`, `retries`, `closed_by`, `closed_key`, `updated_at`, `alarm_at`)
SELECT `id`, `phase`, `reason`, `ttl_seconds`, `expires_at`, `created_by`, `created_at`, `lines`, `idempotency_key`, `fingerprint`, `attempt`, `retries`, `closed_by`, `closed_key`, `updated_at`,
	CASE
		WHEN `phase` IN ('failed', 'committed', 'released', 'expired') THEN NULL
		WHEN `phase` = 'held' THEN CAST(round((julianday(`expires_at`) - 2440587.5) * 86400000) AS INTEGER)
		ELSE 0
	END
FROM `reservation`;
--> statement-breakpoint
DROP TABLE `reservation`;
