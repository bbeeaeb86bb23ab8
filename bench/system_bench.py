"""`python -m bench system`: the whole system under a rising open-loop load through the gateway, until p99 > 750 ms.

The system is the e2e tests' (tests/e2e/e2e_system.private_layout and the local runner's System: dev inbox, the four
services with their relays and consumers in process, Envoy) on free ports, on the benchmark's PostgreSQL and Kafka;
the gateway's per-client and per-user rate limits raised, as bench/http_bench.py does, and the sign-up and login
limits too (every user here signs up from 127.0.0.1). Customers sign up through the API and confirm from the inbox,
an admin is made with `python -m identity create-admin` and grants two agents their role, as the e2e journey does.

A Go load generator (bench/loadgen, standard library only, built with `go build` into ~/.cache/casefold/loadgen so
the client does not take the Python processes' CPU) starts requests at a fixed rate per step, whatever the answers
take, in a mix: customers open cases, comment and list their cases; agents reply. Latency counts from the moment a
request was due. Steps rise (10, 20, 30 ... req/s) until p99 passes 750 ms or a request fails, twice in a row (a
failed step runs once more after a rest); the knee is the highest rate with p99 <= 750 ms and no error. At half the
knee (that step, too, runs once more if it fails): the time from each open-case 201 to its acknowledgement accepted
by the dev inbox's SMTP server (the inbox's message ids begin with its nanosecond clock, read when DATA arrives).
Each process's RSS (VmRSS sampled under load, VmHWM at the end) and CPU (utime+stime from /proc) per request of each
step complete the figures, PostgreSQL's and Kafka's too; in bench/results/system.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.harness import Infra, Result, percentile, print_table, write_results
from bench.procstat import database_and_broker, tree_cpu_seconds
from casefold_local.gateway import Gateway
from casefold_local.system import System

# The e2e helpers (the whole system on free ports, sign-up through the inbox) live with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from e2e.e2e_steps import Account, bearer, log_in, new_account, sign_up_and_confirm
from e2e.e2e_system import admin_creator, private_layout, running_system

ROOT = Path(__file__).resolve().parent.parent
LOADGEN = Path(__file__).resolve().parent / "loadgen"
CACHE = Path.home() / ".cache" / "casefold" / "loadgen"
UNLIMITED = 1_000_000
P99_LIMIT_MS = 750.0
RSS_TARGET_MB = 200.0
MAIL_TARGETS_MS = {"p50": 100.0, "p99": 300.0}
KINDS = ("open", "comment", "list", "reply")
_ACK_SUBJECT = re.compile(r"^\[Case (\d+)\]")


def log(line: str) -> None:
    print(f"  system {time.strftime('%H:%M:%S')} {line}", flush=True)


def build_loadgen() -> Path:
    """`go build` of bench/loadgen into the cache, once per version of its sources; no module is downloaded."""
    sources = [*sorted(LOADGEN.glob("*.go")), LOADGEN / "go.mod"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    binary = CACHE / f"loadgen-{digest}"
    if not binary.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "GOPROXY": "off", "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
        subprocess.run(["go", "build", "-o", str(binary), "."], cwd=LOADGEN, env=env, check=True, timeout=300)
    return binary


@dataclass
class KindFigures:
    count: int
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    status: dict[str, int]


@dataclass
class LoadStep:
    """One step as the load generator reports it."""

    rate: float
    duration_s: float
    achieved_rate: float
    max_schedule_lag_ms: float
    all: KindFigures
    kinds: dict[str, KindFigures]

    @property
    def passed(self) -> bool:
        return self.all.errors == 0 and self.all.count > 0 and self.all.p99_ms <= P99_LIMIT_MS


def parse_report(stdout: str) -> LoadStep:
    """The load generator's last JSON line."""
    line = next((ln for ln in reversed(stdout.splitlines()) if ln.startswith("{")), None)
    if line is None:
        raise ValueError(f"the load generator printed no report:\n{stdout[-2000:]}")
    doc = json.loads(line)
    return LoadStep(
        rate=float(doc["rate"]),
        duration_s=float(doc["duration_s"]),
        achieved_rate=float(doc["achieved_rate"]),
        max_schedule_lag_ms=float(doc["max_schedule_lag_ms"]),
        all=KindFigures(**doc["all"]),
        kinds={name: KindFigures(**figures) for name, figures in doc["kinds"].items()},
    )


def parse_opened(text: str) -> list[tuple[str, int, int]]:
    """The load generator's -opened file: (case id, case number, unix ns when its 201 arrived) per line."""
    rows = []
    for line in text.splitlines():
        case_id, number, arrived = line.split("\t")
        rows.append((case_id, int(json.loads(number)), int(arrived)))  # the number as the JSON had it: "00000089"
    return rows


# --- the processes' CPU and memory, from /proc ---


def _memory_mb(pid: int, field: str) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return 0.0


SERVICES = ("identity", "cases", "attachments", "notifications")


class Processes:
    """The system's processes by name: the four services, the inbox, Envoy, PostgreSQL and Kafka."""

    def __init__(self, system: System, infra: Infra) -> None:
        self.pids = {name: p.proc.pid for name, p in system.processes.items() if p.proc is not None}
        if system.mailbox.proc is not None:
            self.pids["mailbox"] = system.mailbox.proc.pid
        if (gateway := system.gateway.pid()) is not None:
            self.pids["envoy"] = gateway
        self.pids |= database_and_broker(infra.postgres_dsn, infra.kafka_bootstrap)
        self.peak_rss: dict[str, float] = dict.fromkeys(self.pids, 0.0)

    def cpu(self) -> dict[str, float]:
        return {name: tree_cpu_seconds(pid) for name, pid in self.pids.items()}

    def sample_rss(self) -> None:
        for name, pid in self.pids.items():
            self.peak_rss[name] = max(self.peak_rss[name], _memory_mb(pid, "VmRSS"))

    def high_water_mb(self) -> dict[str, float]:
        """VmHWM: the most resident memory each process ever had (the sign-ups' password hashing included)."""
        return {name: _memory_mb(pid, "VmHWM") for name, pid in self.pids.items()}

    async def sampling_rss(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.to_thread(self.sample_rss)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)


# --- the system and its users ---


@contextlib.asynccontextmanager
async def whole_system(infra: Infra, state: Path) -> AsyncIterator[System]:
    """The e2e tests' private system (tests/e2e/e2e_system.py), the gateway's rate limits raised; every client is
    127.0.0.1, so identity's per-address sign-up limit and the gateway's login burst are raised too."""
    layout = private_layout(
        infra.postgres_dsn, infra.kafka_bootstrap, state, "system", gateway_login_burst=UNLIMITED,
        extra_env=(("IDENTITY_SIGNUPS_PER_ADDRESS_PER_HOUR", str(UNLIMITED)),
                   ("IDENTITY_ACCESS_TOKEN_SECONDS", "3600")),
    )  # fmt: skip
    system = System(layout, report=log)
    settings = dataclasses.replace(system.gateway.settings, client_requests=UNLIMITED, user_requests=UNLIMITED)
    system.gateway = Gateway(layout.gateway_dir, settings)
    async with running_system(layout, 180, system) as running:
        yield running


@dataclass
class Users:
    customers: list[Account]
    agents: list[Account]
    cases: list[tuple[str, Account]]  # (case id, its customer): what customers comment on and agents answer


async def create_users(system: System, customers: int, cases_each: int) -> Users:
    """Customers and agents through the real API (sign-up, the inbox's confirmation link, login); the admin by CLI."""
    layout = system.layout
    async with (
        httpx.AsyncClient(base_url=layout.gateway_url, timeout=60) as gateway,
        httpx.AsyncClient(base_url=layout.mail_url, timeout=30) as inbox,
    ):
        slots = asyncio.Semaphore(4)  # identity hashes 4 passwords at a time

        async def account(kind: str) -> Account:
            user = new_account(kind)
            async with slots:
                await sign_up_and_confirm(gateway, inbox, user)
                await log_in(gateway, user)
            return user

        people = await asyncio.gather(*(account("customer") for _ in range(customers)))
        agents = await asyncio.gather(*(account("agent") for _ in range(2)))
        admin = new_account("admin")
        await asyncio.to_thread(admin_creator(system), admin.email, admin.display_name, admin.password)
        await log_in(gateway, admin)
        for agent in agents:
            granted = await gateway.post(f"/api/identity/users/{agent.id}/roles", json={"role": "agent"},
                                         headers=admin.auth)  # fmt: skip
            assert granted.status_code == 204, granted.text
            await log_in(gateway, agent)  # a token with the role in it

        async def open_case(customer: Account) -> tuple[str, Account]:
            response = await gateway.post("/api/cases", json=_case_body("set up"), headers=customer.auth)
            assert response.status_code == 201, response.text
            return response.json()["id"], customer

        cases = []
        for _ in range(cases_each):
            cases += await asyncio.gather(*(open_case(c) for c in people))
        # An agent answering a case of each customer, as the load will: the reply path works before it is timed.
        reply = await gateway.post(f"/api/cases/{cases[0][0]}/comments", json={"body": "Looking into it."},
                                   headers=bearer(agents[0].access_token))  # fmt: skip
        assert reply.status_code == 201, reply.text
    return Users(list(people), list(agents), cases)


def _case_body(subject: str) -> dict[str, Any]:
    return {"product": "casefold-cloud", "subject": f"System load: {subject}", "severity": 3,
            "description": "Every export times out after thirty seconds since this morning."}  # fmt: skip


def plan(system: System, users: Users) -> dict[str, Any]:
    """The load generator's plan: the mix of kinds (weights in percent) and their targets, taken in turn."""
    open_body = json.dumps(_case_body("opened under load"))
    comment = json.dumps({"body": "Still happening here; the export log attached earlier shows the same error."})
    answer = json.dumps({"body": "Thanks, we reproduced it and are rolling out a fix this afternoon."})
    return {
        "base": system.layout.gateway_url,
        "timeout_ms": 10_000,
        "kinds": [
            {"name": "open", "method": "POST", "weight": 20, "record": True,
             "targets": [{"path": "/api/cases", "token": c.access_token, "body": open_body} for c in users.customers]},
            {"name": "comment", "method": "POST", "weight": 25,
             "targets": [{"path": f"/api/cases/{case}/comments", "token": c.access_token, "body": comment}
                         for case, c in users.cases]},
            {"name": "list", "method": "GET", "weight": 35,
             "targets": [{"path": "/api/cases?status=all", "token": c.access_token} for c in users.customers]},
            {"name": "reply", "method": "POST", "weight": 20,
             "targets": [{"path": f"/api/cases/{case}/comments", "token": users.agents[i % 2].access_token,
                          "body": answer} for i, (case, _) in enumerate(users.cases)]},
        ],
    }  # fmt: skip


# --- the load ---


@dataclass
class Measured:
    step: LoadStep
    cpu_seconds: dict[str, float]  # by process, over the step; "loadgen" is the Go client's own
    load_average: float  # the machine's 1-minute load average at the end: how busy the other tenants kept it

    def per_request_ms(self, names: tuple[str, ...] | list[str]) -> float:
        total = sum(self.cpu_seconds.get(n, 0.0) for n in names)
        return 1000 * total / self.step.all.count if self.step.all.count else float("nan")

    @property
    def cpu_ms_per_request(self) -> float:
        """The four services' CPU per request."""
        return self.per_request_ms(SERVICES)


def _children_cpu() -> float:
    """The CPU of this process's ended children: the load generator's, read around each step."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def load_step(
    binary: Path, plan_file: Path, procs: Processes, rate: float, seconds: float, opened: Path | None = None
) -> Measured:
    command = [str(binary), "-config", str(plan_file), "-rate", f"{rate:g}", "-duration", f"{seconds:g}s",
               "-seed", str(int(rate))]  # fmt: skip
    if opened is not None:
        command += ["-opened", str(opened)]
    before = await asyncio.to_thread(procs.cpu)
    client_before = _children_cpu()
    stop = asyncio.Event()
    sampler = asyncio.create_task(procs.sampling_rss(stop))
    try:
        done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=seconds + 120)
    finally:
        stop.set()
        await sampler
    client_after = _children_cpu()
    after = await asyncio.to_thread(procs.cpu)
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed ({done.returncode}): {done.stderr[-2000:]}")
    used = {name: after[name] - before[name] for name in before}
    used["loadgen"] = client_after - client_before
    return Measured(parse_report(done.stdout), used, os.getloadavg()[0])


def describe(m: Measured) -> str:
    s = m.step
    kinds = "  ".join(f"{k} {s.kinds[k].p99_ms:.0f}" for k in KINDS if k in s.kinds)
    return (f"{s.rate:4.0f} req/s (got {s.achieved_rate:5.1f}): {s.all.count:5d} requests, {s.all.errors} errors, "
            f"p50 {s.all.p50_ms:6.1f} p90 {s.all.p90_ms:6.1f} p99 {s.all.p99_ms:6.1f} ms [p99 by kind: {kinds}] "
            f"services' CPU {m.cpu_ms_per_request:4.1f} ms/request, load average {m.load_average:.1f}")  # fmt: skip


async def ack_latencies(mail_url: str, opened: list[tuple[str, int, int]], within: float) -> tuple[list[float], int]:
    """ms from each open-case 201 to its acknowledgement's arrival at the inbox's SMTP server; and how many never
    arrived within the time. The first message of a case's number is its acknowledgement (nothing else mails a
    case before it: the load answers only the cases opened in the set-up)."""
    wanted = {number: arrived for _, number, arrived in opened}
    first: dict[int, int] = {}
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=mail_url, timeout=60) as inbox:
        while True:
            for message in (await inbox.get("/api/messages")).json():  # oldest first
                found = _ACK_SUBJECT.match(message["subject"] or "")
                if found and int(found.group(1)) in wanted:
                    first.setdefault(int(found.group(1)), int(message["id"].split("-")[0]))
            if len(first) == len(wanted) or time.monotonic() > deadline:
                break
            await asyncio.sleep(2)
    latencies = [(first[n] - wanted[n]) / 1e6 for n in wanted if n in first]
    return latencies, len(wanted) - len(first)


@dataclass
class Ladder:
    rates: list[float]
    seconds: float
    rest: float
    mail_seconds: float
    customers: int
    cases_each: int


FULL = Ladder([10, 20, 30, 40, 50, 60, 80, 100, 125, 150, 200, 250, 300, 400], 12, 3, 45, 24, 6)
QUICK = Ladder([10, 20, 40, 80, 160], 4, 1, 6, 8, 3)
SYSTEM = ("identity", "cases", "attachments", "notifications", "mailbox", "envoy", "postgres", "kafka")


@dataclass
class Outcome:
    steps: list[Measured]
    knee: float
    mail_step: Measured
    latencies: list[float]
    missing: int
    peak_rss: dict[str, float]  # sampled VmRSS during the load steps
    high_water: dict[str, float]  # VmHWM at the end: the whole run, set-up included
    idle_cores: dict[str, float]

    @property
    def half(self) -> float:
        return max(self.knee / 2, 5.0)


async def run(infra: Infra, *, quick: bool = False) -> None:
    ladder = QUICK if quick else FULL
    binary = await asyncio.to_thread(build_loadgen)
    work = Path(tempfile.mkdtemp(prefix="casefold-system-bench-"))
    try:
        async with whole_system(infra, work / "state") as system:
            log(f"creating {ladder.customers} customers, 2 agents and {ladder.customers * ladder.cases_each} cases")
            users = await create_users(system, ladder.customers, ladder.cases_each)
            plan_file = work / "plan.json"
            plan_file.write_text(json.dumps(plan(system, users)))
            procs = await asyncio.to_thread(Processes, system, infra)
            outcome = await _climb(binary, plan_file, procs, ladder, system.layout.mail_url, work / "opened.tsv")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _report(ladder, outcome)


async def _climb(binary: Path, plan_file: Path, procs: Processes, ladder: Ladder, mail_url: str,
                 opened_file: Path) -> Outcome:  # fmt: skip
    log("warm-up: 5 s at 10 req/s")
    await load_step(binary, plan_file, procs, 10, 5)
    idle = await _idle_cores(procs, ladder.rest + 4)
    log(f"idle: {sum(idle.values()):.2f} cores ({', '.join(f'{n} {c:.2f}' for n, c in idle.items())})")
    steps: list[Measured] = []
    knee = 0.0
    for rate in ladder.rates:
        steps.append(await load_step(binary, plan_file, procs, rate, ladder.seconds))
        log(describe(steps[-1]))
        if not steps[-1].step.passed:
            # Once more after a rest: on a shared machine one burst of another tenant's work can fail a step.
            await asyncio.sleep(3 * ladder.rest)
            steps.append(await load_step(binary, plan_file, procs, rate, ladder.seconds))
            log("again: " + describe(steps[-1]))
            if not steps[-1].step.passed:
                break
        knee = rate
        await asyncio.sleep(ladder.rest)
    half = max(knee / 2, 5.0)
    await asyncio.sleep(5)  # the last step's backlog (mail, projections) drains before the mail is timed
    log(f"mail latency at half the knee: {half:g} req/s for {ladder.mail_seconds:g} s")
    mail_step = await load_step(binary, plan_file, procs, half, ladder.mail_seconds, opened_file)
    log(describe(mail_step))
    if not mail_step.step.passed:  # the machine's other tenants starved the system: not the conditions asked for
        await asyncio.sleep(3 * ladder.rest)
        mail_step = await load_step(binary, plan_file, procs, half, ladder.mail_seconds, opened_file)
        log("again: " + describe(mail_step))
    latencies, missing = await ack_latencies(mail_url, parse_opened(await asyncio.to_thread(opened_file.read_text)), 60)
    return Outcome(steps, knee, mail_step, latencies, missing, dict(procs.peak_rss), procs.high_water_mb(), idle)


async def _idle_cores(procs: Processes, seconds: float) -> dict[str, float]:
    """Each process's CPU with no request coming (cores): the system's fixed cost, polling and timers."""
    await asyncio.sleep(2)
    before, began = await asyncio.to_thread(procs.cpu), time.monotonic()
    await asyncio.sleep(seconds)
    after, elapsed = await asyncio.to_thread(procs.cpu), time.monotonic() - began
    return {name: (after[name] - before[name]) / elapsed for name in before}


def _report(ladder: Ladder, o: Outcome) -> None:
    print(f"\nWhole system through the gateway: open-loop steps of {ladder.seconds:g} s (p99 limit "
          f"{P99_LIMIT_MS:g} ms)")  # fmt: skip
    for m in o.steps:
        print("  " + describe(m))
    at_knee = next((m for m in reversed(o.steps) if m.step.rate == o.knee and m.step.passed), None)
    p50, p90, p99 = (percentile(o.latencies, p) for p in (50, 90, 99))
    results = [
        Result("knee: highest rate with p99 <= 750 ms, no errors", "req/s", o.knee, ladder.rates[0],
               f"the first step ({ladder.rates[0]:g} req/s)", "report"),
        Result(f"open case -> ack accepted by SMTP, p50 at {o.half:g} req/s", "ms", p50, MAIL_TARGETS_MS["p50"],
               "the target (100 ms)", "<= 1.0x the target", higher_is_better=False),
        Result(f"open case -> ack accepted by SMTP, p99 at {o.half:g} req/s", "ms", p99, MAIL_TARGETS_MS["p99"],
               "the target (300 ms)", "<= 1.0x the target", higher_is_better=False),
    ]  # fmt: skip
    if at_knee is not None:
        whole = at_knee.per_request_ms(SYSTEM)
        results.append(Result(f"CPU per request, whole system, at {o.knee:g} req/s", "ms", whole, 2000 / o.knee,
                              "both cores' time per request", "report", higher_is_better=False))  # fmt: skip
        idle = sum(o.idle_cores.get(n, 0.0) for n in SYSTEM)
        results.append(Result("CPU at idle, whole system", "cores", idle, 2, "both cores", "report",
                              higher_is_better=False))  # fmt: skip
        results.append(Result("CPU per request, the four services", "ms", at_knee.cpu_ms_per_request, whole,
                              "the whole system's", "report", [m.cpu_ms_per_request for m in o.steps],
                              higher_is_better=False))  # fmt: skip
        for name in (*SYSTEM, "loadgen"):
            if name in at_knee.cpu_seconds:
                results.append(Result(f"  CPU per request, {name}", "ms", at_knee.per_request_ms([name]), whole,
                                      "the whole system's", "report", higher_is_better=False))  # fmt: skip
    for name in SYSTEM:
        if name in o.peak_rss:
            target = "<= 1.0x the target" if name in SERVICES else "report"
            results.append(Result(f"RSS under load (max VmRSS), {name}", "MB", o.peak_rss[name], RSS_TARGET_MB,
                                  "the target (200 MB)", target, higher_is_better=False))  # fmt: skip
    for name in SERVICES:
        if name in o.high_water:
            results.append(Result(f"RSS whole run (VmHWM, sign-ups too), {name}", "MB", o.high_water[name],
                                  RSS_TARGET_MB, "the target (200 MB)", "report", higher_is_better=False))  # fmt: skip
    print_table("Whole system", results)
    print(f"  mail: {len(o.latencies)} acknowledgements timed, {o.missing} not arrived within 60 s; p90 {p90:.1f} ms")
    extra = {
        "p99_limit_ms": P99_LIMIT_MS,
        "step_seconds": ladder.seconds,
        "mix_percent": {"open": 20, "comment": 25, "list": 35, "reply": 20},
        "customers": ladder.customers,
        "cases_set_up": ladder.customers * ladder.cases_each,
        "knee_requests_per_second": o.knee,
        "steps": [_step_json(m) for m in o.steps],
        "mail": {"rate": o.half, "seconds": ladder.mail_seconds, "timed": len(o.latencies), "missing": o.missing,
                 "p50_ms": p50, "p90_ms": p90, "p99_ms": p99, "step": _step_json(o.mail_step),
                 "latencies_ms": sorted(round(v, 1) for v in o.latencies)},
        "idle_cores": o.idle_cores,
        "rss_under_load_mb": o.peak_rss,
        "vmhwm_mb": o.high_water,
        "load_generator": "bench/loadgen (Go, standard library), open loop, latency from each request's due time",
    }  # fmt: skip
    path = write_results("system", results, extra)
    print(f"\nwritten to {path.relative_to(ROOT)}")


def _step_json(m: Measured) -> dict[str, Any]:
    return {**dataclasses.asdict(m.step), "cpu_seconds": m.cpu_seconds, "services_cpu_ms_per_request":
            m.cpu_ms_per_request, "system_cpu_ms_per_request": m.per_request_ms(SYSTEM)}  # fmt: skip
