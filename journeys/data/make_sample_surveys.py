"""Write journeys/data/claims-surveys.csv: made-up survey answers for journeys/insurance-before.yaml.

Plain Python with one fixed seed, so the file is the same on every machine and anyone can regenerate
it (the test suite does, and compares it byte for byte with the committed file). Nothing here is copied
from a real survey: each touchpoint's answers are drawn from the answer shares written in
:data:`TOUCHPOINTS` below, which are the "true" values a reader of the file should recover.

The mix is on purpose: CSAT after calls, meetings and letters, CES after the tasks the exporter does
itself (forms, answers to queries), NPS once the policy is live (the welcome call); two touchpoints with
fewer than 30 answers (flagged by ``journeymap surveys``) and five touchpoints nobody was asked about.

    python journeys/data/make_sample_surveys.py            # writes journeys/data/claims-surveys.csv
    python journeys/data/make_sample_surveys.py OUT.csv    # writes elsewhere
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import random
import sys

#: The seed of the committed file.
SEED = 14
#: Answers are dated in the first half of 2027, uniformly.
FIRST_DAY = datetime.date(2027, 1, 4)
DAYS = 178

#: (touchpoint step id, scale, number of answers, share of each answer from the lowest to the highest, in %).
TOUCHPOINTS: tuple[tuple[str, str, int, tuple[int, ...]], ...] = (
    ("enquiry", "csat", 60, (5, 10, 30, 35, 20)),
    ("call_triage", "csat", 80, (20, 30, 30, 15, 5)),
    ("rm_meeting", "csat", 45, (2, 5, 18, 40, 35)),
    ("application_pack", "csat", 50, (15, 30, 35, 15, 5)),
    ("fill_application", "ces", 70, (20, 25, 20, 15, 10, 6, 4)),
    ("uw_query", "csat", 40, (30, 35, 20, 10, 5)),
    ("answer_query", "ces", 38, (25, 25, 20, 15, 8, 5, 2)),
    ("buyer_info", "csat", 12, (25, 35, 25, 10, 5)),           # too few answers: flagged, emotion kept
    ("send_quote", "csat", 55, (10, 25, 35, 20, 10)),
    ("quote_call", "csat", 33, (5, 15, 35, 30, 15)),
    ("accept_quote", "csat", 41, (3, 7, 30, 40, 20)),
    ("welcome_call", "nps", 120, (2, 1, 2, 3, 4, 8, 10, 20, 20, 15, 15)),
    ("premium_adjust", "csat", 25, (30, 30, 25, 10, 5)),       # too few answers: flagged, emotion kept
)
#: The lowest answer of each scale.
LOWEST = {"nps": 0, "csat": 1, "ces": 1}


def sample_csv(seed: int = SEED) -> str:
    """The scores file as text: a header, then one answer per row in date order."""
    rng = random.Random(seed)
    rows = []
    for step, scale, n, shares in TOUCHPOINTS:
        answers = rng.choices(range(LOWEST[scale], LOWEST[scale] + len(shares)), weights=shares, k=n)
        for score in answers:
            day = FIRST_DAY + datetime.timedelta(days=rng.randrange(DAYS))
            rows.append((day.isoformat(), step, scale, score))
    rows.sort()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["touchpoint", "date", "scale", "score"])
    writer.writerows([(step, day, scale, score) for day, step, scale, score in rows])
    return out.getvalue()


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                       "claims-surveys.csv")
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(sample_csv())
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
