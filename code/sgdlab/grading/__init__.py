"""Exercises you can grade: instant feedback for students, a sandboxed grader
for instructors.

Students call :func:`check` in a notebook::

    from sgdlab.grading import check
    check("ch1-optimizer-steps", optimizer_steps)

It runs the exercise's public cases on the function, in the student's own
kernel, and says which case fails, what was expected and what came back,
with a hint. The public cases and their expected values come from
``bank.json``, generated from the chapters; no reference solution ships
with the package.

Instructors grade many submissions with ``sgdlab grade`` (see
:mod:`sgdlab.grading.cli`): each runs in a bubblewrap sandbox
(:mod:`sgdlab.grading.sandbox`) with a grading copy of the package
(:mod:`sgdlab.grading.package`); the reference solutions, expected values
and hidden cases (:mod:`sgdlab.grading.hidden`) stay in the grader's process
(:mod:`sgdlab.grading.grader` for one submission, :mod:`sgdlab.grading.gradebook`
for many).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .exercises import EXERCISES, Case, Exercise, chapter_exercises
from .hidden import load_hidden
from .values import UnsupportedValue, compare, encode


@dataclass
class CheckResult:
    """What :func:`check` found: passed and total public cases, and messages."""

    exercise: str
    passed: int
    total: int
    messages: list[str] = field(default_factory=list)

    @property
    def all_passed(self) -> bool:
        return self.passed == self.total

    def __str__(self) -> str:
        head = (
            f"{self.exercise}: all {self.total} public cases pass."
            if self.all_passed
            else f"{self.exercise}: {self.passed} of {self.total} public cases pass."
        )
        return "\n".join([head, *self.messages])

    def _repr_markdown_(self) -> str:
        return "\n\n".join(
            [f"**{str(self).splitlines()[0]}**", *[f"- {m}" for m in self.messages]]
        )


def check(exercise_id: str, function) -> CheckResult:
    """Run the public cases of ``exercise_id`` on ``function`` and report.

    Prints nothing itself; the result displays in a notebook (and ``print``
    shows it as text). Use ``result.all_passed`` in code.
    """
    if exercise_id not in EXERCISES:
        raise ValueError(
            f"unknown exercise {exercise_id!r}; the exercises are {sorted(EXERCISES)}"
        )
    exercise = EXERCISES[exercise_id]
    exercise_id = exercise.id  # a former id still works
    if not callable(function):
        raise ValueError(
            f"pass your function itself, e.g. check({exercise_id!r}, "
            f"{exercise.function}), not a {type(function).__name__}"
        )
    passed, messages = 0, []
    for number, (case, expected) in enumerate(
        zip(exercise.public, exercise.expected, strict=True), 1
    ):
        what = case.describe(exercise.function)
        try:
            got = encode(function(*case.args, **case.kwargs))
        except UnsupportedValue as err:
            problem = f"returned a value that cannot be graded: {err}"
        except Exception as err:  # noqa: BLE001 - report the student's error as feedback
            problem = f"raised {type(err).__name__}: {err}"
        else:
            problem = compare(expected, got, rtol=exercise.rtol, atol=exercise.atol)
        if problem is None:
            passed += 1
            messages.append(f"case {number} passes: {what}")
        else:
            messages.append(
                f"case {number} fails: {what}: {problem}. Hint: {exercise.hint}"
            )
    return CheckResult(exercise_id, passed, len(exercise.public), messages)


__all__ = [
    "EXERCISES",
    "Case",
    "CheckResult",
    "Exercise",
    "chapter_exercises",
    "check",
    "load_hidden",
]
