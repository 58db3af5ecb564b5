"""`myovox profiles`: list the device profiles, each checked on load, so a clinician sees a broken one."""
from __future__ import annotations

from .profile import ProfileError, list_profiles, load_profile


def add_arguments(parser) -> None:
    parser.add_argument("--check", default=None, help="validate one profile file and explain any problem")


def run(args) -> int:
    if args.check:
        try:
            p = load_profile(args.check)
        except ProfileError as exc:
            print(f"invalid: {exc}")
            return 1
        print(f"ok: {p.key}: {p.channels} ch at {p.rate_hz:g} Hz" + "".join(f"\n  note: {n}" for n in p.notes))
        return 0
    status = 0
    for key, path in list_profiles().items():
        try:
            p = load_profile(path)
        except ProfileError as exc:
            print(f"{key:20s} INVALID: {exc}")
            status = 1
            continue
        notch = f", notch {p.filter.notch_hz:g} Hz" if p.filter.notch_hz else ""
        print(f"{key:20s} {p.channels:3d} ch {p.rate_hz:8.1f} Hz  band {p.filter.highpass_hz:g}-{p.filter.lowpass_hz:g} Hz{notch}"
              f"  window {p.decision_ms:g} ms  encoder {p.model or '(none yet)'}  -- {p.name}")
    return status
