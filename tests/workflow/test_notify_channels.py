"""A pack's notify action may name the channels to use; without them the server's defaults apply."""

from bianmin.workflow.actions import notify


def test_named_channels_travel_with_the_notification():
    effect, = notify(None, {"roles": ["clerk"], "message": "即将到期", "channels": ["sms"]}, None)
    assert effect.args["channels"] == ["sms"] and effect.args["roles"] == ["clerk"]


def test_without_channels_the_payload_leaves_the_choice_to_the_server():
    effect, = notify(None, {"roles": "clerk", "message": "即将到期"}, None)
    assert "channels" not in effect.args and effect.args["roles"] == ["clerk"]
