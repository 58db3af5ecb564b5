"""The command line answers bad input with a message and an exit code, never a traceback."""
import subprocess
import sys


def myovox(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "myovox", *args], capture_output=True, text=True, timeout=timeout)


def test_help_lists_the_commands():
    out = myovox("--help").stdout
    for cmd in ("run", "replay", "monitor", "profiles", "eval-bursts", "bench"):
        assert cmd in out


def test_profiles_lists_every_shipped_profile():
    r = myovox("profiles")
    assert r.returncode == 0, r.stdout + r.stderr
    for key in ("myo", "delsys_trigno", "trigno_maize_grid", "openbci_cyton", "generic"):
        assert key in r.stdout


def test_profiles_check_explains_a_broken_file(tmp_path):
    bad = tmp_path / "ward.toml"
    bad.write_text("[device]\nchannels = 8\nrate_hz = 200.0\n[filter]\norder = 12\n")
    r = myovox("profiles", "--check", str(bad))
    assert r.returncode == 1
    assert "[filter] order" in r.stdout and "1 to 8" in r.stdout and "Traceback" not in r.stderr


def test_replay_of_a_missing_or_corrupt_file_is_a_message(tmp_path):
    r = myovox("replay", str(tmp_path / "absent.txt"))
    assert r.returncode == 2 and "no such recording file" in r.stdout
    bad = tmp_path / "broken.txt"
    bad.write_text("1,2,3\nnot,a,number\n")
    r = myovox("replay", str(bad))
    assert r.returncode == 2 and "broken.txt" in r.stdout and "Traceback" not in r.stderr


def test_replay_refuses_a_profile_of_another_width():
    r = myovox("replay", "--profile", "trigno_maize_grid")  # the demo clip has 8 channels
    assert r.returncode == 2 and "8 channels" in r.stdout and "16" in r.stdout


def test_monitor_with_an_unknown_profile_names_the_known_ones():
    r = myovox("monitor", "--profile", "nope", "--seconds", "1")
    assert r.returncode == 2 and "known profiles" in r.stdout


def test_eval_bursts_without_data_says_where_it_looked(tmp_path):
    r = myovox("eval-bursts", "--data", str(tmp_path / "nowhere"))
    assert r.returncode == 2 and "shared data" in r.stdout
