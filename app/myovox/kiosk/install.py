"""`myovox install-autostart`: start the bedside app full-screen at login and restart it after a crash."""
from __future__ import annotations

from . import app_command, install


def add_arguments(parser) -> None:
    parser.add_argument("--mode", choices=("auto", "systemd", "xdg"), default="auto",
                        help="systemd user unit or XDG autostart entry (default: systemd where its user manager runs)")
    parser.add_argument("--home", default=None, help="myovox's folder for settings, journal and logs (MYOVOX_HOME)")
    parser.add_argument("--profile", default=None, help="device profile of the hardware (default: the demo replay)")
    parser.add_argument("--stream", default=None, help="LSL predicate pinning the hardware stream")
    parser.add_argument("--no-llm", action="store_true", help="suggestions without the language model")


def run(args) -> int:
    extra = []
    if args.profile:
        extra += ["--profile", args.profile]
    if args.stream:
        extra += ["--stream", args.stream]
    if args.no_llm:
        extra.append("--no-llm")
    env = {"MYOVOX_HOME": args.home} if args.home else {}
    result = install(app_command(extra=extra), mode=args.mode, environment=env)
    print(f"installed ({result.kind}): {result.path}")
    for m in result.messages:
        print(f"  {m}")
    print("  the app starts full-screen at the next login; after a crash it is started again and the message is restored")
    return 0
