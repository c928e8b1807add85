// Shared pieces of the JS client scripts (velero.mjs, kopia.mjs,
// concurrent.mjs): the S3 client as each replayed application builds it,
// a request log, checks that fail loudly, and deterministic test data.
//
// Environment (set by tests/integration/clients.py node()):
//   DEDUPD_S3_URL      http://127.0.0.1:PORT
//   DEDUPD_ACCESS_KEY  DEDUPD_SECRET_KEY
import { S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import crypto from "node:crypto";
import dns from "node:dns";
import http from "node:http";

export function env(name) {
  const v = process.env[name];
  if (!v) fail(`environment variable ${name} is not set`);
  return v;
}

// Command-line options of the form --name value.
export function option(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  if (i + 1 >= process.argv.length) fail(`--${name} needs a value`);
  return process.argv[i + 1];
}

export class Deviation extends Error {}

export function fail(msg) {
  throw new Deviation(msg);
}

export function check(cond, msg) {
  if (!cond) fail(msg);
}

export function checkEq(got, want, what) {
  if (got !== want) fail(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

export function checkBytes(got, want, what) {
  const g = Buffer.from(got);
  if (g.length !== want.length) fail(`${what}: got ${g.length} bytes, want ${want.length}`);
  if (!g.equals(want)) {
    let i = 0;
    while (g[i] === want[i]) i++;
    fail(`${what}: content differs at byte ${i}`);
  }
}

// Expects fn() to reject with an S3 error; checks HTTP status and, when
// given, the error name (the <Code>, or NotFound etc. for HEAD).
export async function expectError(fn, status, names, what) {
  try {
    await fn();
  } catch (e) {
    if (e instanceof Deviation) throw e;
    const got = e.$metadata?.httpStatusCode;
    checkEq(got, status, `${what}: HTTP status (error ${e.name}: ${e.message})`);
    if (names) {
      const list = Array.isArray(names) ? names : [names];
      check(list.includes(e.name) || list.includes(e.Code),
        `${what}: error name ${e.name} (Code ${e.Code}), want ${list.join(" or ")}`);
    }
    return e;
  }
  fail(`${what}: succeeded, want HTTP ${status} ${names || ""}`);
}

// *.localhost resolves to 127.0.0.1 here even where the system resolver
// (glibc "files dns" without nss-myhostname) does not answer for it.
function lookup(hostname, options, cb) {
  if (hostname === "localhost" || hostname.endsWith(".localhost")) {
    if (options && options.all) return cb(null, [{ address: "127.0.0.1", family: 4 }]);
    return cb(null, "127.0.0.1", 4);
  }
  return dns.lookup(hostname, options, cb);
}

let lastRequest = null; // the most recent request of any client, for error reports

export const agent = new http.Agent({ keepAlive: true, maxSockets: 256, lookup });

// Plain net/http GET (as Velero's CLI fetches a presigned URL): no SDK,
// no extra headers. Resolves {status, headers, body}.
export function plainGet(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers,
        body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

// Builds an S3 client with the SDK's DEFAULT checksum behaviour unless
// opts overrides it. style "path" -> forcePathStyle; "vhost" -> the
// endpoint host becomes "localhost" so the SDK puts the bucket in the
// host name (bkt.localhost:PORT), which dedupd serves with
// [s3] domain = localhost. Every request and response is recorded in
// log[] (operation, method, host, path, selected headers, status).
export function makeClient(style, opts = {}) {
  const url = new URL(env("DEDUPD_S3_URL"));
  if (style === "vhost") url.hostname = "localhost";
  const client = new S3Client({
    endpoint: url.origin,
    region: "us-east-1",
    forcePathStyle: style !== "vhost",
    credentials: { accessKeyId: env("DEDUPD_ACCESS_KEY"), secretAccessKey: env("DEDUPD_SECRET_KEY") },
    requestHandler: new NodeHttpHandler({ httpAgent: agent, requestTimeout: 600000 }),
    maxAttempts: 1,
    ...opts,
  });
  const log = [];
  client.middlewareStack.add((next, context) => async (args) => {
    const req = args.request;
    const entry = { op: context.commandName, method: req.method, host: req.hostname,
      port: req.port, path: req.path, query: { ...req.query }, headers: { ...req.headers } };
    log.push(entry);
    lastRequest = entry;
    try {
      const out = await next(args);
      entry.status = out.response.statusCode;
      entry.respHeaders = { ...out.response.headers };
      return out;
    } catch (e) {
      entry.status = e.$metadata?.httpStatusCode;
      throw e;
    }
  }, { step: "finalizeRequest", priority: "low", name: "dedupdRequestLog" });
  return { client, log };
}

export function sha256(buf) {
  return crypto.createHash("sha256").update(buf).digest("hex");
}

export function md5b64(buf) {
  return crypto.createHash("md5").update(buf).digest("base64");
}

// Deterministic pseudo-random bytes: size bytes from seed (AES-CTR of
// zeros), so reruns produce the same objects and no two seeds collide.
export function randomBytes(size, seed) {
  const key = crypto.createHash("sha256").update(String(seed)).digest();
  const c = crypto.createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  return Buffer.concat([c.update(Buffer.alloc(size)), c.final()]);
}

export async function bodyBytes(out) {
  return Buffer.from(await out.Body.transformToByteArray());
}

// Runs main(); prints {"ok": true, ...summary} as the last stdout line and
// exits 0, or prints the deviation to stderr and {"ok": false} and exits 1.
export async function run(name, main) {
  const t0 = Date.now();
  try {
    const summary = await main();
    console.log(JSON.stringify({ script: name, ok: true, ms: Date.now() - t0, ...summary }));
    process.exit(0);
  } catch (e) {
    const kind = e instanceof Deviation ? "DEVIATION" : "UNEXPECTED ERROR";
    console.error(`${name}: ${kind}: ${e.message}`);
    if (!(e instanceof Deviation)) {
      console.error(e.stack);
      if (e.$metadata) console.error(`  S3 error ${e.name} HTTP ${e.$metadata.httpStatusCode}`);
      if (lastRequest) {
        console.error(`  last request: ${lastRequest.op} ${lastRequest.method} ${lastRequest.host}`
          + ` ${lastRequest.path} ${JSON.stringify(lastRequest.query)} -> ${lastRequest.status}`);
      }
    }
    console.log(JSON.stringify({ script: name, ok: false, error: `${kind}: ${e.message}` }));
    process.exit(1);
  }
}
