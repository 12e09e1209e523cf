"""Benchmark: the workflow interpreter against SpiffWorkflow (BPMN) on the case lifecycle.

Run:  .venv/bin/python bench/bench_workflow.py
Needs SpiffWorkflow, which is not a dependency of bianmin:  .venv/bin/pip install spiffworkflow

The lifecycle start → accept → pause → resume → complete → deliver (6 transitions) of one case of
jiangyin's food_business_licence, in memory, run these ways in the same process:

(a) bianmin.workflow, everything on: roles, the accept guard (sandboxed Jinja2 expression), the
    pause and decision forms validated (bianmin.forms), the time-limit rules of the pause checked
    and the completion checked for lateness (violations) by the clock rules, the event log and
    the effects;
(a') the same, with the clocks' deadline memo emptied before each lifecycle (every record here
    has the same days; real records of one day share their start day, not always their pauses),
    for reference;
(b) the same interpreter on the same workflow with the two forms taken off the transitions;
(c) SpiffWorkflow 3 doing the same lifecycle with the same data: a BPMN process (start event, an
    exclusive gateway, five user tasks, end events) built here from an XML string; the case's
    subject (number, materials) is the process data from the start, each user task is completed
    with the step's data and the actor, and the gateway before `accept` evaluates the condition
    of our accept guard (every material received) on that data;
(c0) for reference, the earlier, barer BPMN peer: no gateway, no subject data.

SpiffWorkflow checks no roles, forms or time limits; (b) is the closer like for like. Rounds of
the ways alternate, and each way keeps its best round, so that other processes on the machine
slow all of them alike (the load average is printed before and after). Prints transitions per
second, the ratios, and PASS/FAIL for the target (a) >= 30x (c); exits 1 when it is missed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from time import perf_counter
from typing import Callable

TARGET = 30
ROUNDS = 7
ROUND_SECONDS = 0.6
TRANSITIONS = 6  # the start event counts as one, as SpiffWorkflow's instance creation does
STEPS = ("accept", "pause", "resume", "complete", "deliver")

try:
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.util.task import TaskState
except ImportError:
    sys.exit("bench_workflow needs SpiffWorkflow, which bianmin does not depend on:\n"
             "    .venv/bin/pip install spiffworkflow")

from bianmin import paths  # noqa: E402
from bianmin.packs import Compiler  # noqa: E402
from bianmin.packs.model import Pack  # noqa: E402
from bianmin.workflow import Actor, fire, start  # noqa: E402
from bianmin.workflow.machine import compiled  # noqa: E402

ITEM = "food_business_licence"
CLERK = Actor("clerk-1", "王窗口", frozenset({"clerk"}))
AT = [dt.datetime(2026, 3, 2, 9), dt.datetime(2026, 3, 2, 10), dt.datetime(2026, 3, 3, 10),
      dt.datetime(2026, 3, 6, 10), dt.datetime(2026, 3, 9, 10), dt.datetime(2026, 3, 9, 15)]
DATA = {"accept": {}, "pause": {"reason": "on_site_audit", "expected_duration": 3, "duration_unit": "working_day"},
        "resume": {}, "complete": {"outcome": "approved", "result_document": "食品经营许可证 JY3202810001"},
        "deliver": {}}


# -- bianmin ------------------------------------------------------------------------------------

def interpreter(pack: Pack, cold: bool = False) -> Callable[[], None]:
    item = pack.item(ITEM)
    materials = [{"id": m.id, "received": True} for m in item.materials]
    setups = compiled(pack, "case").clocks.setups  # per clock: limit, meter, deadlines worked out

    def lifecycle() -> None:
        if cold:
            for setup in setups.values():
                if setup.deadlines:
                    setup.deadlines.clear()
        case = start(pack, "case", subject={"number": "JY-2026-0001", "materials": materials}, actor=CLERK,
                     data={}, now=AT[0], item_id=ITEM).instance
        for step, at in zip(STEPS, AT[1:]):
            case = fire(case, step, actor=CLERK, data=DATA[step], now=at).instance
        assert case.state == "delivered"
    return lifecycle


def without_forms(pack: Pack) -> Pack:
    wf = pack.workflow("case")
    bare = dataclasses.replace(wf, transitions=tuple(dataclasses.replace(t, form="") for t in wf.transitions))
    return dataclasses.replace(pack, workflows=tuple(bare if w.id == "case" else w for w in pack.workflows))


# -- SpiffWorkflow ------------------------------------------------------------------------------

# Our accept guard is `case.materials_complete`: every catalogue material received. The subject's
# materials list has one row per catalogue material, so on the process data it reads:
MATERIALS_COMPLETE = 'all(m["received"] for m in materials)'


def bpmn(gateway: bool = True) -> str:
    tasks = "".join(f'<bpmn:userTask id="{s}" name="{s}"/>' for s in STEPS)
    nodes = [*STEPS, "end"]
    flows = [f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
             for i, (a, b) in enumerate(zip(nodes, nodes[1:]))]
    if gateway:
        extra = '<bpmn:exclusiveGateway id="check" default="to_incomplete"/><bpmn:endEvent id="incomplete"/>'
        flows += ['<bpmn:sequenceFlow id="to_check" sourceRef="start" targetRef="check"/>',
                  f'<bpmn:sequenceFlow id="to_accept" sourceRef="check" targetRef="accept">'
                  f'<bpmn:conditionExpression>{MATERIALS_COMPLETE}</bpmn:conditionExpression></bpmn:sequenceFlow>',
                  '<bpmn:sequenceFlow id="to_incomplete" sourceRef="check" targetRef="incomplete"/>']
    else:
        extra = ""
        flows.append('<bpmn:sequenceFlow id="to_accept" sourceRef="start" targetRef="accept"/>')
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" '
            'targetNamespace="http://bpmn.io/schema/bpmn">'
            f'<bpmn:process id="case" isExecutable="true"><bpmn:startEvent id="start"/>{extra}{tasks}'
            f'<bpmn:endEvent id="end"/>{"".join(flows)}</bpmn:process></bpmn:definitions>')


def spiff(pack: Pack, same_data: bool = True) -> Callable[[], None]:
    parser = BpmnParser()
    parser.add_bpmn_str(bpmn(gateway=same_data).encode("utf-8"))
    spec = parser.get_spec("case")
    materials = [{"id": m.id, "received": True} for m in pack.item(ITEM).materials]

    def lifecycle() -> None:
        workflow = BpmnWorkflow(spec)
        if same_data:  # the subject, as start() gets it
            workflow.get_next_task(state=TaskState.READY).data.update(number="JY-2026-0001", materials=materials)
        workflow.do_engine_steps()
        for step in STEPS:
            task = workflow.get_next_task(state=TaskState.READY, manual=True)
            assert task is not None and task.task_spec.bpmn_id == step
            task.data.update(DATA[step], actor=CLERK.id)
            task.run()
            workflow.do_engine_steps()
        assert workflow.is_completed()
    return lifecycle


# -- measuring ----------------------------------------------------------------------------------

def one_round(lifecycle: Callable[[], None]) -> float:
    """Transitions per second over one round of at least ROUND_SECONDS."""
    done, began = 0, perf_counter()
    while True:
        for _ in range(20):
            lifecycle()
        done += 20
        elapsed = perf_counter() - began
        if elapsed >= ROUND_SECONDS:
            return done * TRANSITIONS / elapsed


def main() -> int:
    import os

    import SpiffWorkflow

    pack = Compiler(paths.policies_dir()).compile(paths.policies_dir() / "jiangyin")
    ways = {"(a) bianmin.workflow, forms and clock rules": interpreter(pack),
            "(a') the same, deadline memo emptied each time": interpreter(pack, cold=True),
            "(b) bianmin.workflow, without the two forms": interpreter(without_forms(pack)),
            "(c) SpiffWorkflow, same data, guard as gateway": spiff(pack),
            "(c0) SpiffWorkflow, bare user tasks (reference)": spiff(pack, same_data=False)}
    load = os.getloadavg()[0]
    for lifecycle in ways.values():  # warm up: caches, compiled forms and guards
        for _ in range(50):
            lifecycle()
    best = dict.fromkeys(ways, 0.0)
    for _ in range(ROUNDS):
        for name, lifecycle in ways.items():
            best[name] = max(best[name], one_round(lifecycle))
    full, cold, bare, bpmn_rate, bare_bpmn = best.values()
    print(f"case lifecycle {' → '.join(('start', *STEPS))}, {TRANSITIONS} transitions, in memory; "
          f"SpiffWorkflow {getattr(SpiffWorkflow, '__version__', '3')}; best of {ROUNDS} rounds; "
          f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after ({os.cpu_count()} CPUs)\n")
    for name, rate in best.items():
        print(f"  {name:<49} {rate:>10,.0f} transitions/s  {1e6 / rate:>7.1f} µs each")
    ratio = full / bpmn_rate
    ok = ratio >= TARGET
    print(f"\n  ratio (a)/(c)  {ratio:>6.1f}x  (target >= {TARGET}x)  {'PASS' if ok else 'FAIL'}")
    print(f"  ratio (a')/(c) {cold / bpmn_rate:>6.1f}x  (no deadline known beforehand, for reference)")
    print(f"  ratio (b)/(c)  {bare / bpmn_rate:>6.1f}x  (without form validation, for comparison)")
    print(f"  ratio (a)/(c0) {full / bare_bpmn:>6.1f}x  (against the barer BPMN peer, for reference)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
