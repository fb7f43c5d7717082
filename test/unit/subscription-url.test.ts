// Where a subscription may send events (src/http/subscription-url.ts): https to a public host;
// no IP literal in a private, loopback or link-local range in any spelling; no credentials;
// local URLs only when local development allows them.
import { describe, expect, it } from "vitest";
import { urlRefusal } from "../../src/http/subscription-url";

describe("urlRefusal", () => {
  it("allows https to a public host name or a public address", () => {
    for (const url of [
      "https://hooks.example.com/inventory",
      "https://8.8.8.8/x",
      "https://[2001:4860::8888]/x",
      "https://example.com:8443/a?b=c",
    ]) {
      expect(urlRefusal(url, false), url).toBeNull();
    }
  });

  it("refuses every private, loopback, link-local or reserved IP literal, however it is spelled", () => {
    for (const url of [
      "https://127.0.0.1/",
      "https://2130706433/",
      "https://0x7f.1/",
      "https://127.1/",
      "https://10.1.2.3/",
      "https://172.16.0.1/",
      "https://172.31.255.255/",
      "https://192.168.1.1/",
      "https://169.254.169.254/latest/meta-data",
      "https://100.64.0.1/",
      "https://0.0.0.0/",
      "https://224.0.0.1/",
      "https://[::1]/",
      "https://[::]/",
      "https://[fe80::1]/",
      "https://[fd00::1]/",
      "https://[::ffff:127.0.0.1]/",
      "https://[::ffff:10.0.0.1]/",
    ]) {
      expect(urlRefusal(url, false), url).toBe("must not be a private, loopback or link-local address");
    }
  });

  it("allows the edges of the private ranges that are public", () => {
    for (const url of ["https://172.15.255.255/", "https://172.32.0.1/", "https://100.63.255.255/", "https://[::ffff:8.8.8.8]/"])
      expect(urlRefusal(url, false), url).toBeNull();
  });

  it("refuses http, credentials, localhost names and what is not a URL", () => {
    expect(urlRefusal("http://example.com/", false)).toBe("must use https");
    expect(urlRefusal("ftp://example.com/", false)).toBe("must use https");
    expect(urlRefusal("https://user:secret@example.com/", false)).toBe("must not carry credentials");
    expect(urlRefusal("https://localhost/", false)).toBe("must not name a local host");
    expect(urlRefusal("https://api.localhost/", false)).toBe("must not name a local host");
    expect(urlRefusal("example.com/hook", false)).toBe("must be an absolute URL");
    expect(urlRefusal(`https://example.com/${"a".repeat(2_100)}`, false)).toMatch(/at most/);
  });

  it("allows http://127.0.0.1:<port> and http://localhost:<port> only when local URLs are allowed", () => {
    for (const url of ["http://127.0.0.1:8787/hook", "http://localhost:3000/", "https://127.0.0.1:9000/"]) {
      expect(urlRefusal(url, true), url).toBeNull();
      expect(urlRefusal(url, false), url).not.toBeNull();
    }
    // Without a port, or to another private address, local development does not open the door.
    expect(urlRefusal("http://127.0.0.1/hook", true)).not.toBeNull();
    expect(urlRefusal("http://10.0.0.1:80/", true)).not.toBeNull();
  });
});
