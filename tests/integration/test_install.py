"""`make install DESTDIR=... PREFIX=...` from the repository root.

Checks the exact set of installed files and their modes, that the binaries
are the ones under test, the @PREFIX@ substitution in the unit, that the live
config is created from the example only when absent (a second install keeps
an edited dedupd.conf), that PREFIX is honoured and must be absolute, and
that the sysusers.d/tmpfiles.d snippets do what docs/INSTALL.md says when
applied to the DESTDIR tree with systemd-sysusers/systemd-tmpfiles --root.

make runs with `-o` on the three programs so it installs the binaries under
test (BINDIR, which may be the ASan build) and never rebuilds them.
"""
import glob
import os
import shutil
import stat
import subprocess
import tempfile
import unittest

from harness import BINDIR, ROOT

PROGS = ("dedupd", "dedupctl", "ddp")
REPO_EXAMPLE = os.path.join(ROOT, "conf", "dedupd.conf.example")


def make_env():
    """The environment without the calling make's flags (make test runs
    us): this make must see only the variables given on its command line."""
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "MAKE_TERMOUT",
              "MAKE_TERMERR", "DESTDIR", "PREFIX", "CONF_EXAMPLE"):
        env.pop(k, None)
    return env


def make_install(destdir, prefix="/usr", extra=()):
    """Runs make install; returns the CompletedProcess."""
    bindir = os.path.abspath(BINDIR)
    cmd = ["make", "--no-print-directory", "-C", ROOT, "install",
           "DESTDIR=" + destdir, "PREFIX=" + prefix, "BINDIR=" + bindir]
    for p in PROGS:
        cmd += ["-o", os.path.join(bindir, p)]
    cmd += list(extra)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env=make_env())


def tree(destdir):
    """Returns {relative path: mode} of every regular file under DESTDIR."""
    out = {}
    for dirpath, _, files in os.walk(destdir):
        for name in files:
            full = os.path.join(dirpath, name)
            out[os.path.relpath(full, destdir)] = stat.S_IMODE(os.lstat(full).st_mode)
    return out


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def expected_files(prefix, with_config):
    """Returns {relative path: mode} that an install must produce."""
    p = prefix.lstrip("/")
    files = {"%s/bin/%s" % (p, n): 0o755 for n in PROGS}
    docs = ["README.md"] + sorted(os.path.relpath(d, ROOT)
                                  for d in glob.glob(os.path.join(ROOT, "docs", "*.md")))
    for d in docs:
        files["%s/share/doc/dedupd/%s" % (p, os.path.basename(d))] = 0o644
    files[p + "/lib/systemd/system/dedupd.service"] = 0o644
    files[p + "/lib/sysusers.d/dedupd.conf"] = 0o644
    files[p + "/lib/tmpfiles.d/dedupd.conf"] = 0o644
    if with_config:
        files["etc/dedupd/dedupd.conf.example"] = 0o644
        files["etc/dedupd/dedupd.conf"] = 0o640
    return files


class InstallTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dedupd-install-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.dest = os.path.join(self.tmp, "root")
        # A config example of our own, so the config logic is tested even
        # in a tree without conf/dedupd.conf.example.
        self.example = os.path.join(self.tmp, "example.conf")
        with open(self.example, "w") as f:
            f.write("# example v1\n")

    def install(self, prefix="/usr", example=None):
        extra = ["CONF_EXAMPLE=" + example] if example else []
        p = make_install(self.dest, prefix, extra)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def assertTree(self, expected):
        got = tree(self.dest)
        self.assertEqual(sorted(got), sorted(expected), "installed file set")
        for path, mode in expected.items():
            self.assertEqual(oct(got[path]), oct(mode), path)

    def test_files_modes_and_contents(self):
        self.install(example=self.example)
        self.assertTree(expected_files("/usr", with_config=True))
        for n in PROGS:
            self.assertEqual(read(os.path.join(self.dest, "usr/bin", n), "rb"),
                             read(os.path.join(BINDIR, n), "rb"), n)
        for d in ["README.md"] + glob.glob(os.path.join(ROOT, "docs", "*.md")):
            inst = os.path.join(self.dest, "usr/share/doc/dedupd", os.path.basename(d))
            self.assertEqual(read(inst), read(os.path.join(ROOT, d)), d)
        for src, dst in (("dedupd.sysusers", "usr/lib/sysusers.d/dedupd.conf"),
                         ("dedupd.tmpfiles", "usr/lib/tmpfiles.d/dedupd.conf")):
            self.assertEqual(read(os.path.join(self.dest, dst)),
                             read(os.path.join(ROOT, "systemd", src)), src)
        self.assertTrue(glob.glob(os.path.join(ROOT, "docs", "*.md")), "no docs/*.md")
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.dest, "etc/dedupd")).st_mode),
                         0o755)

    def test_unit_prefix_substituted(self):
        self.install(example=self.example)
        unit = read(os.path.join(self.dest, "usr/lib/systemd/system/dedupd.service"))
        src = read(os.path.join(ROOT, "systemd", "dedupd.service"))
        self.assertIn("@PREFIX@", src)
        self.assertNotIn("@PREFIX@", unit)
        self.assertEqual(unit, src.replace("@PREFIX@", "/usr"))
        self.assertIn("\nExecStart=/usr/bin/dedupd -c /etc/dedupd/dedupd.conf ", unit)

    def test_prefix_usr_local(self):
        self.install(prefix="/usr/local", example=self.example)
        self.assertTree(expected_files("/usr/local", with_config=True))
        unit = read(os.path.join(self.dest, "usr/local/lib/systemd/system/dedupd.service"))
        self.assertIn("\nExecStart=/usr/local/bin/dedupd ", unit)
        self.assertNotIn("/usr/bin/dedupd", unit)

    def test_relative_prefix_rejected(self):
        p = make_install(self.dest, "usr")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("PREFIX must be an absolute path", p.stderr)
        self.assertFalse(os.path.exists(self.dest))

    def test_config_from_example_only_if_absent(self):
        conf = os.path.join(self.dest, "etc/dedupd/dedupd.conf")
        example = os.path.join(self.dest, "etc/dedupd/dedupd.conf.example")
        self.install(example=self.example)
        self.assertEqual(read(conf), "# example v1\n")
        # The admin edits the config (and tightens its mode); an upgrade
        # brings a new example. The edit must survive, the example update.
        with open(conf, "w") as f:
            f.write("# edited by the admin\n")
        os.chmod(conf, 0o600)
        with open(self.example, "w") as f:
            f.write("# example v2\n")
        p = self.install(example=self.example)
        self.assertIn("keeping existing", p.stdout)
        self.assertEqual(read(conf), "# edited by the admin\n")
        self.assertEqual(stat.S_IMODE(os.stat(conf).st_mode), 0o600)
        self.assertEqual(read(example), "# example v2\n")

    def test_repository_example_installed(self):
        if not os.path.exists(REPO_EXAMPLE):
            self.skipTest("conf/dedupd.conf.example not in this tree yet")
        self.install()
        self.assertTree(expected_files("/usr", with_config=True))
        for name in ("dedupd.conf", "dedupd.conf.example"):
            self.assertEqual(read(os.path.join(self.dest, "etc/dedupd", name)),
                             read(REPO_EXAMPLE), name)

    def test_missing_example_installs_no_config(self):
        p = self.install(example=os.path.join(self.tmp, "absent.conf"))
        self.assertIn("not found, no config installed", p.stderr)
        self.assertTree(expected_files("/usr", with_config=False))

    def test_sysusers_and_tmpfiles_snippets(self):
        for tool in ("systemd-sysusers", "systemd-tmpfiles"):
            if shutil.which(tool) is None:
                self.fail(tool + " not installed (Debian package systemd)")
        self.install(example=self.example)
        os.makedirs(os.path.join(self.dest, "etc"), exist_ok=True)
        # A bare file name is looked up in the sysusers.d/tmpfiles.d search
        # path under --root, as on a host after `make install`.
        p = subprocess.run(["systemd-sysusers", "--root=" + self.dest, "dedupd.conf"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        users = {l.split(":")[0]: l.split(":") for l in
                 read(os.path.join(self.dest, "etc/passwd")).splitlines()}
        groups = {l.split(":")[0]: l.split(":") for l in
                  read(os.path.join(self.dest, "etc/group")).splitlines()}
        self.assertIn("dedupd", users)
        self.assertIn("dedupd", groups)
        user = users["dedupd"]
        self.assertLess(int(user[2]), 1000, "not a system user")
        self.assertNotEqual(int(user[2]), 0)
        self.assertEqual(user[3], groups["dedupd"][2])
        self.assertEqual(user[5], "/var/lib/dedupd")
        self.assertTrue(user[6].endswith("nologin"), user[6])
        if os.geteuid() != 0:
            self.skipTest("applying the tmpfiles.d snippet needs root (chown)")
        conf = os.path.join(self.dest, "etc/dedupd/dedupd.conf")
        os.chmod(conf, 0o644)
        p = subprocess.run(["systemd-tmpfiles", "--root=" + self.dest, "--create",
                            "dedupd.conf"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        st = os.stat(conf)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
        self.assertEqual((st.st_uid, st.st_gid), (0, int(groups["dedupd"][2])))
        self.assertFalse(os.path.exists(os.path.join(self.dest, "etc/dedupd/dedupd.env")),
                         "tmpfiles must not create the optional secrets file")


if __name__ == "__main__":
    unittest.main()
