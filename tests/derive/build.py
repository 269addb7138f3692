"""Hand-made trials for the endpoint tests, built through the public validation path."""

from __future__ import annotations

import pandas as pd

from ketex.study.protocol import Arm, EndpointSettings, Protocol, Visit
from ketex.study.trial import Trial
from ketex.study.validation import build_trial

#: A weekly schedule: BASELINE (day 0, window -7..0) and WEEK1..WEEK8 (day 7k, +-3 days).
WEEKLY = (
    Visit("BASELINE", 0, (-7, 0)),
    *(Visit(f"WEEK{k}", 7 * k, (7 * k - 3, 7 * k + 3)) for k in range(1, 9)),
)


def protocol(visits=WEEKLY, *, primary_visit: str = "WEEK4", arms=("A", "B"),
             **endpoints) -> Protocol:
    """A MADRS protocol with the given visits; endpoint settings as keywords."""
    settings = EndpointSettings(primary_visit=primary_visit, **endpoints)
    return Protocol(study_id="HAND", arms=tuple(Arm(a) for a in arms), visits=tuple(visits),
                    endpoints=settings)


def trial(assessments, *, participants=None, events=(), visits=WEEKLY,
          primary_visit: str = "WEEK4", **endpoints) -> Trial:
    """A trial from rows ``(participant_id, day, visit, total)`` (instrument MADRS) or
    ``(participant_id, day, visit, total, instrument)``; participants default to every
    id seen, in arm A; events are ``(participant_id, day, event)``."""
    rows = [tuple(r) if len(r) == 5 else (*r, "MADRS") for r in assessments]
    frame = pd.DataFrame(rows, columns=["participant_id", "day", "visit", "total",
                                        "instrument"])
    if participants is None:
        ids = sorted({r[0] for r in rows} | {e[0] for e in events})
        participants = [(pid, "A") for pid in ids]
    raw = {
        "participants": pd.DataFrame(participants, columns=["participant_id", "arm"]),
        "assessments": frame,
        "events": pd.DataFrame(list(events), columns=["participant_id", "day", "event"])
        if events else None,
    }
    return build_trial(protocol(visits, primary_visit=primary_visit, **endpoints), raw)
