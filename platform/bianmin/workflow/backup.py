"""Backup posts (同岗替代, AB岗, xupu 七): B acts with A's rights while A is away.

The hand-over is a record of the ``handover`` workflow (subject ``handover``), opened when A
hands over (or by B when A could not, 七(三)) and closed by its ``return`` transition; its
subject names the two people: ``{absent: <A's id>, backup: <B's id>, ...}``. While it is open,
:func:`act_for` gives B an :class:`Actor` holding the union of B's and A's roles with
``acting_for`` set to A, so every event B writes records whom B stood in for.
"""

from __future__ import annotations

from .instance import Actor, Instance, TransitionError


def act_for(backup: Actor, absent: Actor, handover: Instance) -> Actor:
    """B acting for A under an open hand-over; ``forbidden`` if the hand-over does not allow it."""
    wf = handover.workflow
    if wf.subject != "handover":
        raise TransitionError("forbidden", f"“{wf.name}”不是AB岗交接记录")
    if wf.state(handover.state).terminal:
        raise TransitionError("forbidden", f"AB岗交接已结束(“{wf.state(handover.state).name}”), "
                              f"“{backup.name}”不能再代行“{absent.name}”的职责")
    if handover.subject.get("absent") != absent.id or handover.subject.get("backup") != backup.id:
        raise TransitionError("forbidden", f"该交接记录不是由“{absent.name}”移交给“{backup.name}”的")
    return Actor(backup.id, backup.name, backup.roles | absent.roles, acting_for=absent.id)
