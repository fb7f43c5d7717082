// A webhook receiver for the benchmark: an HTTP server on 127.0.0.1 that answers 204 at once and
// notes when each event arrived, by product and seq. It runs in the bench's own process, which
// is idle while the load generator (another process) drives the service.
import { createServer } from "node:http";

export async function startReceiver() {
  /** product_id -> seq -> Unix ms of the first stock.changed delivery of that seq. */
  const arrivals = new Map();
  let deliveries = 0;
  const server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      deliveries += 1;
      const event = JSON.parse(body);
      if (event.type === "stock.changed") {
        const bySeq = arrivals.get(event.product_id) ?? new Map();
        if (!bySeq.has(event.seq)) bySeq.set(event.seq, Date.now());
        arrivals.set(event.product_id, bySeq);
      }
      response.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    arrivals,
    deliveries: () => deliveries,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
