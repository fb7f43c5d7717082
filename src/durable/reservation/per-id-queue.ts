// Runs the operations of each reservation one at a time, across awaits, while different
// reservations of the same object proceed independently. The durable phase, not these chains,
// is the truth; a chain only keeps two operations of one id from interleaving in memory.

export class PerIdQueue {
  /** Each id's chain of operations; removed once nothing is queued behind its last run. */
  private readonly chains = new Map<string, Promise<unknown>>();
  /**
   * Per id, a save the running operation leaves for after its answer (a creation's `held`). It
   * belongs to that operation's turn: the next operation of the id waits for it.
   */
  private readonly afterAnswer = new Map<string, () => Promise<void>>();

  run<T>(id: string, work: () => Promise<T>): Promise<T> {
    const run = (this.chains.get(id) ?? Promise.resolve()).then(work, work);
    const tail = run.then(
      () => this.runAfterAnswer(id),
      () => this.runAfterAnswer(id),
    );
    this.chains.set(id, tail);
    // Forget the chain once nothing was queued behind this run, so the map stays small.
    void tail.then(() => {
      if (this.chains.get(id) === tail) this.chains.delete(id);
    });
    return run;
  }

  /** Leaves `save` for after the current operation of `id` has answered, still in its turn. */
  saveAfterAnswer(id: string, save: () => Promise<void>): void {
    this.afterAnswer.set(id, save);
  }

  /**
   * Runs the save an operation left for after its answer, in that operation's turn. Begun a
   * macrotask later, because an object's answer waits until every write begun before it is
   * durable (the output gate). That the answer has left by then is measured
   * (docs/decisions/0005-held-saved-after-the-answer.md), not promised: if it has not, the
   * answer waits for this save, which is slower but still correct. If the save fails, the
   * record stays `pending` and is settled later.
   */
  private async runAfterAnswer(id: string): Promise<void> {
    const save = this.afterAnswer.get(id);
    if (save === undefined) return;
    this.afterAnswer.delete(id);
    await new Promise((resolve) => setTimeout(resolve, 0));
    try {
      await save();
    } catch (error) {
      console.error(
        JSON.stringify({
          level: "error",
          message: "saving a reservation after its answer failed; it is settled later",
          reservation_id: id,
          error: String(error),
        }),
      );
    }
  }
}
