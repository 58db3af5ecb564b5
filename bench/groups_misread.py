"""What reading keys as evidence buys the ambiguous keyboard, word by word, on training text only.

For every word of held-out starter phrases (as `groups_trace.py` picks them; never comm_dev or MacKenzie) the
keyboard gets the word's keys typed right and with each single key substituted (every place, every other key),
with the real language layer's answer (LLM with `--llm`), and reports for each MISREAD_LEAD:
- typed right: how often the word is the first reading at its end (a guess must not displace it), and how
  often a word's start (keys still to type) shows the word itself (the "longer word first" that saves keys);
- one key substituted: how often the word is still the first reading at its end, or among the readings;
- the extra gestures a key substitution costs, by how many keys the patient types on past it (0: repair at
  once = control (the space), undo, the key again: 4 as on main; typing on, the word at its end costs nothing
  when first, 2 a reading walked, else the repair from there: about 1 + 3 x the keys after the misread one).

    PYTHONPATH=app python bench/groups_misread.py --llm --offsets 3,50 --leads 0,2,4,100

The LLM's answers are computed once and the keyboard's ordering is applied for each lead.
"""
from __future__ import annotations

import argparse
from collections import Counter

from trace_common import add_trace_arguments, held_out_runs, load_backend, patient_for

TYPE_ON = (0, 1, 2, 3, 9)


def main() -> int:
    from myovox.interact import keyboard as KB
    from myovox.interact.events import RequestSuggestions, SuggestionsReady
    from myovox.interact.machine import ScanTiming
    from myovox.language import groups as G
    from myovox.simulate.patient import normalise
    from myovox.simulate.run import make_speller

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_trace_arguments(ap)
    ap.add_argument("--leads", default="0,2,4,100")
    args = ap.parse_args()
    backend = load_backend(args.llm)
    leads = [float(x) for x in args.leads.split(",")]
    res = {lead: Counter() for lead in leads}
    for _off, seed, test, train in held_out_runs(args):
        patient = patient_for(train, backend, lambda pr: make_speller("groups", pr, ScanTiming()), 0.95, 0.05, seed)
        sugg, m0 = patient.suggester, patient.machine
        lay = m0.layout
        for phrase in test:
            ws = normalise(phrase).split()
            for j, w in enumerate(ws):
                before = " ".join(ws[:j]) + (" " if j else "")
                code = lay.code(w)
                variants = [("clean", code, 0)] + [("start", code[:q], 0) for q in range(1, len(code))]
                if len(code) >= 2:
                    for i in range(len(code)):
                        for k in range(lay.keys):
                            if k != code[i]:
                                variants.append(("sub", code[:i] + (k,) + code[i + 1:], len(code) - i))
                for kind, keys, redo in variants:
                    req = RequestSuggestions(1, "groups", (before, "".join(map(str, keys))), (), 0.0)
                    cands = sugg.answer(req)
                    for lead in leads:
                        G.MISREAD_LEAD = lead
                        m = m0.clone()
                        m.state = KB.GroupState(typed=KB.Typed(fixed=before, keys=tuple(keys), shown=KB.PENDING * len(keys)),
                                                request_id=1, next_request_id=2)
                        m.handle(SuggestionsReady(1, cands, 0.0))
                        ch = [c.strip() for c in m.state.choices]
                        r = res[lead]
                        r[kind] += 1
                        pos = ch.index(w) if w in ch else None
                        r[kind + " first"] += pos == 0
                        r[kind + " among"] += pos is not None
                        if kind == "sub":
                            fail = 1 + 3 * redo
                            cost = 0 if pos == 0 else (min(2 * pos, fail) if pos is not None else fail)
                            for t in TYPE_ON:
                                r[f"cost{t}"] += cost if redo - 1 <= t else 4
    for lead in leads:
        r = res[lead]
        print(f"lead {lead:g}: typed right ({r['clean']} words) first {r['clean first'] / r['clean']:.1%}, word shown from "
              f"its start {r['start first'] / max(r['start'], 1):.1%} of {r['start']} starts; one key substituted "
              f"({r['sub']}) first {r['sub first'] / max(r['sub'], 1):.1%}, among the readings "
              f"{r['sub among'] / max(r['sub'], 1):.1%}; extra gestures a substitution by keys typed on past it: "
              + ", ".join(f"{t}: {r[f'cost{t}'] / max(r['sub'], 1):.2f}" for t in TYPE_ON))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
