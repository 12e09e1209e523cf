"""``appraisal_marks``: the marks appraisers give staff members on the pack's weighted appraisal
dimensions (xupu 九(二)2② 德、能、勤、绩、廉), per period; read by the report's appraisal
(scoring/queries.py: ``marks``), written from the desk (web/routes/appraisal.py)."""

from __future__ import annotations

_TYPES = {
    "sqlite": {"pk": "INTEGER PRIMARY KEY AUTOINCREMENT", "float": "REAL"},
    "postgres": {"pk": "SERIAL PRIMARY KEY", "float": "DOUBLE PRECISION"},
}


def statements(dialect: str) -> list[str]:
    t = _TYPES[dialect]
    return [
        f"""CREATE TABLE appraisal_marks (
    id {t['pk']},
    jurisdiction_id VARCHAR(64) NOT NULL REFERENCES jurisdictions (id),
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    period_kind VARCHAR(16) NOT NULL,
    year INTEGER NOT NULL,
    n INTEGER NOT NULL,
    dimension VARCHAR(64) NOT NULL,
    mark {t['float']} NOT NULL,
    marked_by VARCHAR(64) NOT NULL,
    marked_at TIMESTAMP NOT NULL,
    UNIQUE (jurisdiction_id, staff_id, period_kind, year, n, dimension)
)""",
        "CREATE INDEX appraisal_marks_by_period ON appraisal_marks (jurisdiction_id, period_kind, year, n)",
    ]
