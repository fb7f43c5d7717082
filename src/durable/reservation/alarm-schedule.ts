// The Reservation object's one alarm, set to the earliest time any of its reservations needs
// work, with as few alarm writes as possible.

import type { Sql } from "../sql";
import { earliestAlarmAt } from "./store";

export class AlarmSchedule {
  /**
   * When the object's alarm is set, as far as this instance knows (null: unknown or none, and
   * the next save sets it exactly). It is never later than the earliest alarm_at of the rows: a
   * save that moves a row's time earlier moves the alarm too; one that moves it later, or ends
   * it, leaves the alarm early, and that run, finding little or nothing due, sets it exactly.
   * So most saves cost no extra read or alarm write.
   */
  private alarmAt: number | null = null;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly sql: Sql,
  ) {}

  /** Learns the alarm the storage holds (at start-up). */
  async load(): Promise<void> {
    this.alarmAt = await this.storage.getAlarm();
  }

  /** The alarm that fired is spent; saves during the run may set another. */
  fired(): void {
    this.alarmAt = null;
  }

  /** After a row was saved to need work at `at` (null: never): moves the alarm earlier if that is sooner. */
  async saved(at: number | null, now_ms: number): Promise<void> {
    if (at === null) return;
    if (this.alarmAt === null) {
      // Unknown (no alarm, or an alarm run in progress whose rows are still due): set it exactly,
      // so a run that dies before it finishes leaves the alarm at its due rows, not at this one's.
      await this.setExactly();
      return;
    }
    // An alarm whose time has passed is firing, or was removed by something else: set it again
    // (still overdue, so it runs now and then sets itself exactly).
    if (at < this.alarmAt || this.alarmAt <= now_ms) {
      this.alarmAt = Math.min(at, this.alarmAt);
      await this.storage.setAlarm(this.alarmAt);
    }
  }

  /** Sets the alarm exactly: the earliest time any reservation here needs work. */
  async setExactly(): Promise<void> {
    const at = earliestAlarmAt(this.sql);
    this.alarmAt = at;
    if (at === null) await this.storage.deleteAlarm();
    else await this.storage.setAlarm(at);
  }
}
