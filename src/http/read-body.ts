// Reading a request body within a size limit, for the write fast path and the body-limit guard.
import { OVERSIZED_BODY_DRAIN_BYTES_MAX } from "../ledger/constants";

/**
 * The body's bytes, or undefined when there are more than `bytes_max`. A body whose length is
 * declared (and already checked against the limit by the caller) is read whole by the runtime,
 * which costs less than counting it chunk by chunk in JavaScript (measured: the counting loop
 * was 4% of the write path's JavaScript time); one without is counted as it is read.
 */
export async function readBody(request: Request, bytes_max: number): Promise<Uint8Array | undefined> {
  if (request.headers.has("content-length") && !request.headers.has("transfer-encoding")) {
    const bytes = new Uint8Array(await request.arrayBuffer());
    return bytes.byteLength <= bytes_max ? bytes : undefined;
  }
  return readAtMost(request.body, bytes_max);
}

/**
 * The body's bytes, or undefined once there are more than `bytes_max`. The rest of an oversized
 * body is still read and thrown away, up to OVERSIZED_BODY_DRAIN_BYTES_MAX, so the sender (or a
 * proxy in between) finishes its upload before the 413 instead of losing the connection.
 */
export async function readAtMost(stream: ReadableStream<Uint8Array> | null, bytes_max: number): Promise<Uint8Array | undefined> {
  if (stream === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = stream.getReader();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    length += chunk.value.byteLength;
    if (length > bytes_max) {
      await discardRest(reader, OVERSIZED_BODY_DRAIN_BYTES_MAX - length);
      return undefined;
    }
    chunks.push(chunk.value);
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Reads and drops up to `bytes_max` more bytes, then cancels whatever is left. */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>, bytes_max: number): Promise<void> {
  let left = bytes_max;
  while (left > 0) {
    const chunk = await reader.read();
    if (chunk.done) return;
    left -= chunk.value.byteLength;
  }
  await reader.cancel();
}
