"""Checks systemd/dedupd.service offline, with the systemd tools of this host.

There is no running systemd here (the tests run in a container), so the
checks are the ones systemd-analyze can do without PID 1:

- `systemd-analyze security --offline=true`: the overall exposure must be
  2.0 or lower (and a unit without the sandbox must score worse, so the
  parsing really measures something);
- `systemd-analyze verify`: no warning at all, with ExecStart pointing at
  the binary under test;
- the seccomp filter, expanded with `systemd-analyze syscall-filter`, still
  allows every system call dedupd needs;
- the settings issue #2 asks for (Type=notify, user, directories, reload,
  restart, limits, address families).

Each check renders the unit the way `make install` does (@PREFIX@ replaced)
into a temporary dedupd.service.
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import BINDIR, ROOT

UNIT_SRC = os.path.join(ROOT, "systemd", "dedupd.service")
EXPOSURE_RE = re.compile(r"Overall exposure level for (\S+): (\d+(?:\.\d+)?)")
MAX_EXPOSURE = 2.0

# System calls dedupd cannot work without: file I/O and durability (segment
# containers, LMDB), mmap and robust mutexes (LMDB), threads, the event loop,
# TCP listeners and the sd_notify datagram, signals, time and randomness.
NEEDED_SYSCALLS = """
    read write pread64 pwrite64 readv writev openat close fstat newfstatat
    statx lseek fsync fdatasync msync ftruncate fallocate rename renameat2
    unlinkat mkdirat getdents64 fcntl flock
    mmap munmap mprotect madvise mremap brk
    futex clone clone3 set_robust_list rseq sched_yield sched_getaffinity
    epoll_create1 epoll_ctl epoll_wait epoll_pwait eventfd2 pipe2 poll ppoll
    socket bind listen accept4 connect setsockopt getsockopt getsockname
    getpeername sendmsg sendto recvfrom recvmsg shutdown
    rt_sigaction rt_sigprocmask rt_sigreturn sigaltstack
    clock_gettime nanosleep clock_nanosleep getrandom getpid gettid
    prlimit64 sysinfo uname exit exit_group
""".split()

# Calls a compromised dedupd must not get (a sample of the dangerous ones).
DENIED_SYSCALLS = """
    ptrace mount umount2 pivot_root chroot reboot kexec_load init_module
    setuid setgid setgroups setresuid capset settimeofday clock_settime
    swapon bpf perf_event_open acct sethostname
""".split()


def render(prefix, directory):
    """Writes the unit with @PREFIX@ replaced (as `make install` does) to
    DIRECTORY/dedupd.service and returns that path."""
    with open(UNIT_SRC) as f:
        text = f.read()
    path = os.path.join(directory, "dedupd.service")
    with open(path, "w") as f:
        f.write(text.replace("@PREFIX@", prefix))
    return path


def parse_unit(path):
    """Returns [(section, key, value)] in file order (keys may repeat, which
    configparser cannot represent)."""
    entries, section = [], None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                continue
            key, sep, value = line.partition("=")
            if not sep:
                raise AssertionError("malformed unit line: %r" % raw)
            entries.append((section, key.strip(), value.strip()))
    return entries


def values(entries, section, key):
    return [v for s, k, v in entries if s == section and k == key]


def one(entries, section, key):
    vals = values(entries, section, key)
    if len(vals) != 1:
        raise AssertionError("[%s] %s= set %d times, want once" % (section, key, len(vals)))
    return vals[0]


def analyze(*args):
    return subprocess.run(["systemd-analyze"] + list(args), capture_output=True,
                          text=True, timeout=60)


def exposure_of(path):
    """Runs the offline security review; returns (exposure, process)."""
    p = analyze("security", "--offline=true", path)
    found = EXPOSURE_RE.findall(p.stdout)
    if len(found) != 1:
        raise AssertionError("no single exposure line in:\n" + p.stdout + p.stderr)
    unit, level = found[0]
    if unit != os.path.basename(path):
        raise AssertionError("exposure reported for %s, not %s" % (unit, path))
    return float(level), p


def syscall_groups():
    """Returns {"@group": [member, ...]} from `systemd-analyze syscall-filter`;
    members may be groups themselves."""
    p = analyze("syscall-filter")
    if p.returncode != 0:
        raise AssertionError("syscall-filter failed: " + p.stderr)
    groups, current = {}, None
    for line in p.stdout.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif line.startswith("    ") and current is not None:
            word = line.strip()
            if word and not word.startswith("#"):
                current.append(word)
        elif not line.strip():
            current = None
    return groups


def expand(names, groups, seen=None):
    """Returns the set of system calls named by NAMES (groups expanded)."""
    out = set()
    seen = set() if seen is None else seen
    for name in names:
        if name.startswith("@"):
            if name in seen:
                continue
            seen.add(name)
            if name not in groups:
                raise AssertionError("unknown syscall group " + name)
            out |= expand(groups[name], groups, seen)
        else:
            out.add(name)
    return out


def effective_syscall_allow_list(filters, groups):
    """Applies SystemCallFilter= lines the way systemd does: the first line
    decides allow-list (no "~") or deny-list mode; later allow lines add,
    later "~" lines remove. Returns the allowed set (allow-list mode only)."""
    if not filters or filters[0].startswith("~"):
        raise AssertionError("SystemCallFilter= must start with an allow list")
    allowed = set()
    for spec in filters:
        deny = spec.startswith("~")
        names = spec.lstrip("~").split()
        if deny:
            allowed -= expand(names, groups)
        else:
            allowed |= expand(names, groups)
    return allowed


class SystemdUnitTest(unittest.TestCase):
    def setUp(self):
        if shutil.which("systemd-analyze") is None:
            self.fail("systemd-analyze not installed (Debian package systemd, "
                      "listed in tools/install-deps.sh)")
        self.tmp = tempfile.mkdtemp(prefix="dedupd-unit-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_offline_security_exposure_at_most_2(self):
        path = render("/usr", self.tmp)
        level, p = exposure_of(path)
        print("systemd-analyze security --offline=true: exposure %.1f" % level)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertLessEqual(level, MAX_EXPOSURE, p.stdout)
        # systemd's own comparison (threshold is in tenths) agrees.
        p = analyze("security", "--offline=true",
                    "--threshold=%d" % round(MAX_EXPOSURE * 10), path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_exposure_measure_rejects_unsandboxed_unit(self):
        # The same service without any sandboxing line must score above the
        # limit, or the test above would pass whatever the unit says.
        entries = parse_unit(render("/usr", self.tmp))
        keep = {"Type", "User", "Group", "ExecStart", "ExecReload", "Restart"}
        bare = os.path.join(self.tmp, "bare", "dedupd.service")
        os.makedirs(os.path.dirname(bare))
        with open(bare, "w") as f:
            f.write("[Unit]\nDescription=bare\n[Service]\n")
            for s, k, v in entries:
                if s == "Service" and k in keep:
                    f.write("%s=%s\n" % (k, v))
        level, _ = exposure_of(bare)
        self.assertGreater(level, MAX_EXPOSURE)

    def test_verify_clean_with_binary_under_test(self):
        # ExecStart=@PREFIX@/bin/dedupd must name an executable for verify,
        # so the prefix is the parent of the bin/ directory under test.
        prefix = os.path.dirname(os.path.abspath(BINDIR))
        self.assertTrue(os.access(os.path.join(prefix, "bin", "dedupd"), os.X_OK),
                        "no dedupd binary under " + prefix)
        path = render(prefix, self.tmp)
        p = analyze("verify", path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stdout + p.stderr, "", "verify printed warnings")

    def test_verify_catches_missing_binary(self):
        # Shows verify works offline here: a wrong prefix is an error.
        path = render(os.path.join(self.tmp, "nowhere"), self.tmp)
        p = analyze("verify", path)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("/nowhere/bin/dedupd", p.stdout + p.stderr)

    def test_syscall_filter_allows_what_dedupd_needs(self):
        entries = parse_unit(render("/usr", self.tmp))
        filters = values(entries, "Service", "SystemCallFilter")
        allowed = effective_syscall_allow_list(filters, syscall_groups())
        missing = sorted(set(NEEDED_SYSCALLS) - allowed)
        self.assertEqual(missing, [], "sandbox blocks system calls dedupd needs")
        granted = sorted(set(DENIED_SYSCALLS) & allowed)
        self.assertEqual(granted, [], "sandbox allows privileged system calls")
        self.assertEqual(one(entries, "Service", "SystemCallArchitectures"), "native")

    def test_settings_from_issue_2(self):
        e = parse_unit(render("/usr", self.tmp))
        svc = lambda k: one(e, "Service", k)  # noqa: E731
        self.assertEqual(svc("Type"), "notify")
        self.assertEqual(svc("NotifyAccess"), "main")
        self.assertEqual(svc("User"), "dedupd")
        self.assertEqual(svc("StateDirectory"), "dedupd")
        self.assertEqual(svc("ConfigurationDirectory"), "dedupd")
        argv = svc("ExecStart").split()
        self.assertEqual(argv[0], "/usr/bin/dedupd")
        opts = dict(zip(argv[1::2], argv[2::2]))
        self.assertEqual(len(argv), 1 + 2 * len(opts), argv)
        self.assertEqual(opts.get("-c"), "/etc/dedupd/dedupd.conf")
        self.assertEqual(opts.get("--data-dir"), "/var/lib/dedupd")
        self.assertEqual(one(e, "Unit", "AssertPathExists"), "/etc/dedupd/dedupd.conf")
        self.assertRegex(svc("ExecReload"), r"^/bin/kill -(HUP|s HUP|SIGHUP) \$MAINPID$")
        self.assertEqual(svc("Restart"), "on-failure")
        self.assertRegex(svc("TimeoutStopSec"), r"^\d+s$")
        self.assertGreaterEqual(int(svc("LimitNOFILE")), 4096)
        families = set(svc("RestrictAddressFamilies").split())
        self.assertEqual(families, {"AF_INET", "AF_INET6", "AF_UNIX"})
        # Nothing that would cut dedupd off its network or its data.
        self.assertEqual(values(e, "Service", "PrivateNetwork"), [])
        self.assertEqual(values(e, "Service", "IPAddressDeny"), [])
        self.assertEqual(values(e, "Service", "ReadOnlyPaths"), [])
        self.assertEqual(svc("ProtectSystem"), "strict")
        self.assertEqual(svc("CapabilityBoundingSet"), "")
        self.assertEqual(svc("MemoryDenyWriteExecute"), "yes")
        self.assertEqual(one(e, "Install", "WantedBy"), "multi-user.target")


if __name__ == "__main__":
    unittest.main()
