"""Fixtures of the reliability suite: count the faults the tests inject.

The issue asks the suite to say how many faults it tried. Tests report each
injection through ``record_fault(kind, n=1)`` (a NaN loss, a killed process, a torn
checkpoint, ...) and each malformed input through ``record_bad_input(case_name)``;
``pytest_terminal_summary`` below prints the totals by kind at the end of the run.
"""
from collections import Counter
from typing import Callable

import pytest

# Filled during the session, read by the terminal summary.
FAULT_COUNTS: Counter = Counter()
BAD_INPUTS: Counter = Counter()


@pytest.fixture
def record_fault() -> Callable[..., None]:
    """``record_fault(kind, n=1)``: count ``n`` injected faults of ``kind``."""

    def record(kind: str, n: int = 1) -> None:
        FAULT_COUNTS[kind] += n
        print(f'[reliability] injected {n} fault(s) of kind {kind!r}')

    return record


@pytest.fixture
def record_bad_input() -> Callable[[str], None]:
    """``record_bad_input(case_name)``: count one malformed-input case."""

    def record(case_name: str) -> None:
        BAD_INPUTS[case_name] += 1
        print(f'[reliability] tried bad input {case_name!r}')

    return record


def summary_lines() -> list:
    """The lines the terminal summary prints (empty when nothing was injected)."""
    lines = []
    if FAULT_COUNTS:
        kinds = ', '.join(f'{k}: {v}' for k, v in sorted(FAULT_COUNTS.items()))
        lines.append(f'faults injected: {sum(FAULT_COUNTS.values())} ({kinds})')
    if BAD_INPUTS:
        lines.append(f'bad inputs tried: {sum(BAD_INPUTS.values())} '
                     f'({len(BAD_INPUTS)} distinct cases)')
    return lines


def pytest_terminal_summary(terminalreporter) -> None:
    lines = summary_lines()
    if lines:
        terminalreporter.section('reliability: fault injection')
        for line in lines:
            terminalreporter.write_line(line)
