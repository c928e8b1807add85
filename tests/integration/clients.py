"""Real S3 clients pointed at a harness Dedupd (see harness.py).

Each helper returns what the client needs to talk to d's S3 listener with
the given credentials, isolated from the user's own configuration (temp
config files, no shared caches). The clients are the ones the project
installs: Debian's awscli (v2, /usr/bin/aws, not whatever `aws` comes
first on PATH), rclone, restic, s3cmd, and the AWS SDK for JavaScript v3
pinned in tests/clients/js.
"""
import os
import subprocess

from harness import ROOT

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


def rclone(d, *args, timeout=300):
    conf = rclone_config(d)
    return subprocess.run(["rclone", "--config", conf] + list(args),
                          capture_output=True, text=True, timeout=timeout)


def restic_env(d, bucket, password="dedupd-test"):
    env = dict(os.environ)
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


def node(d, script, *args, timeout=600, env=None):
    """Runs a Node.js script from tests/clients/js with DEDUPD_* env set."""
    e = dict(os.environ)
    e.update(DEDUPD_S3_URL=d.s3_url, DEDUPD_ACCESS_KEY=d.access_key,
             DEDUPD_SECRET_KEY=d.secret_key)
    e.update(env or {})
    return subprocess.run(["node", os.path.join(JS_DIR, script)] + list(args),
                          env=e, capture_output=True, text=True,
                          timeout=timeout, cwd=JS_DIR)
