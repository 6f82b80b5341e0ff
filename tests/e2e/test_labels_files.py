"""Labels files that say what they mean: a directory-mode line with a third
field that is not key=value, and a legacy time in another form than epoch
seconds, are errors naming the line and what is accepted."""
import os
import shutil

from conftest import SAMPLE, run, sample_id, tshark

WEB = os.path.join(SAMPLE, "dataset", "web.pcap")


def dataset(tmp_path, lines):
    d = tmp_path / "ds"
    d.mkdir(exist_ok=True)
    shutil.copy(WEB, d / "web1.pcap")
    labels = tmp_path / "labels.txt"
    labels.write_text("filename,label\n" + "".join(l + "\n" for l in lines))
    return d, labels


def test_directory_line_with_a_stray_field_is_an_error(tmp_path):
    for line, field in [("web1.pcap,web,extra", "extra"), ("web1.pcap,web,", ""), ("web1.pcap,web,a=1,=2", "=2")]:
        d, labels = dataset(tmp_path, ["# the web run", line])
        p = run("-D", d, "-L", labels, "-W", tmp_path / "o.pcapng", check=False)
        assert (p.returncode, p.stderr) == (1, f"pcapml: {labels}:3: a field after the label must be key=value, not "
                                               f"'{field}' (lines are filename,label[,key=value...]; a label holds "
                                               f"no ','): '{line}'\n"), p.stderr
        assert not (tmp_path / "o.pcapng").exists()
    # key=value fields are metadata, written after the label.
    line = "web1.pcap,web,browser=firefox,run=3"
    d, labels = dataset(tmp_path, [line])
    run("-D", d, "-L", labels, "-W", tmp_path / "o.pcapng")
    comments = {r[0] for r in tshark(tmp_path / "o.pcapng", "frame.comment")}
    assert comments == {f"{sample_id(line)},web,browser=firefox,run=3"}


def test_legacy_time_in_another_form_shows_the_accepted_ones(tmp_path):
    rules = tmp_path / "rules.csv"
    for term, value in [("TS_START", "2024-05-01T08:00:00Z"), ("TS_END", "1714550400.5s"), ("TS_START", "-5")]:
        rules.write_text(f"BPF:tcp,web\nBPF:ip|{term}:{value},early\n")
        p = run("-P", WEB, "-L", rules, "-W", tmp_path / "o.pcapng", check=False)
        assert (p.returncode, p.stderr) == (1, f"pcapml: {rules}:2: invalid {term} time '{value}': expected seconds "
                                               "since the epoch, optionally with a fraction of up to 9 digits "
                                               "(1714550400 or 1714550400.25)\n"), p.stderr
    rules.write_text("BPF:ip|TS_START:1700000000.25|TS_END:1800000000,early\n")
    run("-P", WEB, "-L", rules, "-W", tmp_path / "o.pcapng")
