// Replays what the Velero AWS object-store plugin does against a bucket
// (see /work/shared/S3-WIRE.md), with the AWS SDK for JavaScript v3 and its
// DEFAULT checksum settings (CRC32, aws-chunked trailer on PUT).
//
//   node velero.mjs --bucket B [--style path|vhost] [--prefix velero]
//
// The bucket must exist and be empty under the prefix. Exits 0 and prints
// a JSON summary when every step behaved as S3 documents; exits 1 with the
// first deviation otherwise.
import {
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { Readable } from "node:stream";
import {
  bodyBytes, check, checkBytes, checkEq, expectError, fail, makeClient, option, plainGet,
  randomBytes, run,
} from "./common.mjs";

const MiB = 1024 * 1024;

await run("velero", async () => {
  const bucket = option("bucket") || fail("--bucket is required");
  const style = option("style", "path");
  const prefix = option("prefix", "velero");
  check(style === "path" || style === "vhost", `unknown --style ${style}`);
  const { client, log } = makeClient(style);
  const objects = new Map(); // key -> content

  // 1. Backup tarball through the upload manager: > 5 MiB, so multipart
  //    with 5 MiB parts, 5 in flight (manager.Uploader's defaults).
  const tarKey = `${prefix}/backups/b1/b1.tar.gz`;
  const tar = randomBytes(3 * 5 * MiB + 4321, "velero-tar");
  const up = new Upload({ client, params: { Bucket: bucket, Key: tarKey, Body: tar },
    partSize: 5 * MiB, queueSize: 5, leavePartsOnError: false });
  const upOut = await up.done();
  check(upOut.ETag, "CompleteMultipartUpload returned no ETag");
  objects.set(tarKey, tar);
  const create = log.filter((e) => e.op === "CreateMultipartUploadCommand");
  const parts = log.filter((e) => e.op === "UploadPartCommand");
  const complete = log.filter((e) => e.op === "CompleteMultipartUploadCommand");
  checkEq(create.length, 1, "CreateMultipartUpload requests");
  checkEq(parts.length, 4, "UploadPart requests (5 MiB parts of a 15 MiB+ object)");
  checkEq(complete.length, 1, "CompleteMultipartUpload requests");
  for (const p of parts) {
    checkEq(p.status, 200, `UploadPart ${p.query.partNumber} status`);
    check(/^"[^"]+"$/.test(p.respHeaders.etag || ""), `UploadPart ${p.query.partNumber}: ETag not quoted: ${p.respHeaders.etag}`);
  }

  // 2. velero-backup.json and the small per-backup files: single PUTs,
  //    with an EMPTY x-amz-tagging header as plugin 1.14.1-1.14.2 send.
  //    The SDK drops an empty Tagging, so a build-step middleware adds it
  //    back before signing. One body is a stream (no length known up
  //    front in the stream), the way the SDK sends aws-chunked with a
  //    trailing checksum.
  const small = [
    [`${prefix}/backups/b1/velero-backup.json`, Buffer.from(JSON.stringify({ kind: "Backup", metadata: { name: "b1" } }))],
    [`${prefix}/backups/b1/b1-logs.gz`, randomBytes(70000, "logs")],
    [`${prefix}/backups/b1/b1-resource-list.json.gz`, randomBytes(1500, "rl")],
    [`${prefix}/backups/b2/velero-backup.json`, Buffer.from('{"kind":"Backup","metadata":{"name":"b2"}}')],
    [`${prefix}/backups/b2/b2.tar.gz`, randomBytes(3 * MiB, "b2tar")],
    [`${prefix}/restores/r1/restore-r1-logs.gz`, randomBytes(999, "rlogs")],
    [`${prefix}/restores/r1/restore-r1-results.gz`, Buffer.alloc(0)],
  ];
  const tagging = (next) => async (args) => {
    args.request.headers["x-amz-tagging"] = "";
    return next(args);
  };
  for (const [key, data] of small) {
    const isJson = key.endsWith("velero-backup.json");
    const cmd = new PutObjectCommand({ Bucket: bucket, Key: key,
      Body: key.endsWith("b1-logs.gz") ? Readable.from([data.subarray(0, 30000), data.subarray(30000)]) : data,
      ContentLength: data.length });
    if (isJson) cmd.middlewareStack.add(tagging, { step: "build", name: "emptyTagging" });
    const out = await client.send(cmd);
    check(/^"[^"]+"$/.test(log.at(-1).respHeaders.etag || ""), `PutObject ${key}: ETag not quoted`);
    check(out.ETag, `PutObject ${key}: no ETag`);
    if (isJson) {
      check("x-amz-tagging" in log.at(-1).headers && log.at(-1).headers["x-amz-tagging"] === "",
        "the empty x-amz-tagging header was not sent");
    }
    objects.set(key, data);
  }
  const puts = log.filter((e) => e.op === "PutObjectCommand" || e.op === "UploadPartCommand");
  const modes = [...new Set(puts.map((e) => e.headers["x-amz-content-sha256"].replace(/^[0-9a-f]{64}$/, "<sha256 hex>")))].sort();
  const trailer = puts.filter((e) => e.headers["x-amz-content-sha256"] === "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
  check(trailer.length > 0, `the SDK sent no aws-chunked trailer upload (modes ${modes}); this script no longer tests that mode`);
  for (const e of trailer) {
    checkEq(e.headers["content-encoding"], "aws-chunked", `${e.op}: Content-Encoding with trailer`);
  }
  const checksummed = puts.filter((e) => e.headers["x-amz-trailer"] || Object.keys(e.headers).some((h) => h.startsWith("x-amz-checksum-")));
  check(checksummed.length === puts.length, "some PUT/UploadPart carried no checksum: the SDK default changed");

  // 3. The tags are not an error and the object reads back as sent.
  // 4. ListObjectsV2 with delimiter under the prefix: exactly Velero's
  //    top-level dirs, nothing internal (multipart staging etc.).
  const top = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, Delimiter: "/" }));
  const topDirs = (top.CommonPrefixes || []).map((p) => p.Prefix).sort();
  checkEq(JSON.stringify(topDirs), JSON.stringify([`${prefix}/backups/`, `${prefix}/restores/`]), "top-level CommonPrefixes");
  checkEq((top.Contents || []).length, 0, "objects directly under the prefix");
  checkEq(top.IsTruncated, false, "IsTruncated of a short listing");
  checkEq(top.Delimiter, "/", "Delimiter echoed");
  checkEq(top.Prefix, `${prefix}/`, "Prefix echoed");
  checkEq(top.KeyCount, 2, "KeyCount counts common prefixes");

  const backups = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/backups/`, Delimiter: "/" }));
  checkEq(JSON.stringify((backups.CommonPrefixes || []).map((p) => p.Prefix)),
    JSON.stringify([`${prefix}/backups/b1/`, `${prefix}/backups/b2/`]), "backup names as CommonPrefixes");

  // 5. Without delimiter, paginated with a small MaxKeys, continuing only
  //    while IsTruncated and NextContinuationToken (Velero's paginator).
  const want = [...objects.keys()].sort();
  const got = [];
  let token;
  let pages = 0;
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`,
      MaxKeys: 3, ContinuationToken: token }));
    pages++;
    check(pages <= 10, "listing does not end");
    checkEq(page.MaxKeys, 3, "MaxKeys echoed");
    const keys = (page.Contents || []).map((c) => c.Key);
    check(keys.length <= 3, `page ${pages} has ${keys.length} keys with MaxKeys 3`);
    checkEq(page.KeyCount, keys.length, `KeyCount of page ${pages}`);
    for (const c of page.Contents || []) {
      checkEq(c.Size, objects.get(c.Key)?.length, `Size of ${c.Key} in listing`);
      check(c.LastModified instanceof Date && Math.abs(Date.now() - c.LastModified) < 15 * 60000,
        `LastModified of ${c.Key} is not recent: ${c.LastModified}`);
      check(/^"[^"]+"$/.test(c.ETag || ""), `ETag of ${c.Key} in listing not quoted`);
    }
    if (token) checkEq(page.ContinuationToken, token, "ContinuationToken echoed");
    got.push(...keys);
    if (!page.IsTruncated) {
      check(!page.NextContinuationToken, "NextContinuationToken on the last page");
      break;
    }
    check(page.NextContinuationToken, "IsTruncated without NextContinuationToken");
    token = page.NextContinuationToken;
  }
  checkEq(JSON.stringify(got), JSON.stringify(want), "paginated listing (all keys, in order, once)");
  checkEq(pages, Math.ceil(want.length / 3), "number of pages");

  // 6. HeadObject: exists / absent (only 404 NotFound means absent).
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: tarKey }));
  checkEq(head.ContentLength, tar.length, "HeadObject ContentLength of the multipart object");
  check(log.at(-1).respHeaders["last-modified"]?.endsWith(" GMT"), "HeadObject Last-Modified not RFC 1123 GMT");
  await expectError(() => client.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}/backups/none/velero-backup.json` })),
    404, "NotFound", "HeadObject of an absent key");

  // 7. GetObject whole, every object.
  for (const [key, data] of objects) {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    checkBytes(await bodyBytes(out), data, `GetObject ${key}`);
    checkEq(out.ContentLength, data.length, `GetObject ${key} ContentLength`);
    check(!out.ContentEncoding || !/aws-chunked|gzip/.test(out.ContentEncoding),
      `GetObject ${key}: Content-Encoding ${out.ContentEncoding} was stored from the upload`);
  }

  // 8. Presigned GET (10 min), fetched with plain HTTP.
  const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: tarKey }), { expiresIn: 600 });
  const u = new URL(url);
  checkEq(u.searchParams.get("X-Amz-Expires"), "600", "presigned X-Amz-Expires");
  if (style === "vhost") checkEq(u.hostname, `${bucket}.localhost`, "presigned URL host (virtual-hosted)");
  const fetched = await plainGet(url);
  checkEq(fetched.status, 200, `presigned GET status (body ${fetched.body.subarray(0, 300)})`);
  checkBytes(fetched.body, tar, "presigned GET body");
  check(!fetched.headers["content-encoding"], `presigned GET has Content-Encoding ${fetched.headers["content-encoding"]}`);

  // 9. DeleteObject one by one; then the prefix lists empty.
  for (const key of objects.keys()) {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    checkEq(log.at(-1).status, 204, `DeleteObject ${key} status`);
  }
  const after = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/` }));
  checkEq(after.KeyCount, 0, "KeyCount after deleting everything");
  checkEq((after.Contents || []).length, 0, "objects left after deleting everything");

  // Every request went where the style says.
  for (const e of log) {
    if (style === "vhost") {
      checkEq(e.host, `${bucket}.localhost`, `${e.op}: host (virtual-hosted)`);
      check(!e.path.startsWith(`/${bucket}/`) && e.path !== `/${bucket}`, `${e.op}: bucket in path ${e.path}`);
    } else {
      check(e.path === `/${bucket}` || e.path.startsWith(`/${bucket}/`), `${e.op}: bucket not in path ${e.path}`);
    }
  }
  return { style, requests: log.length, objects: objects.size, pages, payloadModes: modes,
    trailerUploads: trailer.length };
});
