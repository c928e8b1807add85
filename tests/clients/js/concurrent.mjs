// N uploads at once over N connections, then every object read back and
// compared (issue #4: 64 concurrent uploads all succeed).
//
//   node concurrent.mjs --bucket B [--count 64] [--size BYTES]
//
// Half the objects are single PUTs, half go through the upload manager
// (multipart, 5 MiB parts) when --size is over 5 MiB. Uses the SDK's
// default checksums. Exits 0 with a JSON summary, or 1 with the first
// failure (all failures are listed).
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import {
  agent, bodyBytes, check, checkBytes, checkEq, fail, makeClient, option, randomBytes, run, sha256,
} from "./common.mjs";

const MiB = 1024 * 1024;

await run("concurrent", async () => {
  const bucket = option("bucket") || fail("--bucket is required");
  const count = Number(option("count", "64"));
  const size = Number(option("size", String(6 * MiB)));
  check(count > 0 && size >= 0, "bad --count or --size");
  agent.maxSockets = Math.max(agent.maxSockets, count);
  const { client } = makeClient("path");
  const data = [];
  for (let i = 0; i < count; i++) {
    // Distinct bytes per object, with a shared middle so the store
    // deduplicates across concurrent streams.
    const own = randomBytes(size, `conc-${i}`);
    if (size > 2 * MiB) randomBytes(MiB, "shared").copy(own, MiB);
    data.push(own);
  }
  const key = (i) => `conc/obj-${String(i).padStart(3, "0")}`;

  // All started at once; the agent allows a socket per request (and
  // more for the multipart ones), so none waits in the agent's queue.
  const results = await Promise.allSettled(data.map((buf, i) => {
    if (i % 2 === 1 && size > 5 * MiB) {
      return new Upload({ client, params: { Bucket: bucket, Key: key(i), Body: buf },
        partSize: 5 * MiB, queueSize: 2, leavePartsOnError: false }).done();
    }
    return client.send(new PutObjectCommand({ Bucket: bucket, Key: key(i), Body: buf, ContentLength: buf.length }));
  }));
  const failed = results.map((r, i) => [r, i]).filter(([r]) => r.status === "rejected");
  if (failed.length) {
    fail(`${failed.length} of ${count} concurrent uploads failed: `
      + failed.slice(0, 5).map(([r, i]) => `${key(i)}: ${r.reason?.name} ${r.reason?.message}`).join("; "));
  }

  // Read everything back, also concurrently.
  const reads = await Promise.allSettled(data.map(async (buf, i) => {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key(i) }));
    checkBytes(await bodyBytes(out), buf, `GET ${key(i)}`);
  }));
  const badReads = reads.filter((r) => r.status === "rejected");
  if (badReads.length) fail(`${badReads.length} read-backs failed, first: ${badReads[0].reason?.message}`);

  const lst = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "conc/" }));
  checkEq(lst.KeyCount, count, "objects listed after the concurrent uploads");
  return { count, size, totalBytes: count * size, digest: sha256(Buffer.concat(data.map((b) => Buffer.from(sha256(b))))) };
});
