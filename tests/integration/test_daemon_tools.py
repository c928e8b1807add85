"""The CLIs answer --help/--version and refuse unknown options/commands
(their commands: test_admin.py for dedupctl, test_ddp.py for ddp)."""
import unittest

from harness import run_tool


class TestTools(unittest.TestCase):
    def check_tool(self, name):
        r = run_tool(name, "--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout.decode(), r"^%s \d+\.\d+\.\d+\n$" % name)
        r = run_tool(name, "--help")
        self.assertEqual(r.returncode, 0)
        out = r.stdout.decode()
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT CODES"):
            self.assertIn(section, out)
        for args in (("--bogus",), ("frobnicate",), ()):
            r = run_tool(name, *args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(b"usage: " + name.encode(), r.stderr)
            self.assertEqual(r.stdout, b"")

    def test_dedupctl(self):
        self.check_tool("dedupctl")

    def test_ddp(self):
        self.check_tool("ddp")


if __name__ == "__main__":
    unittest.main()
