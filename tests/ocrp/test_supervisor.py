"""ocrp.supervisor with stand-in engines: small Python processes that record their device and
pid, say they are ready, and leave on SIGTERM."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocrp.supervisor import ChildSpec, Supervisor, backoff_s
from tests.fixtures.services import wait_for

STAND_IN = """
import os, pathlib, signal, subprocess, sys, time
out = pathlib.Path(sys.argv[1])
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
note = out / f"{os.getpid()}.tmp"  # renamed whole, so that a reader never sees half of it
note.write_text(os.environ["CUDA_VISIBLE_DEVICES"] + " " + str(grandchild.pid))
note.rename(out / f"{os.getpid()}.pid")
def leave(*_):
    grandchild.terminate(); grandchild.wait()
    (out / f"{os.getpid()}.stopped").write_text("")
    sys.exit(0)
signal.signal(signal.SIGTERM, leave)
ready = os.environ.get("READY")
if ready:
    pathlib.Path(ready).write_text("")
while True:
    time.sleep(0.05)
"""


def stand_in(name: str, device: str, out: Path, **kwargs: object) -> ChildSpec:
    env = {"CUDA_VISIBLE_DEVICES": device}
    ready = kwargs.pop("ready_file", None)
    if ready is not None:
        env["READY"] = str(ready)
    return ChildSpec(name, [sys.executable, "-c", STAND_IN, str(out)], env, ready_file=ready, **kwargs)  # type: ignore[arg-type]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split()[2] != "Z"


def started(out: Path) -> dict[int, tuple[str, int]]:
    found = {}
    for path in out.glob("*.pid"):
        device, grandchild = path.read_text().split()
        found[int(path.stem)] = (device, int(grandchild))
    return found


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Supervisor, Path]]:
    out = tmp_path / "out"
    out.mkdir()
    specs = [stand_in("gpu0", "0", out), stand_in("gpu1", "1", out)]
    supervisor = Supervisor(specs, grace_s=10, say=lambda _: None, poll_s=0.05)
    thread = threading.Thread(target=supervisor.run)
    thread.start()
    yield supervisor, out
    supervisor.request_stop()
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_one_child_per_device_each_pinned_to_its_own(running: tuple[Supervisor, Path]) -> None:
    supervisor, out = running
    wait_for(lambda: len(started(out)) == 2, 20, "two children")
    assert sorted(device for device, _ in started(out).values()) == ["0", "1"]
    assert {supervisor.pid("gpu0"), supervisor.pid("gpu1")} == set(started(out))


def test_a_killed_child_is_restarted_and_the_other_keeps_running(running: tuple[Supervisor, Path]) -> None:
    supervisor, out = running
    wait_for(lambda: len(started(out)) == 2, 20, "two children")
    victim, survivor = supervisor.pid("gpu0"), supervisor.pid("gpu1")
    assert victim is not None
    assert survivor is not None
    orphan = started(out)[victim][1]
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: supervisor.pid("gpu0") not in (None, victim), 20, "gpu0 restarted")
    assert supervisor.starts("gpu0") == 2
    assert supervisor.starts("gpu1") == 1
    assert supervisor.pid("gpu1") == survivor
    new = supervisor.pid("gpu0")
    wait_for(lambda: new in started(out), 20, "the new child running")
    assert started(out)[new][0] == "0"
    # what the killed child had started (a render process, a beat) did not outlive it
    wait_for(lambda: not alive(orphan), 10, "the killed child's process group gone")


def test_stop_ends_every_child_with_sigterm_first(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    supervisor = Supervisor(
        [stand_in("gpu0", "0", out), stand_in("gpu1", "1", out)], grace_s=10, say=lambda _: None, poll_s=0.05
    )
    thread = threading.Thread(target=supervisor.run)
    thread.start()
    wait_for(lambda: len(started(out)) == 2, 20, "two children")
    supervisor.request_stop()
    thread.join(timeout=30)
    children = started(out)
    assert not any(alive(pid) or alive(grandchild) for pid, (_, grandchild) in children.items())
    assert {int(p.stem) for p in out.glob("*.stopped")} == set(children), "a child did not get SIGTERM"


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    stubborn = ChildSpec(
        "gpu0",
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)",
        ],
    )
    supervisor = Supervisor([stubborn], grace_s=0.5, say=lambda _: None, poll_s=0.05)
    supervisor.poll_once()
    wait_for(lambda: supervisor.pid("gpu0") is not None, 10, "started")
    begun = time.monotonic()
    supervisor.stop()
    assert time.monotonic() - begun < 5
    assert supervisor.pid("gpu0") is None


def test_a_second_engine_on_a_gpu_waits_until_the_first_is_ready(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    gate = tmp_path / "e0.ready"
    first = ChildSpec("gpu0-e0", [sys.executable, "-c", "import time; time.sleep(600)"], ready_file=gate)
    second = stand_in("gpu0-e1", "0", out, start_after="gpu0-e0")
    supervisor = Supervisor([first, second], grace_s=5, say=lambda _: None)
    try:
        supervisor.poll_once()
        assert supervisor.pid("gpu0-e0") is not None
        assert supervisor.pid("gpu0-e1") is None
        gate.write_text("")  # what worker.app writes once its engine is loaded
        supervisor.poll_once()
        assert supervisor.pid("gpu0-e1") is not None
    finally:
        supervisor.stop()


def test_a_non_restarting_child_that_exits_ends_the_group(tmp_path: Path) -> None:
    quitter = ChildSpec("api", [sys.executable, "-c", "raise SystemExit(4)"], restart=False)
    supervisor = Supervisor(
        [quitter, stand_in("worker", "", tmp_path)], grace_s=5, say=lambda _: None, poll_s=0.05
    )
    supervisor.run()
    assert supervisor.ended_by == "api"
    assert supervisor.pid("worker") is None


def test_restart_backoff_doubles_up_to_a_cap() -> None:
    assert [backoff_s(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


ORPHAN_MAKER = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
time.sleep(0.3)
raise SystemExit(1)  # dies and leaves its grandchild to the reaper
"""

AS_PID_ONE = """
import ctypes, os, sys, time
from ocrp.supervisor import ChildSpec, Supervisor
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans come here, as to PID 1
supervisor = Supervisor([ChildSpec("gpu0", [sys.executable, "-c", sys.argv[1]])], 5, say=lambda _: None)
deadline = time.monotonic() + 20
while supervisor.starts("gpu0") < 3 and time.monotonic() < deadline:
    supervisor.poll_once()
    time.sleep(0.05)
supervisor.stop()


def zombies():
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(os.getpid()) and fields[0] == "Z":
            found.append(pid)
    return found


# the last grandchild dies of the stop's SIGKILL a moment later; the next polls collect it
for _ in range(20):
    supervisor.poll_once()
    time.sleep(0.05)
print("starts", supervisor.starts("gpu0"), "zombies", len(zombies()))
"""


def test_as_pid_one_the_supervisor_leaves_no_zombie_grandchildren() -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", AS_PID_ONE, ORPHAN_MAKER], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["starts", "3", "zombies", "0"]


SUPERVISE_ONE = """
import sys
from ocrp.supervisor import ChildSpec, Supervisor
supervisor = Supervisor([ChildSpec("gpu0", [sys.executable, "-c", sys.argv[1], sys.argv[2]], {"CUDA_VISIBLE_DEVICES": "0"})], 5)
supervisor.run()
"""


def test_children_end_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    import subprocess

    out = tmp_path / "out"
    out.mkdir()
    parent = subprocess.Popen([sys.executable, "-c", SUPERVISE_ONE, STAND_IN, str(out)])
    try:
        wait_for(lambda: len(started(out)) == 1, 20, "the child")
        [child] = started(out)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        wait_for(lambda: not alive(child), 20, "the child gone with its supervisor")
        assert (out / f"{child}.stopped").exists(), "the child was not given a warm shutdown"
    finally:
        if parent.poll() is None:
            parent.kill()
