// The product object's one alarm, and the two jobs it does after a write: register the product
// in D1's registry (after its first row), and hand new events to the subscriptions that want
// them. Each job that fails is retried by the alarm with its own backoff; the alarm is set to
// the earliest time any job needs, and a write sets it only when none is pending earlier.

import { auditDb } from "../../d1/db";
import { registerProduct } from "../../d1/registry";
import { backoffDelay } from "../../lib/retry";
import { FORWARD_RETRY_BACKOFF_MS, REGISTRATION_RETRY_BACKOFF_MS } from "../../limits";
import type { Sql } from "../sql";
import * as exportStore from "./export-store";
import type { EventForwarder } from "./forwarder";
import type { ProductLedgerDeps } from "./rpc";

export class AlarmWork {
  /** When the alarm is set, as far as this instance knows; null: none, or unknown after it fired. */
  private alarmAt: number | null = null;
  /** Forwarding rounds that failed in a row, for its backoff. */
  private forwardFailures = 0;

  constructor(
    private readonly env: Env,
    private readonly storage: DurableObjectStorage,
    private readonly sql: Sql,
    private readonly product_id: string,
    private readonly forwarder: EventForwarder,
    private readonly deps: ProductLedgerDeps,
  ) {}

  /** At start-up: work a crash left (a product not yet registered, events not yet handed on) gets an alarm. */
  async start(): Promise<void> {
    this.alarmAt = await this.storage.getAlarm();
    const unregistered = exportStore.readExportState(this.sql)?.registered_at === null;
    if ((unregistered || this.forwarder.pending()) && this.alarmAt === null) await this.setAlarm(this.deps.now());
  }

  /** After a transaction that left work (a first row, new events): the alarm, unless one is due sooner. */
  due(): void {
    const at = this.forwarder.dueAt();
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    void this.setAlarm(at);
  }

  async run(): Promise<void> {
    this.alarmAt = null;
    const wanted: number[] = [];
    const registration = await this.register();
    if (registration !== null) wanted.push(registration);
    try {
      await this.forwarder.forward();
      this.forwardFailures = 0;
    } catch (error) {
      this.forwardFailures += 1;
      console.error(
        JSON.stringify({
          level: "warn",
          message: "handing events on failed; retrying",
          product_id: this.product_id,
          failures: this.forwardFailures,
          error: String(error),
        }),
      );
    }
    if (this.forwarder.pending()) {
      wanted.push(
        this.forwardFailures > 0
          ? this.deps.now() + backoffDelay(this.forwardFailures - 1, FORWARD_RETRY_BACKOFF_MS)
          : this.forwarder.dueAt(),
      );
    }
    if (wanted.length > 0) await this.setAlarm(Math.min(...wanted));
  }

  /** Registers the product in D1 if it is not yet; answers when to try again after a failure (null: done). */
  private async register(): Promise<number | null> {
    const state = exportStore.readExportState(this.sql);
    if (state === undefined || state.registered_at !== null) return null;
    const registered_at = new Date(this.deps.now()).toISOString();
    try {
      await registerProduct(auditDb(this.env.AUDIT_DB), this.product_id, registered_at);
      exportStore.markRegistered(this.sql, registered_at);
      return null;
    } catch (error) {
      const attempts = exportStore.countRegistrationAttempt(this.sql);
      console.error(
        JSON.stringify({
          level: "warn",
          message: "product registration in D1 failed; retrying",
          product_id: this.product_id,
          attempts,
          error: String(error),
        }),
      );
      return this.deps.now() + backoffDelay(attempts, REGISTRATION_RETRY_BACKOFF_MS);
    }
  }

  private async setAlarm(at: number): Promise<void> {
    this.alarmAt = at;
    await this.storage.setAlarm(at);
  }
}
