"""`pcapml daemon --check-config` checks what it can without capturing, and
the daemon refuses to start on the same problems: one line each, naming the
file, line and key (never a library's own words)."""
import os
import shutil
import socket
import stat
import struct
import subprocess
import tempfile

import pytest

from conftest import BIN, SOURCE, copies_for_every_user, run
from daemon_util import Daemon, free_port, write_config

TRACE = os.path.join(SOURCE, "config", "sample", "trace.pcap")
RULES = os.path.join(SOURCE, "config", "sample", "metadata.csv")


def line_of(path, text):
    return path.read_text().splitlines().index(text) + 1


def refused(cfg, *, check_only=False):
    """stderr of --check-config (exit 1), and of the daemon run with the config (exit 1, nothing started):
    the same lines, one per problem."""
    p = run("daemon", "--check-config", cfg, check=False)
    assert p.returncode == 1 and "ok:" not in p.stdout, (p.stdout, p.stderr)
    if check_only:
        return p.stderr, None
    d = run("daemon", "--config", cfg, check=False, timeout=20)
    assert d.returncode == 1, d.stderr
    for text in (p.stderr, d.stderr):
        assert "CivetServer" not in text and "null context" not in text, text
    assert d.stderr == p.stderr
    return p.stderr, d.stderr


@pytest.fixture
def good(tmp_path):
    cfg = write_config(tmp_path / "d.toml", [{"file": TRACE}], [RULES], tmp_path / "out", port=free_port())
    assert "ok: 1 source(s), 6 rule(s)" in run("daemon", "--check-config", cfg).stdout
    return cfg


def test_missing_interfaces_are_named(tmp_path, good):
    cfg = write_config(tmp_path / "i.toml", [{"interface": "lo"}, {"interface": "nosuch0"}, {"interface": "nosuch1"}],
                       [RULES], tmp_path / "out")
    check, _ = refused(cfg)
    lines = check.splitlines()
    n0 = [i + 1 for i, l in enumerate(cfg.read_text().splitlines()) if l == 'interface = "nosuch0"'][0]
    assert f"pcapml: {cfg}:{n0}: source 2 interface: no interface 'nosuch0' here (there are: " in lines[0], check
    assert "source 3 interface: no interface 'nosuch1'" in lines[1] and len(lines) == 2, check
    assert "lo" in lines[0].split("(there are: ")[1].rstrip(")").split(", ")


@pytest.mark.parametrize("listen,at_load,why", [("127.0.0.1:99999", True, "port must be a number from 0 to 65535"),
                                                ("::1:9431", True, "write an IPv6 address in brackets, e.g. [::1]:9431"),
                                                ("192.0.2.1:9431", False, "cannot listen: Cannot assign requested address")])
def test_metrics_listen_address_is_checked(good, listen, at_load, why):
    good.write_text(good.read_text().replace(f'listen = "127.0.0.1:', f'listen = "{listen}"\n# was "127.0.0.1:'))
    check, _ = refused(good)
    n = line_of(good, f'listen = "{listen}"')
    # A malformed address fails as the config is read ("[metrics]: listen"), a good one that cannot be bound in
    # the check of the machine ("[metrics] listen").
    assert check == f'pcapml: {good}:{n}: [metrics]{":" if at_load else ""} listen "{listen}": {why}\n', check


def test_metrics_port_taken(good):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        text = good.read_text()
        good.write_text(text[:text.index('listen = ')] + f'listen = "127.0.0.1:{port}"\n')
        check, _ = refused(good)
        n = line_of(good, f'listen = "127.0.0.1:{port}"')
        assert check == f'pcapml: {good}:{n}: [metrics] listen "127.0.0.1:{port}": cannot listen: ' \
                        "Address already in use\n", check
        # The command line's address is named as such.
        p = run("daemon", "--config", good, "--metrics-listen", f"127.0.0.1:{port}", check=False, timeout=20)
        assert p.returncode == 1 and p.stderr == f'pcapml: --metrics-listen "127.0.0.1:{port}": cannot listen: ' \
                                                 "Address already in use\n", p.stderr


def test_output_directory_missing_or_not_a_directory(tmp_path, good):
    shutil.rmtree(tmp_path / "out")
    check, _ = refused(good)
    n = line_of(good, f'directory = "{tmp_path / "out"}"')
    assert check == f"pcapml: {good}:{n}: [output] directory: {tmp_path / 'out'} does not exist (pcapml does not " \
                    "create it; mkdir it, or let systemd's StateDirectory= do so)\n", check
    (tmp_path / "out").write_text("a file")
    check, _ = refused(good, check_only=True)
    assert check.endswith(f"[output] directory: {tmp_path / 'out'} is not a directory\n"), check


def test_output_directory_writable_by_the_user_the_daemon_runs_as(tmp_path):
    top = tempfile.mkdtemp(prefix="pcapml-check-")
    try:
        os.chmod(top, 0o755)
        shutil.copy(RULES, os.path.join(top, "rules.csv"))
        # nobody runs copies of the binary and trace: the checkout may be closed to it.
        nobody_bin, trace = copies_for_every_user(top, BIN, TRACE)
        out = os.path.join(top, "out")
        cfg = write_config(tmp_path / "d.toml", [{"file": trace}], [os.path.join(top, "rules.csv")], out)
        os.chmod(out, 0o755)  # root's
        # Run as nobody (no `user` key): nobody runs the daemon and cannot write there.
        shutil.copy(cfg, os.path.join(top, "d.toml"))
        ncfg = os.path.join(top, "d.toml")
        p = subprocess.run([nobody_bin, "daemon", "--check-config", ncfg], capture_output=True, text=True,
                           user="nobody")
        assert p.returncode == 1 and f"[output] directory: {out} is not writable by user 'nobody', who runs the " \
                                      "daemon: Permission denied" in p.stderr, p.stderr
        os.chmod(out, 0o777)
        p = subprocess.run([nobody_bin, "daemon", "--check-config", ncfg], capture_output=True, text=True,
                           user="nobody")
        assert p.returncode == 0 and "ok:" in p.stdout, p.stderr
        # As root with user = "nobody": the daemon gives nobody the directory, but nobody must be able to reach it.
        os.chmod(out, 0o755)
        text = cfg.read_text()
        cfg.write_text('user = "nobody"\n' + text)
        env = {k: v for k, v in os.environ.items() if k != "INVOCATION_ID"}
        assert "ok:" in run("daemon", "--check-config", cfg, env=env).stdout
        os.chmod(top, 0o700)
        p = run("daemon", "--check-config", cfg, check=False, env=env)
        assert p.returncode == 1 and f"user 'nobody', who runs the daemon, cannot reach it: {top} is closed to it" \
            in p.stderr, p.stderr
        cfg.write_text('user = "nosuchuser"\n' + text)
        p = run("daemon", "--check-config", cfg, check=False, env=env)
        assert p.stderr.startswith(f"pcapml: {cfg}:1: user: no user 'nosuchuser' here\n"), p.stderr
    finally:
        shutil.rmtree(top)


def test_post_rotate_program_must_run(tmp_path, good):
    text = good.read_text()
    good.write_text(text.replace('prefix = "t"', 'prefix = "t"\npost_rotate = "nosuch-ship-tool {path}"'))
    check, _ = refused(good)
    n = line_of(good, 'post_rotate = "nosuch-ship-tool {path}"')
    assert check.startswith(f"pcapml: {good}:{n}: [output] post_rotate: program 'nosuch-ship-tool' is not an "
                            "executable in PATH ("), check
    script = tmp_path / "ship.sh"
    script.write_text("#!/bin/sh\n")
    good.write_text(text.replace('prefix = "t"', f'prefix = "t"\npost_rotate = "{script} {{path}}"'))
    check, _ = refused(good, check_only=True)
    assert check.endswith(f"[output] post_rotate: program '{script}' is not an executable file\n"), check
    script.chmod(0o755)
    assert "ok:" in run("daemon", "--check-config", good).stdout


def test_rules_compile_for_the_sources_link_types(tmp_path):
    # A raw-IP capture (LINKTYPE_RAW): "mpls" compiles for Ethernet but not for it.
    raw = tmp_path / "raw.pcap"
    ip = bytes.fromhex("450000140000000040ff0000c6120001c6120002")
    raw.write_bytes(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101) +
                    struct.pack("<IIII", 1, 0, len(ip), len(ip)) + ip)
    rules = tmp_path / "rules.csv"
    rules.write_text("BPF:mpls,labeled\n")
    cfg = write_config(tmp_path / "d.toml", [{"file": str(raw)}], [rules], tmp_path / "out")
    check, _ = refused(cfg)
    assert f"{rules}:1" in check and "link type 101" in check, check


def test_capture_filter_and_plugin_are_checked(tmp_path):
    cfg = write_config(tmp_path / "d.toml", [{"interface": "lo", "filter": "tcp port http-nonsense"}], [RULES],
                       tmp_path / "out")
    check, _ = refused(cfg, check_only=True)
    n = line_of(cfg, 'filter = "tcp port http-nonsense"')
    assert check.startswith(f"pcapml: {cfg}:{n}: source 1 filter: invalid capture filter 'tcp port "
                            "http-nonsense': "), check
    cfg = write_config(tmp_path / "d.toml", [{"file": TRACE}], [RULES], tmp_path / "out",
                       top=f'[[plugin]]\nname = "tls_sni"\npath = "{tmp_path / "missing.so"}"\n')
    check, _ = refused(cfg)
    assert check == f"pcapml: {cfg}:1: {tmp_path / 'missing.so'}: No such file or directory\n", check
