// Multipart uploads the way the current AWS SDK for JavaScript v3 makes
// them, against a dedupd bucket (issue #4):
//
//   1. @aws-sdk/lib-storage Upload with the DEFAULT checksum settings:
//      CreateMultipartUpload with ChecksumAlgorithm CRC32, parts with CRC32,
//      Complete with each part's ChecksumCRC32: the result carries the
//      COMPOSITE checksum "<b64 crc32 of the part crc32s>-3"; HeadObject and
//      GetObject with ChecksumMode ENABLED return it (the SDK skips
//      validating "-N" values).
//   2. Upload with ChecksumAlgorithm CRC64NVME (FULL_OBJECT by default) and
//      with CRC32 + ChecksumType FULL_OBJECT: the object checksum is the CRC
//      of the whole object, which GetObject with ChecksumMode ENABLED makes
//      the SDK validate over the body it receives.
//   3. UploadPartCopyCommand with and without CopySourceRange, then Complete.
//   4. ListMultipartUploadsCommand with Prefix and Delimiter.
//
//   node multipart.mjs --bucket B
//
// Exits 0 with a JSON summary when every step behaved as S3 documents.
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand,
  GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, PutObjectCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { Crc64Nvme } from "@aws-sdk/checksums/crc";
import { Upload } from "@aws-sdk/lib-storage";
import crypto from "node:crypto";
import zlib from "node:zlib";
import {
  bodyBytes, check, checkBytes, checkEq, fail, makeClient, option, randomBytes, run,
} from "./common.mjs";

const MiB = 1024 * 1024;
const be32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
const crc32b64 = (buf) => be32(zlib.crc32(buf)).toString("base64");
const md5hex = (buf) => crypto.createHash("md5").update(buf).digest("hex");
async function crc64b64(buf) {
  const c = new Crc64Nvme();
  c.update(buf);
  return Buffer.from(await c.digest()).toString("base64");
}

await run("multipart", async () => {
  const bucket = option("bucket") || fail("--bucket is required");
  const { client, log } = makeClient("path");
  const partSize = 5 * MiB;

  // 1. Default lib-storage upload: COMPOSITE CRC32.
  const data = randomBytes(2 * partSize + 12345, "mp-composite");
  const up = await new Upload({ client, params: { Bucket: bucket, Key: "composite" , Body: data },
    partSize, queueSize: 3 }).done();
  const create = log.find((e) => e.op === "CreateMultipartUploadCommand");
  checkEq(create.headers["x-amz-checksum-algorithm"], "CRC32", "lib-storage's default algorithm");
  const partCrcs = [0, 1, 2].map((i) => be32(zlib.crc32(data.subarray(i * partSize, (i + 1) * partSize))));
  const composite = be32(zlib.crc32(Buffer.concat(partCrcs))).toString("base64") + "-3";
  checkEq(up.ChecksumCRC32, composite, "Complete's ChecksumCRC32 (COMPOSITE)");
  checkEq(up.ChecksumType, "COMPOSITE", "Complete's ChecksumType");
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: "composite", ChecksumMode: "ENABLED" }));
  checkEq(head.ChecksumCRC32, composite, "HeadObject ChecksumCRC32");
  checkEq(head.ChecksumType, "COMPOSITE", "HeadObject ChecksumType");
  const plain = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: "composite" }));
  checkEq(plain.ChecksumCRC32, undefined, "HeadObject without ChecksumMode");
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "composite", ChecksumMode: "ENABLED" }));
  checkBytes(await bodyBytes(got), data, "GetObject of the composite object");

  // 2. FULL_OBJECT: CRC64NVME (its only type) and CRC32 when asked.
  const fullCases = [
    { key: "full-crc64", params: { ChecksumAlgorithm: "CRC64NVME" }, field: "ChecksumCRC64NVME",
      header: "x-amz-checksum-crc64nvme", want: async (b) => crc64b64(b) },
    { key: "full-crc32", params: { ChecksumAlgorithm: "CRC32", ChecksumType: "FULL_OBJECT" },
      field: "ChecksumCRC32", header: "x-amz-checksum-crc32", want: async (b) => crc32b64(b) },
  ];
  for (const c of fullCases) {
    const body = randomBytes(partSize + 777, `mp-${c.key}`);
    const want = await c.want(body);
    const out = await new Upload({ client, params: { Bucket: bucket, Key: c.key, Body: body, ...c.params },
      partSize, queueSize: 2 }).done();
    checkEq(out[c.field], want, `${c.key}: Complete's ${c.field} (FULL_OBJECT)`);
    checkEq(out.ChecksumType, "FULL_OBJECT", `${c.key}: Complete's ChecksumType`);
    const g = await client.send(new GetObjectCommand({ Bucket: bucket, Key: c.key, ChecksumMode: "ENABLED" }));
    checkEq(log.at(-1).respHeaders[c.header], want, `${c.key}: GetObject ${c.header}`);
    // The SDK validates a full-object checksum while the body streams.
    checkBytes(await bodyBytes(g), body, `${c.key}: GetObject body`);
    checkEq(g.ChecksumType, "FULL_OBJECT", `${c.key}: GetObject ChecksumType`);
  }

  // 3. UploadPartCopy: a range of the composite object, then a whole object.
  const small = randomBytes(4321, "mp-small");
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: "src/small", Body: small }));
  const mpu = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "copied" }));
  const first = 1000, last = first + partSize - 1;
  const c1 = await client.send(new UploadPartCopyCommand({ Bucket: bucket, Key: "copied", UploadId: mpu.UploadId,
    PartNumber: 1, CopySource: `${bucket}/composite`, CopySourceRange: `bytes=${first}-${last}` }));
  const range = data.subarray(first, last + 1);
  checkEq(c1.CopyPartResult?.ETag, `"${md5hex(range)}"`, "UploadPartCopy (range) ETag");
  check(c1.CopyPartResult?.LastModified instanceof Date, "UploadPartCopy LastModified");
  const c2 = await client.send(new UploadPartCopyCommand({ Bucket: bucket, Key: "copied", UploadId: mpu.UploadId,
    PartNumber: 2, CopySource: encodeURIComponent(`${bucket}/src/small`) }));
  checkEq(c2.CopyPartResult?.ETag, `"${md5hex(small)}"`, "UploadPartCopy (whole) ETag");
  const done = await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: "copied",
    UploadId: mpu.UploadId, MultipartUpload: { Parts: [
      { PartNumber: 1, ETag: c1.CopyPartResult.ETag }, { PartNumber: 2, ETag: c2.CopyPartResult.ETag }] } }));
  const md5s = Buffer.concat([range, small].map((b) => crypto.createHash("md5").update(b).digest()));
  checkEq(done.ETag, `"${md5hex(md5s)}-2"`, "ETag of the copied object");
  const cg = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "copied" }));
  checkBytes(await bodyBytes(cg), Buffer.concat([range, small]), "GetObject of the part-copied object");

  // 4. ListMultipartUploads with a delimiter.
  const open = [];
  for (const key of ["lmu/a/1", "lmu/a/2", "lmu/b"]) {
    const r = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    open.push([key, r.UploadId]);
  }
  const lmu = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: "lmu/", Delimiter: "/" }));
  checkEq(JSON.stringify((lmu.Uploads || []).map((u) => u.Key)), JSON.stringify(["lmu/b"]), "uploads beside the prefixes");
  checkEq(JSON.stringify((lmu.CommonPrefixes || []).map((p) => p.Prefix)), JSON.stringify(["lmu/a/"]), "CommonPrefixes");
  checkEq(lmu.Delimiter, "/", "Delimiter echoed");
  checkEq(lmu.IsTruncated, false, "IsTruncated");
  for (const [key, id] of open) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id }));
  }
  const after = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  checkEq((after.Uploads || []).length, 0, "uploads left after aborts");
  return { requests: log.length, composite, fullObject: fullCases.map((c) => c.key) };
});
