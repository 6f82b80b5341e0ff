"""The README as a new user reads it: it starts with what pcapml is and the
two commands for a fresh machine, its 30-second example prints what it says,
and its code for reading labels with scapy 2.5.0, dpkt and pcapml's Python
module gives the labels tshark shows."""
import os
import re
import subprocess
import sys

from conftest import BIN, SOURCE, run, tshark

README = open(os.path.join(SOURCE, "README.md")).read()


def blocks_after(marker):
    """The fenced code blocks after an HTML comment containing marker, up to the next heading."""
    part = README.split(marker, 1)[1]
    part = part.split("\n## ", 1)[0]
    return re.findall(r"^```(\w*)\n(.*?)^```$", part, re.M | re.S)


def test_starts_with_what_it_is_and_the_two_commands():
    lines = README.splitlines()
    assert lines[0] == "# pcapml" and lines[1] == ""
    paragraph_end = lines.index("", 2)
    assert "pcapml" in " ".join(lines[2:paragraph_end])
    first_block = [l.strip() for l in lines[paragraph_end + 1:] if l.startswith("    ")][:2]
    assert [l.split()[0] for l in first_block] == ["./run.sh", "./test.sh"]
    rest = lines[paragraph_end + 1:]
    assert rest[0].startswith("On a fresh Debian 12 machine") and rest[1] == ""
    assert rest[2].startswith("    ./run.sh") and rest[3].startswith("    ./test.sh") and rest[4] == ""
    assert lines[paragraph_end + 6] == "## A 30-second example"
    # No word that needs the project's history to understand.
    for word in ("the seed", "seed's", "session 1", "yardstick", "DESIGN", "§", "the issue"):
        assert word not in README, word


def test_install_lists_the_build_packages_deps_sh_installs():
    deps = open(os.path.join(SOURCE, "scripts", "deps.sh")).read()
    build = re.search(r'BUILD_PACKAGES="(.*?)"', deps, re.S).group(1).split()
    listed = re.search(r"    sudo apt-get install (.*?)\n    cmake", README, re.S).group(1).replace("\\\n", " ").split()
    assert sorted(listed) == sorted(build)


def test_the_30_second_example_prints_what_it_shows(tmp_path):
    (commands_lang, commands), (_, shown) = blocks_after("the commands below run")[:2]
    assert commands_lang == "sh"
    os.symlink(os.path.join(SOURCE, "config"), tmp_path / "config")
    os.mkdir(tmp_path / "build")
    os.symlink(BIN, tmp_path / "build" / "pcapml")
    p = subprocess.run(["bash", "-c", "set -e -o pipefail\n" + commands], cwd=tmp_path, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    got = [l.rstrip() for l in (p.stderr + p.stdout).splitlines() if not l.startswith("Running as user")]
    assert got == shown.splitlines()


def run_python(code, cwd, env=None):
    p = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    return p.stdout.splitlines()


def test_reading_labels_without_pcapml(tmp_path):
    """The scapy 2.5.0 and dpkt code read every label tshark shows, in order (unlabeled packets too)."""
    labeled = tmp_path / "labeled.pcapng"
    rules = tmp_path / "rules.csv"
    rules.write_text("BPF:tcp port 80,web,browser=firefox\nBPF:ip6,v6\n")
    run("label", "-P", os.path.join(SOURCE, "config", "sample", "trace.pcap"), "-L", rules, "-W", labeled,
        "--keep-unmatched", "--sensor-id", "lab")
    want = [r[0] for r in tshark(labeled, "frame.comment")]
    assert len(want) == 52 and want.count("") == 52 - 12
    scapy_code, dpkt_code = [code for lang, code in blocks_after("the snippets below run") if lang == "python"]
    lines = run_python(scapy_code, tmp_path)
    assert [l.split(" ", 2)[:2] for l in lines] == [c.split(",")[:2] if c else ["None", "None"] for c in want]
    assert all(" / " in l for l in lines)  # scapy dissected the packet
    lines = run_python(dpkt_code, tmp_path)
    assert [l.rsplit(" ", 1)[0] for l in lines] == [c or "None" for c in want]
    assert {l.rsplit(" ", 1)[1] for l in lines} >= {"IP", "IP6"}
    # scapy's own reader on this Debian: the comments are dropped, as the README says.
    import scapy
    if scapy.__version__ == "2.5.0":
        p = subprocess.run([sys.executable, "-c", f"from scapy.all import rdpcap; print(rdpcap('{labeled}')[0].comment)"],
                           capture_output=True, text=True)
        assert p.stdout.strip() == "None" and "invalid comment option" in p.stderr


def test_python_sampler_snippet(tmp_path):
    run("label", "-P", os.path.join(SOURCE, "config", "sample", "trace.pcap"), "-L",
        os.path.join(SOURCE, "config", "sample", "metadata.csv"), "-W", tmp_path / "labeled.pcapng")
    [(_, code)] = blocks_after("## Python sampler")[:1]
    lines = run_python(code, tmp_path, env=dict(os.environ, PYTHONPATH=os.path.join(SOURCE, "python")))
    summary = {l.split(",")[0]: l.split(",") for l in run("summary", tmp_path / "labeled.pcapng", "--samples",
                                                         "--csv").stdout.splitlines()[1:]}
    got = sorted(tuple(l.split()[:3]) for l in lines)
    assert got == sorted((sid, s[1], s[2]) for sid, s in summary.items() if s[1] in ("web", "video"))
