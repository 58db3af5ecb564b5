"""`myovox report --patient P [--out DIR]`: the clinician's progression page, an HTML file with PNGs beside it.

Reads the patient's saved calibrations and session logs (progression.py), draws the plots with
matplotlib (Agg, no display) and writes `index.html`; nothing leaves the machine.
"""
from __future__ import annotations

import html
from pathlib import Path

from .progression import CalibrationPoint, SessionPoint, load_calibrations, load_sessions, summary


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, out: Path, name: str) -> str:
    path = out / name
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    _plt().close(fig)
    return name


def _stamp(t) -> str:
    return t.strftime("%m-%d %H:%M:%S")


def plot_channels(cals: list[CalibrationPoint], out: Path) -> str | None:
    """Rest noise and each gesture's amplitude per channel, one line per calibration (oldest light)."""
    if not cals:
        return None
    plt = _plt()
    labels = ["rest"] + sorted({g for c in cals for g in c.gestures})
    fig, axes = plt.subplots(1, len(labels), figsize=(4.2 * len(labels), 3.2), squeeze=False)
    for ax, label in zip(axes[0], labels):
        for i, c in enumerate(cals):
            amp = c.amplitude.get(label)
            if amp:
                ax.plot(range(1, len(amp) + 1), amp, marker="o", alpha=0.35 + 0.65 * (i + 1) / len(cals),
                        label=_stamp(c.created))
        ax.set_title("rest noise" if label == "rest" else f"{label}: amplitude")
        ax.set_xlabel("channel")
        ax.set_ylabel("RMS (encoder units)")
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, title="calibration")
    return _save(fig, out, "channels.png")


def plot_calibration_trend(cals: list[CalibrationPoint], out: Path) -> str | None:
    if not cals:
        return None
    plt = _plt()
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(13, 3.2))
    x = [c.created for c in cals]
    for g in sorted({g for c in cals for g in c.gestures}):
        a1.plot(x, [sum(c.amplitude.get(g, [float("nan")])) / max(1, len(c.amplitude.get(g, [1]))) for c in cals],
                marker="o", label=g)
        a2.plot(x, [100 * c.accuracy.get(g, float("nan")) for c in cals], marker="o", label=g)
    a1.plot(x, [sum(c.rest_noise) / len(c.rest_noise) if c.rest_noise else float("nan") for c in cals],
            marker="s", color="grey", label="rest noise")
    a1.set_title("mean amplitude over channels")
    a2.axhline(90, color="red", lw=0.8, ls="--", label="reliable (90 %)")
    a2.set_title("calibration accuracy per gesture (%)")
    a2.set_ylim(0, 105)
    a3.plot(x, [100 * c.false_activation if c.false_activation is not None else float("nan") for c in cals],
            marker="o", color="darkred")
    a3.set_title("false activations: rest attempts\ndecided as a gesture (%)")
    a3.set_ylim(0, max([5.0] + [100 * c.false_activation for c in cals if c.false_activation is not None]) * 1.1)
    for ax in (a1, a2, a3):
        ax.grid(alpha=0.3)
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    a1.legend(fontsize=7)
    a2.legend(fontsize=7)
    return _save(fig, out, "calibration_trend.png")


def plot_calibration_outcomes(cals: list[CalibrationPoint], out: Path) -> str | None:
    if not cals:
        return None
    plt = _plt()
    gestures = sorted({g for c in cals for g in c.labels})
    fig, axes = plt.subplots(1, len(gestures), figsize=(4.2 * len(gestures), 3.0), squeeze=False)
    for ax, g in zip(axes[0], gestures):
        rows = [c.outcomes.get(g, (float("nan"),) * 3) for c in cals]
        x = range(len(cals))
        bottom = [0.0] * len(cals)
        for k, (name, color) in enumerate((("correct", "seagreen"), ("no action", "gold"), ("wrong", "firebrick"))):
            vals = [100 * r[k] for r in rows]
            ax.bar(x, vals, bottom=bottom, color=color, label=name)
            bottom = [b + v for b, v in zip(bottom, vals)]
        ax.set_xticks(list(x), [_stamp(c.created) for c in cals], rotation=30, fontsize=7)
        ax.set_title(f"{g}: calibration attempts (%)")
    axes[0][-1].legend(fontsize=7)
    return _save(fig, out, "calibration_outcomes.png")


def plot_sessions(sessions: list[SessionPoint], out: Path) -> str | None:
    if not sessions:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.2))
    x = list(range(len(sessions)))
    ticks = [_stamp(s.started) for s in sessions]
    a = axes[0]
    a.plot(x, [s.attempts_per_minute or 0 for s in sessions], marker="o", label="attempts / min")
    a.set_ylim(0, 1.3 * max([1.0] + [s.attempts_per_minute or 0 for s in sessions]
                            + [s.words_per_minute or 0 for s in sessions]))
    a.plot(x, [float("nan") if s.words_per_minute is None else s.words_per_minute for s in sessions], marker="s",
           label="words / min (when something was spoken)")
    a.set_title("pace")
    a.legend(fontsize=7)
    a = axes[1]
    correct = [s.correct for s in sessions]
    undone = [s.undone for s in sessions]
    no_action = [s.no_action for s in sessions]
    a.bar(x, correct, color="seagreen", label="acted, kept")
    a.bar(x, no_action, bottom=correct, color="gold", label="no action")
    a.bar(x, undone, bottom=[c + n for c, n in zip(correct, no_action)], color="firebrick", label="taken back")
    a.set_title("attempts per session")
    a.legend(fontsize=7)
    for i, (key, title) in enumerate((("rest_noise", "rest noise per channel"), ("burst_amplitude", "burst amplitude per channel"))):
        a = axes[2 + i]
        for j, s in enumerate(sessions):
            v = getattr(s, key)
            if v:
                a.plot(range(1, len(v) + 1), v, marker="o", alpha=0.35 + 0.65 * (j + 1) / len(sessions), label=ticks[j])
        a.set_title(f"{title}\n(std, profile units)")
        a.set_xlabel("channel")
        a.legend(fontsize=6)
    for a in axes[:2]:
        a.set_xticks(x, ticks, rotation=30, fontsize=7)
    for a in axes:
        a.grid(alpha=0.3)
    return _save(fig, out, "sessions.png")


def _table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _f(x, fmt="{:.1f}") -> str:
    return "–" if x is None else fmt.format(x)


def build_report(patient: str, data_dir: Path, logs_dir: Path, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    cals = load_calibrations(data_dir, patient)
    sessions = load_sessions(logs_dir, patient)
    words = summary(cals, sessions)
    images = [p for p in (plot_calibration_trend(cals, out), plot_channels(cals, out),
                          plot_calibration_outcomes(cals, out), plot_sessions(sessions, out)) if p]
    cal_rows = [[f"{c.created:%Y-%m-%d %H:%M}", c.profile,
                 ", ".join(f"{g} {100 * c.accuracy.get(g, 0):.0f} %" for g in c.gestures),
                 _f(None if c.false_activation is None else 100 * c.false_activation, "{:.1f} %"),
                 ", ".join(c.reliable) or "none"] for c in cals]
    ses_rows = [[f"{s.started:%Y-%m-%d %H:%M}", s.profile, f"{s.minutes:.1f}", s.attempts, _f(s.attempts_per_minute),
                 s.correct, s.no_action, s.undone, s.selections, _f(s.words_per_minute),
                 _f(None if s.latency_median_s is None else 1000 * s.latency_median_s, "{:.0f} ms")] for s in sessions]
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>myovox progression: {html.escape(patient)}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; max-width: 1400px; color: #222; }}
h1 {{ margin-bottom: 0.2em; }} .sub {{ color: #666; margin-top: 0; }}
.summary {{ background: #eef4fb; border-left: 6px solid #2a6bb5; padding: 0.6em 1.2em; font-size: 1.15em; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.2em; font-size: 0.9em; }}
td, th {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }} th {{ background: #f3f3f3; }}
img {{ max-width: 100%; display: block; margin: 0.6em 0; }}
</style></head><body>
<h1>Progression of patient {html.escape(patient)}</h1>
<p class="sub">{len(cals)} calibration(s), {len(sessions)} session(s); from this machine's files only.
Live sessions cannot know what the patient meant: "taken back" counts undos, "no action" decisions below the
confidence to act. Calibration outcomes are cross-validated attempts of the cued repetitions.</p>
<div class="summary"><ul>{''.join(f'<li>{html.escape(w)}</li>' for w in words)}</ul></div>
<h2>Calibrations</h2>
{_table(["when", "profile", "accuracy per gesture", "false activations", "reliable"], cal_rows)}
<h2>Sessions</h2>
{_table(["started", "profile", "minutes", "attempts", "attempts/min", "acted, kept", "no action", "taken back",
          "selections", "words/min", "latency (median)"], ses_rows)}
<h2>Plots</h2>
{''.join(f'<img src="{name}" alt="{name}">' for name in images)}
</body></html>
"""
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def add_arguments(parser) -> None:
    parser.add_argument("--patient", required=True, help="the patient id of the clinician settings")
    parser.add_argument("--out", default=None, help="folder for index.html and its PNGs (default: <data>/reports/<patient>)")
    parser.add_argument("--home", default=None, help="myovox's folder for settings, data and logs (default: the user's)")


def run(args) -> int:
    from ..session.files import UserDirs

    dirs = UserDirs.locate(args.home)
    out = Path(args.out) if args.out else dirs.data / "reports" / (args.patient or "patient")
    index = build_report(args.patient, dirs.data, dirs.logs, out)
    print(f"report written: {index}")
    for line in summary(load_calibrations(dirs.data, args.patient), load_sessions(dirs.logs, args.patient)):
        print(f"  - {line}")
    return 0
