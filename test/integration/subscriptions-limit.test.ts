// At most SUBSCRIPTIONS_ACTIVE_MAX subscriptions may be active at once (every product object
// reads them all). In a file of its own: D1 is per test file, and this one fills the registry.
import { describe, expect, it } from "vitest";
import { SUBSCRIPTIONS_ACTIVE_MAX } from "../../src/limits";
import { call } from "../helpers/http";
import { newReceiver } from "../helpers/receiver";
import { expectProblem } from "../helpers/wire";

describe("the active subscriptions' limit", () => {
  it(`answers 422 limit_exceeded to the subscription past ${SUBSCRIPTIONS_ACTIVE_MAX}, and takes one again after a delete`, async () => {
    const ids: string[] = [];
    for (let n = 0; n < SUBSCRIPTIONS_ACTIVE_MAX; n++) {
      const response = await call("POST", "/v1/subscriptions", {
        body: { url: newReceiver().url, event_types: ["stock.out"], product_ids: ["limit-none"] },
      });
      expect(response.status).toBe(201);
      ids.push(((await response.json()) as { id: string }).id);
    }
    const over = () =>
      call("POST", "/v1/subscriptions", { body: { url: newReceiver().url, event_types: ["stock.out"], product_ids: ["limit-none"] } });
    await expectProblem(await over(), 422, "limit_exceeded");
    expect((await call("DELETE", `/v1/subscriptions/${ids[0]}`)).status).toBe(204);
    expect((await over()).status).toBe(201);
  });
});
