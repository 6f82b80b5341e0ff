"""The command line as a user meets it: usage lines that say `pcapml
<command>`, errors that name the argument at fault, the manual page and the
bash completion script generated at build time from the same help texts,
and what `cmake --install` puts where."""
import os
import re
import subprocess

from conftest import BIN, SAMPLE, SOURCE, run

BUILD = os.path.dirname(BIN)
COMMANDS = ["label", "daemon", "ctl", "summary", "split", "sort", "strip", "merge", "plugins"]
TRACE = os.path.join(SAMPLE, "trace.pcap")


def test_usage_lines_name_pcapml_and_mark_the_input_required_once():
    for cmd in COMMANDS:
        text = run("help", cmd).stdout
        assert re.search(rf"^Usage: pcapml {cmd} \[OPTIONS\]", text, re.M), text
        assert run(cmd, "--help").stdout == text
    assert "Usage: pcapml ctl add [OPTIONS]" in run("ctl", "add", "--help").stdout
    for cmd in ("split", "sort", "strip"):
        text = run("help", cmd).stdout
        assert re.search(r"^  input TEXT REQUIRED ", text, re.M), text
        assert re.search(r"^  -M,--input TEXT +the same as input, as an option$", text, re.M), text
        assert re.search(r"^  filter TEXT \.\.\. ", text, re.M), text
    # summary takes several files, then the filter, in its positional words.
    text = run("help", "summary").stdout
    assert "REQUIRED" not in text and re.search(r"^  input TEXT \.\.\. +the files \(as -M\), then", text, re.M), text


def test_errors_name_the_argument_at_fault():
    p = run("label", "--bogus", check=False)
    assert (p.returncode, p.stderr) == (2, "pcapml label: unknown option --bogus (see pcapml help label)\n")
    # An unknown option's value is not taken for the file, and the valid file is not blamed.
    p = run("summary", "-x", "5", TRACE, check=False)
    assert (p.returncode, p.stderr) == (2, "pcapml summary: unknown option -x (see pcapml help summary)\n")
    assert run("summary", "-c", "5", TRACE, "--csv").stdout.splitlines()[-1].split(",")[2] == "5"
    p = run("label", "-P", TRACE, "stray", "-L", "x", "-W", "y", check=False)
    assert (p.returncode, p.stderr) == (2, "pcapml label: unexpected argument 'stray' (see pcapml help label)\n")
    p = run("label", "-D", "x", check=False)
    assert p.returncode == 2 and "--labels is required" in p.stderr
    for name, hint in [("nosuch", ""), ("sumary", ", did you mean 'summary'?")]:
        p = run("help", name, check=False)
        assert (p.returncode, p.stderr) == (2, f"pcapml: unknown command '{name}'{hint} (see pcapml --help)\n")


def test_man_page_is_built_from_the_help_and_renders():
    page = os.path.join(BUILD, "pcapml.1")
    assert open(page).read() == run("help", "--man").stdout
    p = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="0"))
    assert p.returncode == 0 and p.stderr == "", p.stderr
    text = re.sub(".\x08", "", p.stdout)  # no bold by overstrike
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "SHORT FORMS", "EXIT STATUS", "SEE ALSO"):
        assert re.search(rf"^{section}$", text, re.M), section
    for cmd in COMMANDS:
        assert re.search(rf"^   pcapml {cmd} \[OPTIONS\]", text, re.M), cmd
        # Every option of the command's help is in its section, with its text.
        section = text.split(f"   pcapml {cmd} [OPTIONS]")[1]
        for names in re.findall(r"^  (-[-\w]+(?:,-[-\w]+)*)", run("help", cmd).stdout, re.M):
            assert ", ".join(names.split(",")) in section, (cmd, names)
    assert "   pcapml ctl add [OPTIONS]" in text and "--window" in text


def complete(*words):
    """What the generated completion offers for `pcapml <words>` (the last word being completed)."""
    script = os.path.join(BUILD, "pcapml.bash")
    line = " ".join(["pcapml", *words])
    cmd = (f"source {script}; COMP_WORDS=(pcapml {' '.join(repr(w) for w in words)}); "
           f"COMP_CWORD={len(words)}; COMP_LINE={line!r}; _pcapml; printf '%s\\n' \"${{COMPREPLY[@]}}\"; "
           "complete -p pcapml")
    p = subprocess.run(["bash", "--norc", "-c", cmd], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    *offered, registered = p.stdout.splitlines()
    assert registered == "complete -o default -F _pcapml pcapml"
    return [w for w in offered if w]


def test_bash_completion_completes_commands_and_options():
    assert open(os.path.join(BUILD, "pcapml.bash")).read() == run("help", "--bash-completion").stdout
    assert complete("su") == ["summary"]
    assert complete("s") == ["summary", "split", "sort", "strip"]
    assert complete("help", "da") == ["daemon"]
    assert complete("summary", "--js") == ["--json"]
    assert sorted(complete("strip", "--")) == sorted(re.findall(r"^  (?:-\w,)?(--[-\w]+)", run("help", "strip").stdout, re.M))
    assert complete("ctl", "") == ["-h", "--help", "-S", "--socket", "add", "end", "list", "status"]
    assert complete("ctl", "status", "--j") == ["--json"]
    assert complete("summary", "trace") == []  # a file name: bash's own completion (-o default)


def test_cmake_install_puts_the_manual_and_completion_in_place(tmp_path):
    p = subprocess.run(["cmake", "--install", BUILD, "--prefix", str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "share/man/man1/pcapml.1").read_text() == open(os.path.join(BUILD, "pcapml.1")).read()
    assert (tmp_path / "share/bash-completion/completions/pcapml").read_text() == \
        open(os.path.join(BUILD, "pcapml.bash")).read()
    assert os.access(tmp_path / "bin/pcapml", os.X_OK)
