"""Problems found in a pack, reported as ``file:line:col: rule-id: message``."""

from __future__ import annotations

from dataclasses import dataclass

from .loader import Mark


@dataclass(frozen=True, slots=True)
class Problem:
    mark: Mark
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.mark}: {self.rule}: {self.message}"

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.mark.file, "line": self.mark.line, "column": self.mark.column,
            "rule": self.rule, "message": self.message,
        }


class PackError(Exception):
    """A pack that cannot be used; ``problems`` lists every reason found in one pass."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems), key=_order)
        super().__init__("\n".join(map(str, self.problems)))


def _order(p: Problem) -> tuple[str, int, int, str]:
    return (p.mark.file, p.mark.line, p.mark.column, p.rule)


def sort_problems(problems: list[Problem]) -> list[Problem]:
    return sorted(set(problems), key=_order)
