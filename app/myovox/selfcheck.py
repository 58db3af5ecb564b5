"""`myovox self-check`: load what the bedside needs, the way the app loads it, and say in words what works.

The encoder of each shipped profile that names one (onnxruntime, one window through it), the default
language model (llama.cpp, a few tokens generated), and the voice (espeak-ng, one sentence written to a
WAV and read back). Exit code 0 only when all three work; the clinic install script ends with it.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path


def check_encoder(profile_key: str = "myo") -> str:
    import numpy as np

    from .bedside.setup import load_decoder_for
    from .profiles import find_profile

    profile = find_profile(profile_key)
    decoder, message = load_decoder_for(profile)
    if decoder is None:
        raise RuntimeError(message)
    window = np.zeros((1, decoder.window_samples, profile.channels), np.float32)
    scores = decoder.pretrained_scores(window)
    return f"encoder {profile.model} ({profile_key}): {scores.shape[1]} classes from one {decoder.window_samples}-sample window"


def check_model() -> str:
    from .language.llama_backend import LlamaCppGenerator
    from .language.model_files import default_model_path

    path = default_model_path()
    t0 = time.monotonic()
    gen = LlamaCppGenerator(path)
    out = gen.generate("I would like a glass of", max_tokens=4)
    return f"language model {path.name}: loaded and generated {out.text.strip()!r} in {time.monotonic() - t0:.1f} s"


def check_voice() -> str:
    from .speech.voices import EspeakNgProcessVoice

    voice = EspeakNgProcessVoice()
    voice.check()
    with tempfile.TemporaryDirectory() as tmp:
        info = voice.save("myovox is ready", Path(tmp) / "check.wav")
    return f"voice espeak-ng: {info.frames / info.rate_hz:.2f} s of speech written and read back"


CHECKS = (("encoder", check_encoder), ("language model", check_model), ("voice", check_voice))


def add_arguments(parser) -> None:
    parser.add_argument("--skip", action="append", default=[], choices=[n for n, _ in CHECKS],
                        help="leave a check out (repeatable)")


def run(args) -> int:
    failed = 0
    for name, check in CHECKS:
        if name in args.skip:
            print(f"-- {name}: skipped")
            continue
        try:
            print(f"ok {check()}")
        except Exception as exc:  # each failure is a sentence, and the others still run
            failed += 1
            print(f"!! {name}: {type(exc).__name__}: {exc}")
    print("self-check passed" if not failed else f"self-check: {failed} of {len(CHECKS)} failed")
    return 1 if failed else 0
