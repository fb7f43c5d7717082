// Where a subscription may send events: an https URL whose host is not an IP literal in a
// private, loopback, link-local or otherwise non-public range, with no credentials in it. Local
// development (ALLOW_LOCAL_WEBHOOK_URLS=true) also allows http(s)://127.0.0.1:<port> and
// http(s)://localhost:<port>. Host names are not resolved here (Workers cannot resolve names);
// in production, Cloudflare's own fetch does not reach private networks either.

import { SUBSCRIPTION_URL_LENGTH_MAX } from "../limits";

/** Why the URL is refused, in words; null when it may be used. */
export function urlRefusal(text: string, allow_local: boolean): string | null {
  if (text.length > SUBSCRIPTION_URL_LENGTH_MAX) return `must be at most ${SUBSCRIPTION_URL_LENGTH_MAX} characters`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "must be an absolute URL";
  }
  if (url.username !== "" || url.password !== "") return "must not carry credentials";
  // The WHATWG parser has already turned 2130706433, 0x7f.1 and 127.1 into 127.0.0.1.
  const host = url.hostname.toLowerCase();
  const local = host === "127.0.0.1" || host === "localhost" || host === "[::1]";
  if (allow_local && local && (url.protocol === "http:" || url.protocol === "https:") && url.port !== "") return null;
  if (url.protocol !== "https:") return "must use https";
  if (host === "localhost" || host.endsWith(".localhost")) return "must not name a local host";
  const v4 = ipv4Of(host);
  if (v4 !== null) return isPublicIpv4(v4) ? null : "must not be a private, loopback or link-local address";
  if (host.startsWith("[")) return isPublicIpv6(host.slice(1, -1)) ? null : "must not be a private, loopback or link-local address";
  return null;
}

function ipv4Of(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part))) return null;
  const octets = parts.map(Number);
  return octets.every((octet) => octet <= 255) ? octets : null;
}

/** Outside 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.0.0/24, 192.168/16, 198.18/15 and 224/3. */
function isPublicIpv4([a, b, c]: number[]): boolean {
  if (a === 0 || a === 10 || a === 127 || a! >= 224) return false;
  if (a === 100 && b! >= 64 && b! <= 127) return false;
  if (a === 169 && b === 254) return false;
  if (a === 172 && b! >= 16 && b! <= 31) return false;
  if (a === 192 && (b === 168 || (b === 0 && c === 0))) return false;
  if (a === 198 && (b === 18 || b === 19)) return false;
  return true;
}

/** Outside ::, ::1, fc00::/7, fe80::/10, ff00::/8, and IPv4 mapped into IPv6 unless that IPv4 is public. */
function isPublicIpv6(address: string): boolean {
  const lower = address.toLowerCase();
  if (lower === "::" || lower === "::1") return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) {
    const v4 = ipv4Of(mapped[1]!);
    return v4 !== null && isPublicIpv4(v4);
  }
  // The parser writes a mapped address in hex (::ffff:7f00:1): check its IPv4 the same way.
  const mappedHex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (mappedHex) {
    const high = Number.parseInt(mappedHex[1]!, 16);
    const low = Number.parseInt(mappedHex[2]!, 16);
    return isPublicIpv4([high >> 8, high & 255, low >> 8, low & 255]);
  }
  const first = Number.parseInt(lower.split(":")[0] || "0", 16);
  if ((first & 0xfe00) === 0xfc00) return false;
  if ((first & 0xffc0) === 0xfe80) return false;
  if ((first & 0xff00) === 0xff00) return false;
  return true;
}
