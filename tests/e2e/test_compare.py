"""pcapml compare end to end: two labelings of the bundled sample trace by
rules files whose disagreements are known, the guess sorted and cut so the
join cannot lean on order; tcpdump counts what each filter matches (the
oracle for every cell)."""
import csv
import io
import json
import os
import subprocess

from conftest import SAMPLE, run

TRACE = os.path.join(SAMPLE, "trace.pcap")

TRUTH_RULES = [("web", "tcp port 80"), ("dns", "udp port 53"), ("ping", "icmp"), ("ipv6", "ip6"),
               ("video", "udp and host 203.0.113.200")]
# Too broad: every TCP packet is "web" (the IPv6 TCP ones too), every UDP one
# "dns" (the video too); nothing for ICMP.
GUESS_RULES = [("web", "tcp"), ("dns", "udp")]


def rules_file(path, rules):
    path.write_text("".join(f'[[rule]]\nid = "{label}"\nlabel = "{label}"\nfilter = "{f}"\n\n' for label, f in rules))
    return path


def count(path, expr):
    out = subprocess.run(["tcpdump", "-nn", "-r", str(path), expr], capture_output=True, text=True, check=True)
    return len(out.stdout.splitlines())


def labeled(tmp_path, name, rules, trace=TRACE):
    out = tmp_path / f"{name}.pcapng"
    run("label", "-P", trace, "-L", rules_file(tmp_path / f"{name}.toml", rules), "-W", out, "--keep-unmatched")
    return out


def compare_json(truth, guess):
    return json.loads(run("compare", truth, guess, "--json").stdout)


def cells(report):
    return {(c["truth"], c["guess"]): c["packets"] for c in report["confusion"]}


def test_identical_labelings_score_one(tmp_path):
    truth = labeled(tmp_path, "truth", TRUTH_RULES)
    report = compare_json(truth, truth)
    total = count(TRACE, "")
    assert report["packets"] == {"joined": total, "same_label": total, "only_in_truth": 0, "only_in_guess": 0}
    assert report["labels"] and all(s["precision"] == 1.0 and s["recall"] == 1.0 for s in report["labels"].values())
    assert all(t == g for t, g in cells(report))


def test_constructed_confusion_exactly(tmp_path):
    truth = labeled(tmp_path, "truth", TRUTH_RULES)
    guess = labeled(tmp_path, "guess", GUESS_RULES)
    web, dns, ping = count(TRACE, "tcp port 80"), count(TRACE, "udp port 53"), count(TRACE, "icmp")
    ipv6, video = count(TRACE, "ip6"), count(TRACE, "udp and host 203.0.113.200")
    assert web + dns + ping + ipv6 + video == count(TRACE, "")
    report = compare_json(truth, guess)
    assert cells(report) == {("web", "web"): web, ("ipv6", "web"): ipv6, ("dns", "dns"): dns,
                             ("video", "dns"): video, ("ping", "<unlabeled>"): ping}
    s = report["labels"]
    assert s["web"] == {"truth": web, "guessed": web + ipv6, "correct": web, "precision": web / (web + ipv6),
                        "recall": 1.0}
    assert s["dns"]["precision"] == dns / (dns + video) and s["dns"]["recall"] == 1.0
    assert s["video"] == {"truth": video, "guessed": 0, "correct": 0, "precision": None, "recall": 0.0}
    assert s["<unlabeled>"]["precision"] == 0.0 and s["<unlabeled>"]["recall"] is None
    assert report["packets"]["same_label"] == web + dns

    # The CSV is the same table: rows truth labels, columns guess labels.
    rows = list(csv.reader(io.StringIO(run("compare", truth, guess, "--csv").stdout)))
    assert rows[0] == ["truth \\ guess", "<unlabeled>", "dns", "web", "only in truth", "recall"]
    by = {r[0]: r[1:] for r in rows[1:]}
    assert by["video"] == ["0", str(video), "0", "0", "0.0"]
    assert by["web"] == ["0", "0", str(web), "0", "1.0"]
    assert by["only in guess"] == ["0", "0", "0", "", ""]
    assert by["precision"] == ["0.0", repr(dns / (dns + video)), repr(web / (web + ipv6)), "", ""]
    text = run("compare", truth, guess).stdout
    assert f"same label: {web + dns} of {count(TRACE, '')}" in text


def test_join_ignores_order_and_counts_packets_found_in_one_file(tmp_path):
    truth = labeled(tmp_path, "truth", TRUTH_RULES)
    # The guess: the trace without its ICMP packets, labeled, then sorted by sample.
    cut = tmp_path / "no-icmp.pcap"
    subprocess.run(["tcpdump", "-r", TRACE, "-w", cut, "not icmp"], capture_output=True, check=True)
    guess = labeled(tmp_path, "guess", GUESS_RULES, trace=cut)
    sorted_guess = tmp_path / "sorted.pcapng"
    run("sort", "-M", guess, "-W", sorted_guess)
    ping = count(TRACE, "icmp")
    report = compare_json(truth, sorted_guess)
    assert report["packets"]["only_in_truth"] == ping and report["packets"]["only_in_guess"] == 0
    assert report["packets"]["joined"] == count(TRACE, "") - ping
    assert report["only_in_truth"] == {"ping": ping}
    assert ("ping", "<unlabeled>") not in cells(report)
    # Swapped, the same packets are found in the guess only.
    swapped = compare_json(sorted_guess, truth)
    assert swapped["packets"]["only_in_guess"] == ping and swapped["only_in_guess"] == {"ping": ping}


def test_errors_name_the_file(tmp_path):
    truth = labeled(tmp_path, "truth", TRUTH_RULES)
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes(truth.read_bytes()[:-9])
    p = run("compare", truth, cut, check=False)
    assert p.returncode == 1 and str(cut) in p.stderr and "offset" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert run("compare", truth, check=False).returncode == 2
    assert run("compare", truth, truth, "--csv", "--json", check=False).returncode == 2
