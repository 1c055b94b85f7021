"""The survey scales and the thresholds the metrics use (metrics.md, "Surveys"), defined once.

"Satisfied" (CSAT) and "easy" (CES) are the top points of each scale. metrics.md fixes 4–5 on 1–5, 8–10 on
0–10 and 5–7 on 1–7; for the short CES scales it fixes nothing, so the rule is "the top two points" as on
1–5: 2–3 on 0–3 and 4–5 on 0–5. Higher always means better (more satisfied, easier, more likely).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    key: str
    low: int
    high: int
    # The lowest score that counts as satisfied (CSAT) or easy (CES).
    good_from: int

    @property
    def points(self) -> list[int]:
        return list(range(self.low, self.high + 1))


CSAT_SCALES = {
    "1-5": Scale("1-5", 1, 5, good_from=4),
    "0-10": Scale("0-10", 0, 10, good_from=8),
}
CES_SCALES = {
    "1-7": Scale("1-7", 1, 7, good_from=5),
    "1-5": Scale("1-5", 1, 5, good_from=4),
    "0-10": Scale("0-10", 0, 10, good_from=8),
    "0-3": Scale("0-3", 0, 3, good_from=2),
    "0-5": Scale("0-5", 0, 5, good_from=4),
}
NPS_SCALE = Scale("0-10", 0, 10, good_from=9)
NPS_PROMOTER_FROM = 9
NPS_DETRACTOR_UP_TO = 6


def scale_for(question: str, scale_key: str) -> Scale:
    if question == "nps":
        return NPS_SCALE
    return (CSAT_SCALES if question == "csat" else CES_SCALES)[scale_key]
