"""Real S3 clients pointed at a harness Dedupd (see harness.py).

Each helper returns what the client needs to talk to d's S3 listener with
the given credentials, isolated from the user's own configuration (temp
config files, no shared caches). The clients are the ones the project
installs: Debian's awscli (v2, /usr/bin/aws, not whatever `aws` comes
first on PATH), rclone, restic, s3cmd, and the AWS SDK for JavaScript v3
pinned in tests/clients/js.

It also holds a small SigV4 signer (s3_request) for requests no client
sends on purpose (bad signatures, bad digests, anonymous requests), and
the admin calls below.

ASSUMED ADMIN INTERFACE (the S3 permission tests are written against it;
dedupctl must implement exactly this):

    bin/dedupctl --admin-url URL --access-key AK --secret-key SK --json user add NAME
        creates user NAME with a new key pair; exit 0; prints one JSON object
        on stdout with at least {"user": NAME, "access_key": "...",
        "secret_key": "..."} (the secret is only ever shown here).
    bin/dedupctl --admin-url URL --access-key AK --secret-key SK --json grant USER BUCKET
        grants USER read/write/list on BUCKET (an existing bucket = storage
        unit); exit 0; prints a JSON object (content not checked).

URL is d.admin_url, AK/SK the root credentials. Options come before the
subcommand. A user holds no bucket until granted one; a granted user can
list, read, write and delete objects of that bucket and nothing else
(other buckets answer 403 AccessDenied).
"""
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET
import zlib

import unittest

from harness import ROOT, Dedupd, bin_path

AWS = "/usr/bin/aws" if os.path.exists("/usr/bin/aws") else "aws"
JS_DIR = os.path.join(ROOT, "tests", "clients", "js")


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def aws_env(d, access_key=None, secret_key=None, region="us-east-1"):
    """Environment for `aws --endpoint-url d.s3_url ...`."""
    cfg = _write(os.path.join(d.tmp, "aws-config"),
                 "[default]\nregion = %s\ns3 =\n  addressing_style = path\n" % region)
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("AWS_"):
            del env[k]
    env.update(AWS_ACCESS_KEY_ID=access_key or d.access_key,
               AWS_SECRET_ACCESS_KEY=secret_key or d.secret_key,
               AWS_CONFIG_FILE=cfg,
               AWS_SHARED_CREDENTIALS_FILE=os.path.join(d.tmp, "aws-none"),
               AWS_EC2_METADATA_DISABLED="true", AWS_PAGER="")
    return env


def aws(d, *args, access_key=None, secret_key=None, timeout=300, input=None):
    """Runs the aws CLI against d; returns CompletedProcess (text)."""
    return subprocess.run([AWS, "--endpoint-url", d.s3_url] + list(args),
                          env=aws_env(d, access_key, secret_key),
                          capture_output=True, text=True, timeout=timeout,
                          input=input)


def rclone_config(d, name="dd", access_key=None, secret_key=None):
    """Writes an rclone config with remote `name`; returns its path."""
    return _write(os.path.join(d.tmp, "rclone.conf"),
                  "[%s]\ntype = s3\nprovider = Other\naccess_key_id = %s\n"
                  "secret_access_key = %s\nendpoint = %s\nregion = us-east-1\n"
                  "force_path_style = true\n"
                  % (name, access_key or d.access_key, secret_key or d.secret_key,
                     d.s3_url))


def _env_without_aws():
    """os.environ less AWS_* (e.g. a host's AWS_CA_BUNDLE, which makes
    rclone's SDK fail on plain HTTP, or stray credentials)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


def rclone(d, *args, timeout=300):
    conf = rclone_config(d)
    return subprocess.run(["rclone", "--config", conf] + list(args),
                          capture_output=True, text=True, timeout=timeout,
                          env=_env_without_aws())


def restic_env(d, bucket, password="dedupd-test"):
    env = _env_without_aws()
    env.update(RESTIC_REPOSITORY="s3:%s/%s" % (d.s3_url, bucket),
               RESTIC_PASSWORD=password, AWS_ACCESS_KEY_ID=d.access_key,
               AWS_SECRET_ACCESS_KEY=d.secret_key,
               RESTIC_CACHE_DIR=os.path.join(d.tmp, "restic-cache"))
    return env


def restic(d, bucket, *args, timeout=600):
    return subprocess.run(["restic"] + list(args), env=restic_env(d, bucket),
                          capture_output=True, text=True, timeout=timeout)


def s3cmd_config(d):
    host = "%s:%d" % d.addrs["s3"]
    return _write(os.path.join(d.tmp, "s3cfg"),
                  "[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\n"
                  "host_bucket = %s\nuse_https = False\nsignature_v2 = False\n"
                  "bucket_location = us-east-1\n"
                  % (d.access_key, d.secret_key, host, host))


def s3cmd(d, *args, timeout=300):
    return subprocess.run(["s3cmd", "-c", s3cmd_config(d)] + list(args),
                          capture_output=True, text=True, timeout=timeout)


def node_json(d, script, *args, timeout=600, env=None):
    """Runs a tests/clients/js script; returns (CompletedProcess, summary)
    where summary is the JSON object the script prints last (None if it
    printed none)."""
    p = node(d, script, *args, timeout=timeout, env=env)
    summary = None
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("{"):
            try:
                summary = json.loads(line)
            except ValueError:
                pass
            break
    return p, summary


def node(d, script, *args, timeout=600, env=None):
    """Runs a Node.js script from tests/clients/js with DEDUPD_* env set."""
    e = dict(os.environ)
    # Node 20 here; the SDK warns about its support window on every run.
    e.setdefault("AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED", "true")
    e.update(DEDUPD_S3_URL=d.s3_url, DEDUPD_ACCESS_KEY=d.access_key,
             DEDUPD_SECRET_KEY=d.secret_key)
    e.update(env or {})
    return subprocess.run(["node", os.path.join(JS_DIR, script)] + list(args),
                          env=e, capture_output=True, text=True,
                          timeout=timeout, cwd=JS_DIR)


# -- admin (assumed interface, see the module docstring) ----------------------
def dedupctl(d, *args, timeout=60):
    """Runs bin/dedupctl against d's admin listener as root, --json;
    returns the parsed JSON output. Raises AssertionError on failure."""
    if not os.access(bin_path("dedupctl"), os.X_OK):
        raise AssertionError("%s is missing: the S3 user/grant tests need the admin CLI "
                             "described at the top of clients.py" % bin_path("dedupctl"))
    cmd = [bin_path("dedupctl"), "--admin-url", d.admin_url,
           "--access-key", d.access_key, "--secret-key", d.secret_key,
           "--json"] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError("dedupctl %s failed (%d): %s%s" % (
            " ".join(args), p.returncode, p.stdout, p.stderr))
    try:
        return json.loads(p.stdout)
    except ValueError:
        raise AssertionError("dedupctl %s: output is not JSON: %r"
                             % (" ".join(args), p.stdout))


def admin_create_user(d, name):
    """Creates S3 user `name`; returns (access_key, secret_key)."""
    out = dedupctl(d, "user", "add", name)
    ak, sk = out.get("access_key"), out.get("secret_key")
    if not ak or not sk:
        raise AssertionError("dedupctl user add: no access_key/secret_key in %r" % out)
    return ak, sk


def admin_grant(d, user, bucket):
    """Grants `user` access to `bucket`; returns dedupctl's JSON output."""
    return dedupctl(d, "grant", user, bucket)


# -- raw SigV4 requests --------------------------------------------------------
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _uri_encode(s, keep_slash):
    safe = "-_.~" + ("/" if keep_slash else "")
    return urllib.parse.quote(s, safe=safe)


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sigv4_headers(method, host, path, query, headers, payload_hash,
                  access_key, secret_key, region="us-east-1", now=None):
    """Returns headers (a new dict) with x-amz-date, x-amz-content-sha256
    and Authorization for an AWS SigV4 request. path is the raw,
    unencoded key path ("/bucket/key"); query a list of (name, value)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    h = {k.lower(): str(v).strip() for k, v in headers.items()}
    h["host"] = host
    h["x-amz-date"] = amz_date
    h["x-amz-content-sha256"] = payload_hash
    signed = sorted(h)
    canon_query = "&".join("%s=%s" % (_uri_encode(k, False), _uri_encode(v, False))
                           for k, v in sorted(query))
    canon = "\n".join([method, _uri_encode(path, True), canon_query,
                       "".join("%s:%s\n" % (k, h[k]) for k in signed),
                       ";".join(signed), payload_hash])
    scope = "%s/%s/s3/aws4_request" % (day, region)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(canon.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret_key).encode(), day), region),
                      "s3"), "aws4_request")
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    h["authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
                          "Signature=%s" % (access_key, scope, ";".join(signed), sig))
    return h


class S3Response:
    """status, headers (lower-case names), body bytes, and the parsed
    <Error><Code> if the body is an S3 error document (else None)."""

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body
        self.code = self.message = None
        if body.lstrip().startswith(b"<"):
            try:
                root = ET.fromstring(body)
            except ET.ParseError:
                return
            if root.tag == "Error":
                self.code = root.findtext("Code")
                self.message = root.findtext("Message")

    def __repr__(self):
        return "S3Response(%d, code=%r, body=%r)" % (self.status, self.code, self.body[:300])


def s3_request(d, method, path, query=(), headers=None, body=b"",
               access_key=None, secret_key=None, sign=True,
               payload_hash=None, now=None, timeout=60):
    """Sends one request to d's S3 listener; returns an S3Response.

    path is unencoded ("/bucket/key with space"); query a list of (k, v)
    pairs. sign=False sends it anonymously. payload_hash defaults to the
    body's SHA-256 (pass "UNSIGNED-PAYLOAD" or a wrong value on purpose)."""
    host = "%s:%d" % d.addrs["s3"]
    headers = dict(headers or {})
    if payload_hash is None:
        payload_hash = hashlib.sha256(body).hexdigest()
    if sign:
        headers = sigv4_headers(method, host, path, list(query), headers, payload_hash,
                                access_key or d.access_key, secret_key or d.secret_key,
                                now=now)
    url = _uri_encode(path, True)
    if query:
        url += "?" + "&".join("%s=%s" % (_uri_encode(k, False), _uri_encode(v, False))
                              for k, v in query)
    conn = http.client.HTTPConnection(*d.addrs["s3"], timeout=timeout)
    try:
        conn.request(method, url, body=body if body or method in ("PUT", "POST") else None,
                     headers=headers)
        r = conn.getresponse()
        data = r.read()
        return S3Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()


def b64md5(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def make_bucket(d, name, **kw):
    """Creates bucket `name` with a signed PUT /name (root unless
    access_key/secret_key given); raises AssertionError unless 200."""
    r = s3_request(d, "PUT", "/" + name, **kw)
    if r.status != 200:
        raise AssertionError("CreateBucket %s: %r" % (name, r))
    return r


class SharedDedupdCase(unittest.TestCase):
    """One dedupd for all tests of the class (cls.d), so a file of client
    tests starts the daemon once; tests use distinct buckets. Set
    dedupd_config to pass a config file. tearDownClass fails the class if
    dedupd does not exit cleanly."""
    dedupd_config = None
    dedupd_args = ()
    dedupd_env = None

    @classmethod
    def setUpClass(cls):
        cls.d = Dedupd(args=cls.dedupd_args, config=cls.dedupd_config, env=cls.dedupd_env)
        try:
            cls.d.start()
        except BaseException:
            cls.d.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.d.proc and cls.d.proc.poll() is None:
                cls.d.stop()
        finally:
            cls.d.cleanup()


def put_object(d, bucket, key, data, headers=None, **kw):
    """Signed single PUT (setup for tests of other calls); asserts 200."""
    r = s3_request(d, "PUT", "/%s/%s" % (bucket, key), headers=headers, body=data, **kw)
    if r.status != 200:
        raise AssertionError("PUT %s/%s: %r" % (bucket, key, r))
    return r


def list_keys(d, bucket, prefix="", **kw):
    """All keys under prefix (ListObjectsV2, following continuation
    tokens); asserts 200 on every page."""
    keys, token = [], None
    for _ in range(10000):
        q = [("list-type", "2"), ("prefix", prefix)]
        if token:
            q.append(("continuation-token", token))
        r = s3_request(d, "GET", "/" + bucket, query=q, **kw)
        if r.status != 200:
            raise AssertionError("ListObjectsV2 %s: %r" % (bucket, r))
        root = ET.fromstring(r.body)
        pre = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        keys += [c.findtext(pre + "Key") for c in root.findall(pre + "Contents")]
        if root.findtext(pre + "IsTruncated") != "true":
            return keys
        token = root.findtext(pre + "NextContinuationToken")
        if not token:
            raise AssertionError("IsTruncated without NextContinuationToken")
    raise AssertionError("listing of %s does not end" % bucket)


# -- deterministic test data -----------------------------------------------------
def data_of(size, seed):
    """size pseudo-random bytes, the same for the same (size, seed); no
    internal repetition, so an offset error in a read cannot go unseen."""
    return random.Random("dedupd-%s" % (seed,)).randbytes(size)


def md5hex(b):
    return hashlib.md5(b).hexdigest()


def multipart_etag(parts):
    """S3's ETag of a multipart object: MD5 of the parts' MD5s, "-N"."""
    return '"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(),
                        len(parts))


def crc32_b64(b):
    """x-amz-checksum-crc32 value: big-endian CRC32, base64."""
    return base64.b64encode(zlib.crc32(b).to_bytes(4, "big")).decode()


ERR_RE = re.compile(r"An error occurred \(([^)]+)\)")


class AwsCliCase(SharedDedupdCase):
    """Helpers for tests driving the aws CLI against cls.d."""

    def write(self, name, data):
        path = os.path.join(self.d.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def cli(self, *args, timeout=300):
        p = aws(self.d, *args, timeout=timeout)
        self.assertEqual(p.returncode, 0, "aws %s failed:\n%s%s" % (" ".join(args), p.stdout, p.stderr))
        return p.stdout

    def api(self, *args):
        out = self.cli("s3api", *args)
        return json.loads(out) if out.strip() else {}

    def api_error(self, *args):
        """Runs an s3api call that must fail; returns the S3 error code."""
        p = aws(self.d, "s3api", *args)
        self.assertNotEqual(p.returncode, 0, "aws s3api %s succeeded:\n%s" % (" ".join(args), p.stdout))
        m = ERR_RE.search(p.stderr)
        self.assertIsNotNone(m, "no S3 error in: %s" % p.stderr)
        return m.group(1)

    def mb(self, bucket):
        self.assertIn("make_bucket: %s" % bucket, self.cli("s3", "mb", "s3://" + bucket))

    def put(self, bucket, key, data, *extra):
        path = self.write("put-" + md5hex(key.encode()), data)
        return self.api("put-object", "--bucket", bucket, "--key", key, "--body", path, *extra)

    def get(self, bucket, key, *extra):
        out = os.path.join(self.d.tmp, "get-" + md5hex((bucket + key + repr(extra)).encode()))
        meta = self.api("get-object", "--bucket", bucket, "--key", key, *extra, out)
        data = self.read(out)
        os.unlink(out)
        return meta, data

    def keys(self, bucket, prefix=""):
        return list_keys(self.d, bucket, prefix)

    def put_raw(self, bucket, key, data):
        """Setup PUT without the CLI (each aws run costs a second)."""
        return put_object(self.d, bucket, key, data)


def make_tree(root, seed, big=0):
    """Writes a tree of files under root whose contents share long runs
    (whole duplicate files, common prefixes, a shared 300 KB block), with
    an empty file, a space and a non-ASCII name; plus one file of `big`
    bytes when big > 0. Returns {relative path: bytes}."""
    shared = data_of(300000, "shared-%s" % seed)
    files = {}
    for i in range(14):
        rel = ["a.txt", "b/c.txt", "b/d/e.bin", "b/d/f.bin", "g/h/i/j.dat", "k l/m.bin",
               "ü/ñ.txt"][i % 7].replace(".", "%d." % i)
        if i % 4 == 0:
            files[rel] = shared
        else:
            files[rel] = shared[:1000 * i] + data_of(5000 * i, "%s-%d" % (seed, i))
    files["copy/of-b1.txt"] = files["b/c1.txt"]
    files["empty"] = b""
    if big:
        files["big/large.bin"] = data_of(big, "big-%s" % seed)
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    return files


def read_tree(root):
    """{relative path: bytes} of every file under root."""
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            full = os.path.join(dirpath, n)
            with open(full, "rb") as f:
                out[os.path.relpath(full, root)] = f.read()
    return out
