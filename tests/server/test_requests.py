"""Requests over real sockets: a bot seat asks and a human sees it; a human asks and a bot grants it."""

from __future__ import annotations

from game.deckfiles import load_deck
from server.hub import Hub
from tests.conftest import TEST_DECKS
from tests.server.test_server import advance, base
from tests.wsclient import facilitator, join

DECK = (TEST_DECKS / "structure.toml").read_text()


async def open_room(hub: Hub, seats: dict[str, tuple[str, bool]]):
    """A session of the structure deck under its open pattern with adaptive bots; ``seats`` maps a
    name to (group, whether a bot plays the seat)."""
    fac = await facilitator(base(hub), hub.secret)
    ack = await fac.request({"type": "create_session", "deck_toml": DECK, "patterns": ["open"], "bots": "adaptive", "seed": 3})
    assert ack["type"] == "ack", ack
    players = {}
    for name, (group, bot) in seats.items():
        client = await join(base(hub), ack["code"], name)
        assert (await fac.request({"type": "move", "seat": client.seat, "org": 0, "group": group}))["type"] == "ack"
        if bot:
            assert (await fac.request({"type": "botify", "seat": client.seat}))["type"] == "ack"
        players[name] = client
    assert (await fac.request({"type": "start"}))["type"] == "ack"
    return fac, players


async def test_a_bot_seat_asks_and_the_human_sees_the_request(hub):
    fac, players = await open_room(hub, {"Dee": ("top", False), "Eve": ("bottom", True)})
    dee = players["Dee"]
    await advance(fac, hub, "talk")
    # the bot in Eve's seat asks the Tops for the repairs as talk opens: a message, and a line in the view
    line = (await dee.until(lambda m: m["type"] == "message" and m["message"].get("request")))["message"]
    assert (line["from"], line["to"], line["request"], line["label"], line["name"]) == (
        "bottom",
        "top",
        "fund_repairs",
        "Fund the repairs",
        "Eve",
    )
    view = (await dee.until(lambda m: m["type"] == "view" and m["view"]["requests"]))["view"]
    assert view["requests"] == [
        {"from": "bottom", "to": "top", "option": "fund_repairs", "label": "Fund the repairs", "share": 1.0, "names": ["Eve"]}
    ]
    # the Tops grant it: the rule that pays for an asked-for repair fires at the reveal
    await advance(fac, hub, "choose")
    assert (await dee.request({"type": "choose", "round": 1, "option": "fund_repairs"}))["type"] == "ack"
    await advance(fac, hub, "reveal")
    session = hub.session
    assert session.orgs[0].log[0].requests == {("bottom", "top", "fund_repairs"): 1.0}
    assert session.orgs[0].state.fired.get("repairs-asked-and-funded") == 1
    reveal = (await dee.until(lambda m: m["type"] == "view" and m["view"]["session"]["phase"] == "reveal"))["view"]
    assert reveal["requests"][0]["granted"] == 1.0


async def test_a_human_asks_and_a_bot_grants(hub):
    fac, players = await open_room(hub, {"Ana": ("bottom", False), "Ben": ("top", True)})
    ana = players["Ana"]
    await advance(fac, hub, "talk")
    asked = await ana.request({"type": "request", "round": 1, "to": "top", "option": "fund_repairs"})
    assert asked["type"] == "ack", asked
    view = (await ana.until(lambda m: m["type"] == "view" and m["view"]["requests"]))["view"]
    assert view["requests"][0]["names"] == ["Ana"] and view["requests"][0]["share"] == 1.0
    assert view["askable"]["top"][0] == {"id": "walk_the_floor", "label": "Walk the floor"}
    await advance(fac, hub, "choose")
    await advance(fac, hub, "reveal")
    org = hub.session.orgs[0]
    # the Tops' bot listens to the desk fully under this pattern, so it grants what was asked
    assert org.log[0].choices["top"] == ("fund_repairs",)
    assert org.state.fired.get("repairs-asked-and-funded") == 1
    reveal = (await ana.until(lambda m: m["type"] == "view" and m["view"]["session"]["phase"] == "reveal"))["view"]
    assert reveal["requests"] == [
        {"round": 1, "from": "bottom", "to": "top", "option": "fund_repairs", "label": "Fund the repairs", "share": 1.0, "granted": 1.0}
    ]
    assert any(c["cause"] == "repairs-asked-and-funded" for c in reveal["changes"])


async def test_requests_are_refused_clearly(hub):
    fac, players = await open_room(hub, {"Ana": ("bottom", False), "Ben": ("middle", False)})
    ana, ben = players["Ana"], players["Ben"]
    early = await ana.request({"type": "request", "round": 1, "to": "top", "option": "fund_repairs"})
    assert (early["type"], early["code"]) == ("error", "wrong_phase"), "no requests during the brief"
    await advance(fac, hub, "talk")
    cases = [
        ({"round": 2, "to": "top", "option": "fund_repairs"}, "stale_round"),
        ({"round": 1, "to": "bottom", "option": "cope"}, "bad_field"),
        ({"round": 1, "to": "top", "option": "cope"}, "not_their_option"),
        ({"round": 1, "to": "customer", "option": "x"}, "channel_closed"),
        ({"round": 1, "to": "top", "option": ""}, "bad_field"),
    ]
    for fields, code in cases:
        answer = await ana.request({"type": "request", **fields})
        assert (answer["type"], answer["code"]) == ("error", code), (fields, answer)
    # a withdrawn request is gone from the round's inputs
    assert (await ana.request({"type": "request", "round": 1, "to": "top", "option": "fund_repairs"}))["type"] == "ack"
    assert (await ana.request({"type": "request", "round": 1, "to": "top", "option": ""}))["type"] == "ack"
    assert hub.session.orgs[0].requests == {}
    # the Middles cannot reach the desk's options by a channel the structure keeps closed
    closed = await ben.request({"type": "request", "round": 1, "to": "bottom", "option": "cope"})
    assert (closed["type"], closed["code"]) == ("error", "channel_closed")


def test_the_structure_deck_loads():
    assert load_deck(TEST_DECKS / "structure.toml").patterns["open"].shows == {"top": ("service",)}
