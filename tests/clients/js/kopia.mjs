// Replays Kopia's S3 storage pattern (Velero's fs-backup / data mover,
// through minio-go; see /work/shared/S3-WIRE.md) with the JS SDK:
// path-style, region discovery by GET ?location, single PUTs with
// Content-MD5 and Content-Type application/x-kopia (no multipart, no SDK
// checksums: minio-go sends none), exact ranged reads, url-encoded
// listings, deletes that ignore absent keys.
//
//   node kopia.mjs --bucket B [--prefix velero/kopia/ns1/]
//
// The bucket must exist and be empty under the prefix. Exits 0 and prints
// a JSON summary, or exits 1 with the first deviation.
import {
  DeleteObjectCommand, GetBucketLocationCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, PutObjectCommand,
} from "@aws-sdk/client-s3";
import {
  bodyBytes, check, checkBytes, checkEq, expectError, fail, makeClient, md5b64, option,
  randomBytes, run,
} from "./common.mjs";

const MiB = 1024 * 1024;

// Keys in a listing with encoding-type=url are form-encoded: "%XX"
// escapes, a space may also come as "+" (so a literal "+" must be %2B).
function urlDecode(s) {
  return decodeURIComponent(s.replace(/\+/g, " "));
}

function checkEncoded(raw, what) {
  check(typeof raw === "string" && /^[\x21-\x7e]*$/.test(raw),
    `${what}: ${JSON.stringify(raw)} is not url-encoded (space or non-ASCII left)`);
  return urlDecode(raw);
}

await run("kopia", async () => {
  const bucket = option("bucket") || fail("--bucket is required");
  const prefix = option("prefix", "velero/kopia/ns1/");
  const { client, log } = makeClient("path", {
    requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" });

  // 1. Region discovery: GET /bucket?location.
  const loc = await client.send(new GetBucketLocationCommand({ Bucket: bucket }));
  checkEq(log.at(-1).status, 200, "GetBucketLocation status");
  const region = loc.LocationConstraint || "us-east-1";
  check(typeof region === "string", "LocationConstraint is not a string");
  await expectError(() => client.send(new GetBucketLocationCommand({ Bucket: `${bucket}-absent` })),
    404, "NoSuchBucket", "GetBucketLocation of an absent bucket");

  // 2. Blobs: single PUTs with Content-MD5 and application/x-kopia, up to
  //    ~20 MiB (pack blobs), plus index/session blobs with odd sizes.
  const blobs = new Map();
  const sizes = { "kopia.repository": 1107, "kopia.blobcfg": 30, "q0a1b2c3d4e5f": 64 * 1024 - 1,
    "xn0_6f1a2b3c-s1c2d3-c1": 4096, "p0123456789abcdef": 20 * MiB - 123, "p1fedcba987654321": 5 * MiB + 7,
    "_log_20260101000000_abcd_1700000000_1700000001_1_0123": 2345, "empty-blob": 0 };
  let seed = 0;
  for (const [name, size] of Object.entries(sizes)) {
    const key = prefix + name;
    const data = randomBytes(size, `kopia-${seed++}`);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data,
      ContentLength: size, ContentMD5: md5b64(data), ContentType: "application/x-kopia" }));
    const e = log.at(-1);
    checkEq(e.headers["content-md5"], md5b64(data), `PUT ${name}: Content-MD5 sent`);
    check(/^"[0-9a-f]{32}"$/.test(e.respHeaders.etag || ""), `PUT ${name}: ETag ${e.respHeaders.etag} is not a quoted MD5`);
    checkEq(e.respHeaders.etag, `"${Buffer.from(md5b64(data), "base64").toString("hex")}"`, `PUT ${name}: ETag is the MD5`);
    blobs.set(key, data);
  }
  check(!log.some((e) => e.op === "CreateMultipartUploadCommand"), "a multipart upload was started");

  // 3. A corrupted upload (Content-MD5 of other bytes) is refused and
  //    leaves nothing behind.
  const bad = randomBytes(1000, "bad");
  await expectError(() => client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}pbad`, Body: bad,
    ContentMD5: md5b64(Buffer.from("other bytes")), ContentType: "application/x-kopia" })),
  400, "BadDigest", "PUT with a Content-MD5 that does not match");
  await expectError(() => client.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}pbad` })),
    404, "NotFound", "HEAD of the refused blob");

  // 4. HEAD: Content-Length, Content-Type, RFC 1123 Last-Modified (Kopia's
  //    GC ages packs by it), ETag.
  const t0 = Date.now();
  for (const [key, data] of blobs) {
    const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const rh = log.at(-1).respHeaders;
    checkEq(rh["content-length"], String(data.length), `HEAD ${key}: Content-Length header`);
    checkEq(h.ContentType, "application/x-kopia", `HEAD ${key}: Content-Type`);
    check(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(rh["last-modified"] || ""),
      `HEAD ${key}: Last-Modified ${rh["last-modified"]} is not RFC 1123 GMT`);
    check(Math.abs(t0 - h.LastModified.getTime()) < 15 * 60000, `HEAD ${key}: LastModified ${h.LastModified.toISOString()} is not now`);
    check(rh.date, `HEAD ${key}: no Date header`);
  }

  // 5. Ranged reads: bytes=off-(off+len-1) -> 206, exact length and bytes.
  let ranges = 0;
  for (const [key, data] of blobs) {
    if (data.length === 0) continue;
    const n = data.length;
    const cases = [[0, 1], [0, n], [n - 1, 1], [Math.floor(n / 3), Math.min(n - Math.floor(n / 3), 70000)]];
    if (n > 2 * MiB) cases.push([MiB - 5, MiB + 17], [n - 4 * MiB - 3, 4 * MiB]);
    for (const [off, len] of cases) {
      if (off < 0 || len <= 0 || off + len > n) continue;
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key,
        Range: `bytes=${off}-${off + len - 1}` }));
      checkEq(out.$metadata.httpStatusCode, 206, `GET ${key} range ${off}+${len}: status`);
      checkEq(out.ContentLength, len, `GET ${key} range ${off}+${len}: Content-Length`);
      checkEq(out.ContentRange, `bytes ${off}-${off + len - 1}/${n}`, `GET ${key} range ${off}+${len}: Content-Range`);
      checkBytes(await bodyBytes(out), data.subarray(off, off + len), `GET ${key} range ${off}+${len}`);
      ranges++;
    }
    // A range that starts past the end: 416 InvalidRange.
    await expectError(() => client.send(new GetObjectCommand({ Bucket: bucket, Key: key,
      Range: `bytes=${n}-${n + 99}` })), 416, "InvalidRange", `GET ${key} range past the end`);
    // A range that runs past the end is cut to the object.
    const tail = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${n - 1}-${n + 1000}` }));
    checkEq(tail.$metadata.httpStatusCode, 206, `GET ${key} range running past the end: status`);
    checkBytes(await bodyBytes(tail), data.subarray(n - 1), `GET ${key} range running past the end`);
  }
  // Whole blob without Range: 200.
  const whole = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}p0123456789abcdef` }));
  checkEq(whole.$metadata.httpStatusCode, 200, "GET without Range: status");
  checkBytes(await bodyBytes(whole), blobs.get(`${prefix}p0123456789abcdef`), "GET without Range");
  await expectError(() => client.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}pmissing`, Range: "bytes=0-9" })),
    404, "NoSuchKey", "ranged GET of an absent blob");

  // 6. Listing with encoding-type=url, delimiter and fetch-owner, over keys
  //    with spaces, "+", "%" and non-ASCII characters.
  const odd = [`${prefix}dir a/blob é.bin`, `${prefix}dir a/x+y%z`, `${prefix}日本/パック 1`,
    `${prefix}dir a/sub/deep`];
  for (const key of odd) {
    const data = Buffer.from(key);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data,
      ContentMD5: md5b64(data), ContentType: "application/x-kopia" }));
    blobs.set(key, data);
  }
  const lst = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: "/",
    EncodingType: "url", FetchOwner: true }));
  checkEq(lst.EncodingType, "url", "EncodingType echoed");
  checkEq(log.at(-1).query["encoding-type"], "url", "encoding-type sent");
  const direct = [...blobs.keys()].filter((k) => !k.slice(prefix.length).includes("/")).sort();
  const gotKeys = (lst.Contents || []).map((c) => checkEncoded(c.Key, "Key"));
  checkEq(JSON.stringify(gotKeys), JSON.stringify(direct), "keys directly under the prefix (decoded)");
  const gotPrefixes = (lst.CommonPrefixes || []).map((p) => checkEncoded(p.Prefix, "CommonPrefix"));
  checkEq(JSON.stringify(gotPrefixes), JSON.stringify([`${prefix}dir a/`, `${prefix}日本/`]), "CommonPrefixes (decoded)");
  checkEq(urlDecode(lst.Prefix), prefix, "Prefix echoed (decoded)");
  checkEq(lst.IsTruncated, false, "IsTruncated");

  // Deeper, paginated: IsTruncated must come with a token (Kopia treats
  // IsTruncated without NextContinuationToken as a hard error).
  const sub = `${prefix}dir a/`;
  const all = [];
  let token;
  for (let i = 0; ; i++) {
    check(i < 10, "url-encoded listing does not end");
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: sub, EncodingType: "url",
      MaxKeys: 1, ContinuationToken: token }));
    checkEq(page.EncodingType, "url", "EncodingType echoed on a continued page");
    for (const c of page.Contents || []) all.push(checkEncoded(c.Key, "Key"));
    if (!page.IsTruncated) break;
    check(page.NextContinuationToken, "IsTruncated without NextContinuationToken");
    token = page.NextContinuationToken;
  }
  const wantSub = odd.filter((k) => k.startsWith(sub)).sort();
  checkEq(JSON.stringify(all), JSON.stringify(wantSub), "paginated url-encoded listing (decoded)");

  // Without encoding-type the keys come back as they are.
  const plain = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: sub }));
  check(!plain.EncodingType, "EncodingType echoed though not asked for");
  checkEq(JSON.stringify((plain.Contents || []).map((c) => c.Key)), JSON.stringify(wantSub), "listing without encoding-type");

  // 7. Odd keys read back.
  for (const key of odd) {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    checkBytes(await bodyBytes(out), blobs.get(key), `GET ${key}`);
  }

  // 8. Deletes: present keys, then absent ones (never written, or already
  //    deleted) also succeed with 204.
  for (const key of blobs.keys()) {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    checkEq(log.at(-1).status, 204, `DELETE ${key}`);
  }
  for (const key of [`${prefix}p0123456789abcdef`, `${prefix}never-written`]) {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    checkEq(log.at(-1).status, 204, `DELETE of absent ${key}`);
  }
  const left = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  checkEq(left.KeyCount, 0, "KeyCount after deleting every blob");
  return { region, blobs: blobs.size, ranges, requests: log.length };
});
