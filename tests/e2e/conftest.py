"""Shared fixtures for the end-to-end tests: the real binary, real tshark and
tcpdump as oracles, and the bundled sample lab."""
import hashlib
import os
import shutil
import subprocess

import pytest

SOURCE = os.environ.get("PCAPML_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BIN = os.path.abspath(os.environ.get("PCAPML_BIN", os.path.join(SOURCE, "build", "pcapml")))
TESTDATA = os.environ.get("PCAPML_TESTDATA", os.path.join(SOURCE, "tests", "data"))
SAMPLE = os.path.join(SOURCE, "config", "sample")


def run(*args, check=True, **kw):
    """Runs pcapml; returns the CompletedProcess (text mode)."""
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"pcapml {' '.join(map(str, args))} exited {p.returncode}: {p.stderr}")
    return p


def copies_for_every_user(directory, *paths):
    """Copies of paths (mode 755) in directory, which every user can reach:
    for tests that run pcapml or a plugin as another user, whatever folder
    the checkout is in (a clone in /root is closed to them)."""
    copies = []
    for path in paths:
        copy = os.path.join(directory, os.path.basename(path))
        shutil.copy(path, copy)
        os.chmod(copy, 0o755)
        copies.append(copy)
    return copies


def tshark(path, *fields, extra=()):
    """Rows of tshark -T fields for path (one list per frame)."""
    cmd = ["tshark", "-n", "-r", str(path), *extra, "-T", "fields", "-E", "separator=\t"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def tcpdump(path, *args):
    """tcpdump's text for path: -nn -tt (and whatever args add)."""
    p = subprocess.run(["tcpdump", "-nn", "-tt", *args, "-r", str(path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout


def sample_id(key):
    """docs/format.md (Sample IDs): first 8 bytes of SHA-256(key), big-endian."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


@pytest.fixture
def sample():
    return SAMPLE
