"""`myovox self-check` loads the real encoder, the real default language model and espeak-ng."""
from __future__ import annotations

from myovox.cli import main


def test_self_check_loads_encoder_model_and_voice(capsys):
    assert main(["self-check"]) == 0
    out = capsys.readouterr().out
    assert "ok encoder myo8_200hz" in out and "ok language model" in out and "ok voice espeak-ng" in out
    assert out.strip().endswith("self-check passed")


def test_a_skipped_check_is_said(capsys):
    assert main(["self-check", "--skip", "language model", "--skip", "voice"]) == 0
    assert "-- language model: skipped" in capsys.readouterr().out
