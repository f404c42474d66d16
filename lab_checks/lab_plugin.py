"""pytest plugin of the lab suite: order of the steps, their dependencies, progress and reports.

A test is a lab step when it carries `@pytest.mark.lab_step(N)`; N is its number in steps.STEPS,
which gives its name, command and prerequisites. This plugin
  - runs the steps in the lab's order whatever order they were collected in;
  - reports a step whose prerequisite did not pass (or whose set-up failed) as "not run" instead
    of failing it again;
  - writes a table at the end of the terminal output and a JSON report (--lab-report-json), and
    makes the exit status 0 only when every collected step passed;
  - shows what is being waited for (Progress), past pytest's output capture;
  - collects each step's verdicts on the lab text's statements (record_statements, lab_drift.py):
    a drifted statement is a note in the table, and all of them go into the JSON report and into
    the Markdown section "Lab text drift" (lab-drift.md next to the JSON report);
  - under faults: once a step found the API server unreachable (ApiUnreachable), a later step
    that needs it runs only when it answers again, else it is "not run" with that reason; SIGINT
    (Ctrl-C) and SIGTERM stop the run as KeyboardInterrupt (pytest's exit status 2, the step it
    hit reported "interrupted") and further signals are ignored until cleanup is over.

Its state is one LabRun in config.stash (see lab_run()); the fixtures (conftest.py) fill in the
cluster, the shell whose command log goes into the report, and what cleanup did.
Registered by lab_checks/conftest.py; the options it reads are options.py's.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lab_checks.lab_drift import BROKEN, DRIFTED, markdown
from lab_checks.lab_text import of_step
from lab_checks.steps import STEPS, Step
from lab_checks.where import build_dir



class StepFailed(AssertionError):
    """A lab step's outcome is wrong. `reason` is the one line for the table; `details` the evidence."""

    def __init__(self, reason: str, details: str = ""):
        self.reason = " ".join(reason.split())
        self.details = details.rstrip()
        super().__init__(self.reason + ("\n\n" + self.details if self.details else ""))


class ApiUnreachable(StepFailed):
    """A command of a step could not reach the Kubernetes API server, and a probe confirmed it.
    `server`: the kubeconfig's server URL; `why`: a few words (connection refused, no answer in time)."""

    def __init__(self, server: str, why: str, command: str, details: str = ""):
        self.server, self.why, self.command = server, why, command
        super().__init__(f"the Kubernetes API server {server} is unreachable ({why}): `{command}` failed", details)


class SetupFailed(RuntimeError):
    """The cluster or Istio the lab needs is not there (a fixture problem, not a lab step)."""


# --------------------------------------------------------------------------------------------
# Progress while waiting
# --------------------------------------------------------------------------------------------

class Progress:
    """Shows what is being waited for and the elapsed time, past pytest's output capture.

    On a terminal one line is rewritten in place; otherwise (CI logs) a line is printed when the
    state changes and at least every 10 seconds, so logs stay short but never go silent.
    Without a pytest config (labkit used on its own) it prints to stderr.
    """

    def __init__(self, config=None):
        self.config = config
        self.tty = False
        if config is not None:
            stream = getattr(config.get_terminal_writer(), "_file", None)
            self.tty = bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())
        self._last_text = None
        self._last_print = 0.0
        self._inline = False

    def _write(self, text: str, final: bool = False):
        if self.config is None:
            print(text, file=sys.stderr, flush=True)
            return
        capman = self.config.pluginmanager.getplugin("capturemanager")
        tw = self.config.get_terminal_writer()
        with capman.global_and_fixture_disabled() if capman else contextlib.nullcontext():
            if self.tty:
                width = max(20, tw.fullwidth - 1)
                tw.write("\r" + text[:width].ljust(width))
                self._inline = True
                if final:
                    tw.write("\r" + " " * width + "\r")
                    self._inline = False
                tw.flush()
            elif not final:
                if self._last_text is None:
                    tw.line()   # pytest's progress dots end without a newline
                tw.line(text)
                tw.flush()

    def update(self, what: str, elapsed: float, state: str = ""):
        text = f"  ... waiting for {what} ({elapsed:.0f}s){': ' + state if state else ''}"
        now = time.monotonic()
        changed = (what, state) != self._last_text
        if self.tty or changed or now - self._last_print >= 10:
            self._write(text)
            self._last_text = (what, state)
            self._last_print = now

    def done(self):
        if self._inline:
            self._write("", final=True)
        self._last_text = None


# --------------------------------------------------------------------------------------------
# State of one run
# --------------------------------------------------------------------------------------------

NOT_REACHED = "not reached (run interrupted)"


@dataclass
class StepResult:
    """One row of the table and one entry of the JSON report's "steps"."""
    number: int
    title: str
    command: str
    depends: tuple[int, ...]
    name: str
    nodeid: str
    outcome: str = "not run"          # passed | failed | error | not run | interrupted
    seconds: float = 0.0
    setup_seconds: float = 0.0
    reason: str = NOT_REACHED
    details: str = ""
    commands: list = field(default_factory=list)
    # lab_drift.Verdict dicts of the step's lab_text statements; "not checked" when it did not run.
    statements: list = field(default_factory=list)


@dataclass
class LabRun:
    progress: Progress
    results: dict[int, StepResult] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    failed_fixtures: dict[str, str] = field(default_factory=dict)
    shell: Any = None                 # labkit.Lab: its command log is cleared per step and reported
    cluster: dict | None = None       # what the report says about the cluster
    cleanup: list[str] | None = None  # what cleanup did; None until it ran
    # What cleanup could not remove: [{"what": ..., "why": ..., "remove_with": ...}].
    left_behind: list[dict] = field(default_factory=list)
    current: int | None = None        # the step being set up or run
    # (step, server, why) once a step found the API server unreachable; cleared when it answers.
    api_down: tuple | None = None
    interrupted_by: str | None = None  # "SIGINT (Ctrl-C)" or "SIGTERM" once one stopped the run
    told_to_wait: bool = False
    previous_handlers: dict = field(default_factory=dict)
    report_path: Path | None = None
    drift_path: Path | None = None

    @property
    def all_passed(self) -> bool:
        return bool(self.results) and all(r.outcome == "passed" for r in self.results.values())


_RUN = pytest.StashKey[LabRun]()


def lab_run(config) -> LabRun:
    """The run's state, created on first use."""
    if _RUN not in config.stash:
        config.stash[_RUN] = LabRun(progress=Progress(config))
    return config.stash[_RUN]


def pytest_configure(config):
    config.addinivalue_line("markers", "lab_step(number): the test is step `number` of lab_checks/steps.py")


def record_statements(item, verdicts) -> list:
    """Keeps a step's verdicts (lab_drift.classify) for the reports; returns the broken ones,
    which the step must fail on."""
    r = lab_run(item.config).results.get(step_of(item).number)
    if r is not None:
        r.statements = [v.as_dict() for v in verdicts]
    return [v for v in verdicts if v.status == BROKEN]


def _settle_statements(r: StepResult):
    """Statements of a step that ended before judging them: broken when the step failed (its
    reason says why), "not checked" when it did not run."""
    if r.statements:
        return
    status, seen = (BROKEN, r.reason) if r.outcome in ("failed", "error") else ("not checked", r.reason)
    r.statements = [{"key": s.key, "step": s.step, "text": s.text, "status": status, "seen": seen}
                    for s in of_step(r.number)]


def drift_notes(r: StepResult) -> list[str]:
    return [f"lab text drift: {v['key']}: {v['seen']}" for v in r.statements if v["status"] == DRIFTED]


def step_of(item) -> Step | None:
    marker = item.get_closest_marker("lab_step")
    return STEPS[marker.args[0]] if marker else None


# --------------------------------------------------------------------------------------------
# Order and dependencies
# --------------------------------------------------------------------------------------------

def pytest_collection_modifyitems(session, config, items):
    steps = [i for i in items if step_of(i)]
    if not steps or config.option.collectonly:   # nothing runs: no table, no report
        return
    items[:] = sorted(steps, key=lambda i: step_of(i).number) + [i for i in items if not step_of(i)]
    run = lab_run(config)
    for item in steps:
        s = step_of(item)
        run.results[s.number] = StepResult(s.number, s.name, s.command, s.depends, item.name, item.nodeid)
    run.started = time.time()
    _install_signal_handlers(run)


# --------------------------------------------------------------------------------------------
# Signals
# --------------------------------------------------------------------------------------------

SIGNAL_NAMES = {signal.SIGINT: "SIGINT (Ctrl-C)", signal.SIGTERM: "SIGTERM"}


def _install_signal_handlers(run: LabRun):
    """SIGINT and SIGTERM end the run as KeyboardInterrupt, which pytest answers by tearing the
    fixtures down (the `lab` fixture's cleanup) and exiting with status 2. The first signal does
    that; later ones (an impatient second Ctrl-C) are ignored with a note, so they cannot cut the
    teardown short before cleanup starts (cleanup itself ignores both signals and runs its kubectl
    commands in sessions of their own). Only in a run with lab steps, and only in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return

    def on_signal(signum, frame):
        name = SIGNAL_NAMES.get(signum, f"signal {signum}")
        if run.interrupted_by is None:
            run.interrupted_by = name
            raise KeyboardInterrupt(name)
        if not run.told_to_wait:
            run.told_to_wait = True
            with contextlib.suppress(Exception):
                sys.stderr.write(f"\nlab: {name} ignored: cleaning up after the interrupt, please wait\n")
                sys.stderr.flush()

    for signum in SIGNAL_NAMES:
        run.previous_handlers.setdefault(signum, signal.getsignal(signum))
        signal.signal(signum, on_signal)


def pytest_unconfigure(config):
    run = config.stash.get(_RUN, None)
    if run is None or threading.current_thread() is not threading.main_thread():
        return
    for signum, handler in run.previous_handlers.items():
        if run.interrupted_by is not None:
            # The run was interrupted and is ending: further signals stay ignored, at the OS level
            # (Python resets its own handlers to the default while it shuts down, and a signal in
            # that moment would kill the process instead of letting it exit with status 2).
            handler = signal.SIG_IGN
        signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
    run.previous_handlers.clear()


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    # A session fixture that failed fails every step using it; those steps are then "not run".
    try:
        return (yield)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        lab_run(request.config).failed_fixtures.setdefault(fixturedef.argname, first)
        raise


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    step = step_of(item)
    if step is None:
        return
    run = lab_run(item.config)
    for dep in step.depends:
        r = run.results.get(dep)
        if r is None or r.outcome != "passed":
            why = {"failed": "failed", "error": "could not be set up", "not run": "was not run"}.get(
                r.outcome if r else "", "was not collected")
            pytest.skip(f"not run: depends on step {dep} ({STEPS[dep].name}), which {why}")
    for name in item.fixturenames:
        if name in run.failed_fixtures:
            pytest.skip(f"not run: set-up `{name}` failed: {run.failed_fixtures[name]}")
    if step.api and run.api_down and run.shell is not None:
        # An earlier step found the API server unreachable: run this one only if it answers again.
        found_at, server, _ = run.api_down
        still = run.shell.api_unreachable()
        if still:
            run.shell.log.clear()
            pytest.skip(f"not run: the Kubernetes API server {server} is unreachable ({still}; "
                        f"since step {found_at}, {STEPS[found_at].name})")
        run.api_down = None
    run.current = step.number
    if run.shell is not None:
        run.shell.log.clear()   # the report lists this step's own commands


# --------------------------------------------------------------------------------------------
# Results and reports
# --------------------------------------------------------------------------------------------

def _reason_of(excinfo) -> tuple[str, str]:
    exc = excinfo.value
    if isinstance(exc, StepFailed):
        return exc.reason, exc.details
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if not isinstance(exc, (AssertionError, SetupFailed)):
        first = f"{type(exc).__name__}: {first}"
    return first, text


def _skip_reason(excinfo) -> str:
    return str(getattr(excinfo.value, "msg", excinfo.value))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    step = step_of(item)
    if step is None:
        return report
    run = lab_run(item.config)
    r = run.results[step.number]
    if call.when == "setup":
        r.setup_seconds = round(call.duration, 2)
        if report.skipped:
            r.outcome, r.reason = "not run", _skip_reason(call.excinfo)
        elif report.failed:
            r.outcome = "error"
            reason, r.details = _reason_of(call.excinfo)
            r.reason = f"set-up failed: {reason}"
            if isinstance(call.excinfo.value, (StepFailed, SetupFailed)):
                # What failed and why; the traceback into the fixtures' code says nothing more.
                report.longrepr = f"step {step.number} ({step.name}): {r.reason}\n\n{r.details}".rstrip()
            if isinstance(call.excinfo.value, ApiUnreachable) and run.api_down is None:
                exc = call.excinfo.value
                run.api_down = (step.number, exc.server, exc.why)
    elif call.when == "call":
        r.seconds = round(call.duration, 2)
        if report.passed:
            r.outcome, r.reason = "passed", ""
        elif report.skipped:
            r.outcome, r.reason = "not run", _skip_reason(call.excinfo)
        else:
            r.outcome = "failed"
            r.reason, r.details = _reason_of(call.excinfo)
            if isinstance(call.excinfo.value, ApiUnreachable) and run.api_down is None:
                exc = call.excinfo.value
                run.api_down = (step.number, exc.server, exc.why)
            if isinstance(call.excinfo.value, StepFailed):
                # The diagnosis is the useful part; the traceback into the suite's code is not.
                report.longrepr = f"step {step.number} ({step.name}): {r.reason}\n\n{r.details}"
        if run.shell is not None:
            r.commands = [{"command": c.command, "exit": c.returncode, "seconds": round(c.seconds, 2)}
                          for c in run.shell.log]
        notes = [value for key, value in item.user_properties if key == "note"] + drift_notes(r)
        if notes and not r.reason:
            r.reason = "note: " + "; ".join(notes)
    elif call.when == "teardown" and report.failed and r.outcome == "passed":
        r.outcome = "error"
        r.reason, r.details = _reason_of(call.excinfo)
    # The one-line reason goes into the JUnit report too.
    if call.when in ("setup", "call") and r.reason:
        report.user_properties = list(report.user_properties) + [("lab_reason", r.reason)]
    return report


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    # trylast: after the session fixtures' teardown (pytest's own sessionfinish does it when the
    # run was interrupted), so the report includes what cleanup did.
    config = session.config
    run = lab_run(config)
    if not run.results:
        return
    interrupted = int(exitstatus) == int(pytest.ExitCode.INTERRUPTED)
    if interrupted:
        _mark_interrupted(run)
    for r in run.results.values():
        _settle_statements(r)
    verdicts = [v for r in run.results.values() for v in r.statements]
    opt = config.getoption("lab_report_json")
    if opt != "":
        path = Path(opt) if opt else build_dir() / "lab-report.json"
        report = {
            "suite": "sidecar-injection lab",
            "result": "passed" if run.all_passed else "failed",
            "started": datetime.datetime.fromtimestamp(run.started, datetime.timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(time.time() - run.started, 1),
            "interrupted": interrupted,
            "interrupted_by": run.interrupted_by if interrupted else None,
            "interrupted_at_step": run.current if interrupted else None,
            "cluster": run.cluster or {},
            "namespace": config.getoption("lab_namespace"),
            "steps": [asdict(r) for r in run.results.values()],
            "drift": {status: [v["key"] for v in verdicts if v["status"] == status]
                      for status in ("holds", DRIFTED, BROKEN, "not checked")},
        }
        if run.cleanup is not None:
            report["cleanup"] = run.cleanup
            report["left_behind"] = run.left_behind
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(report, indent=2) + "\n")
        tmp.replace(path)
        run.report_path = path
        # Next to the JSON report: the section a course author pastes into their changelog.
        c = run.cluster or {}
        revision = c.get("istio_revision") or ""
        heading = (f"cluster {c.get('name', '?')} (Kubernetes {c.get('server_version', '?')}, istiod "
                   f"{c.get('istiod_image', '?')}"
                   + (f", Istio revision {revision.split(' (')[0]}" if revision and not revision.startswith("default") else "")
                   + f"), make verify-lab of {report['started']}, result {report['result']}")
        run.drift_path = path.with_name("lab-drift.md")
        run.drift_path.write_text(markdown([(heading, verdicts)]))
    # Exit 0 only when every step passed: a step that did not run is not a working lab.
    if not run.all_passed and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _mark_interrupted(run: LabRun):
    """After SIGINT/SIGTERM: the step it hit is "interrupted", the steps never reached say so."""
    how = run.interrupted_by or "KeyboardInterrupt"
    where = "before the first step"
    if run.current:
        hit = run.results.get(run.current)
        where = ("at" if hit is None or hit.reason == NOT_REACHED else "after") + \
            f" step {run.current} ({STEPS[run.current].name})"
    for r in run.results.values():
        if r.reason != NOT_REACHED:
            continue
        if r.number == run.current:
            r.outcome, r.reason = "interrupted", f"interrupted by {how} during this step"
        else:
            r.reason = f"not run: the run was interrupted by {how} {where}"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    run = lab_run(config)
    if not run.results:
        return
    tr = terminalreporter
    tr.section("sidecar-injection lab")
    if run.cluster:
        info = run.cluster
        tr.write_line(f"cluster: {info['name']} ({info['mode']}, Kubernetes {info.get('server_version')}); "
                      f"istiod: {info.get('istiod_image', '?')}; namespace: {config.getoption('lab_namespace')}"
                      + (f"; Istio revision {info['istio_revision']}" if info.get("istio_revision") else ""))
    rows = [(f"{r.number} {r.title}", r.outcome.upper() if r.outcome != "not run" else "not run",
             f"{r.seconds:.1f}", r.reason) for r in run.results.values()]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(("step", "result", "seconds"))]
    head = f"{'step':<{widths[0]}}  {'result':<{widths[1]}}  {'seconds':>{widths[2]}}  reason"
    tr.write_line(head)
    tr.write_line("-" * min(len(head) + 40, tr._tw.fullwidth))
    colors = {"PASSED": {"green": True}, "FAILED": {"red": True}, "ERROR": {"red": True}, "not run": {"yellow": True},
              "INTERRUPTED": {"red": True}}
    reason_width = max(110, tr._tw.fullwidth - sum(widths) - 8)
    for row in rows:
        reason = row[3] if len(row[3]) <= reason_width else row[3][:reason_width - 1] + "…"
        tr.write(f"{row[0]:<{widths[0]}}  ")
        tr.write(f"{row[1]:<{widths[1]}}", **colors.get(row[1], {}))
        tr.write_line(f"  {row[2]:>{widths[2]}}  {reason}")
    setup = sum(r.setup_seconds for r in run.results.values())
    total = sum(r.seconds for r in run.results.values())
    verdict = "every step passed" if run.all_passed else "the lab does NOT work"
    if any(r.outcome == "interrupted" for r in run.results.values()) or run.interrupted_by:
        verdict = f"interrupted by {run.interrupted_by or 'KeyboardInterrupt'}"
    tr.write_line(f"steps {total:.1f}s, set-up {setup:.1f}s: {verdict}",
                  **({"green": True} if run.all_passed else {"red": True, "bold": True}))
    for note in run.cleanup or []:
        tr.write_line(f"cleanup: {note}", **({"red": True} if note.startswith("could not") else {}))
    verdicts = [v for r in run.results.values() for v in r.statements]
    counts = {s: sum(v["status"] == s for v in verdicts) for s in ("holds", DRIFTED, BROKEN, "not checked")}
    tr.write_line("lab text: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n or s != "not checked"))
    for v in verdicts:
        if v["status"] in (DRIFTED, BROKEN):
            # Not cut to the terminal's width: what students see instead is the point of the line.
            tr.write_line(f"  {v['status']:<7}  step {v['step']} {v['key']}: {v['seen']}",
                          **({"yellow": True} if v["status"] == DRIFTED else {"red": True}))
    if run.report_path:
        tr.write_line(f"JSON report: {run.report_path}")
    if run.drift_path:
        tr.write_line(f"lab text drift (Markdown): {run.drift_path}")
