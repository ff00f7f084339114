"""The rules engine: order of resolution, delays, shares, bounds, replay and attribution."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.core.deck import LEVERS
from game.core.engine import RoundInputs, attribution, counterfactual, deal_card, new_state, replay, resolve_round
from game.core.rulebook import EngineError


def test_option_effects_rules_and_drift_are_recorded_with_causes_in_order(tiny_book):
    state = new_state(tiny_book, seed=1, pattern="closed")
    state, changes = resolve_round(tiny_book, state, RoundInputs("one", {"bottom": ("help",), "top": ("spend",)}))
    assert state.round == 1
    assert [(c.metric, c.delta, c.asked, c.lever, c.kind, c.cause) for c in changes] == [
        ("cash", 10.0, 30.0, "other", "option", "spend"),  # groups resolve top first; 10 + 30 is capped at 20
        ("trust", 10.0, 10.0, "special_treatment", "option", "help"),
        ("cash", -2.0, -2.0, "special_treatment", "option", "help"),
        ("cash", 1.0, 1.0, "other", "rule", "first-time"),  # judged after the options: trust is 60 > 55
        ("cash", -1.0, -1.0, "other", "drift", "cash"),
    ]
    assert changes[3].explain == "Once only."
    assert state.metrics == {"trust": 60.0, "cash": 18.0}


def test_choices_scale_by_the_share_of_players(tiny_book):
    state = new_state(tiny_book, seed=1, pattern="closed")
    state, changes = resolve_round(tiny_book, state, RoundInputs("one", {"bottom": ("help", "wait", "wait", "help")}))
    trust = [c for c in changes if c.metric == "trust" and c.kind == "option"]
    assert trust[0].delta == 5.0


def test_absent_or_unknown_choices_fall_back_to_the_default(tiny_book):
    state = new_state(tiny_book, seed=1, pattern="closed")
    _, changes = resolve_round(tiny_book, state, RoundInputs("one", {"bottom": ("nonsense",)}))
    assert not [c for c in changes if c.cause == "help"]
    assert [c for c in changes if c.cause == "spend"], "top's default stands although top sent nothing"


def test_delayed_rule_lands_after_n_rounds(tiny_book):
    state = new_state(tiny_book, seed=3, pattern="open")
    state, _ = resolve_round(tiny_book, state, RoundInputs("one", {"bottom": ("help",)}))
    assert [p.due for p in state.pending] == [3]
    state, changes = resolve_round(tiny_book, state, RoundInputs("other"))
    assert not [c for c in changes if c.cause == "heard"]
    state, changes = resolve_round(tiny_book, state, RoundInputs("other"))
    heard = [c for c in changes if c.cause == "heard"]
    assert len(heard) == 1 and heard[0].decided == 1 and heard[0].round == 3 and heard[0].lever == "interaction"
    assert state.pending == ()


def test_delayed_rule_does_not_fire_when_nobody_listens(tiny_book):
    state = new_state(tiny_book, seed=3, pattern="closed")
    state, _ = resolve_round(tiny_book, state, RoundInputs("one", {"bottom": ("help",)}))
    assert state.pending == ()


def test_messages_count_only_on_open_channels(tiny_book):
    for pattern, expected in (("open", 1), ("closed", 0)):
        state = new_state(tiny_book, seed=3, pattern=pattern)
        _, changes = resolve_round(tiny_book, state, RoundInputs("other", messages={("bottom", "middle"): 2}))
        assert len([c for c in changes if c.cause == "talked"]) == expected


def test_once_rules_fire_once(tiny_book):
    state = new_state(tiny_book, seed=3, pattern="closed")
    state, _ = resolve_round(tiny_book, state, RoundInputs("one", {"bottom": ("help",)}))
    state, _ = resolve_round(tiny_book, state, RoundInputs("other"))
    assert state.fired["first-time"] == 1


def test_injects_apply_before_choices(tiny_book):
    state = new_state(tiny_book, seed=3, pattern="closed")
    _, changes = resolve_round(tiny_book, state, RoundInputs("other", injects=("storm",)))
    assert changes[0].kind == "inject" and changes[0].delta == -5


def test_pattern_switch_between_rounds(tiny_book):
    state = new_state(tiny_book, seed=3, pattern="closed")
    state, _ = resolve_round(tiny_book, state, RoundInputs("other", pattern="open"))
    assert state.pattern == "open"


def test_bad_inputs_raise_engine_errors(tiny_book):
    state = new_state(tiny_book, seed=3, pattern="closed")
    with pytest.raises(EngineError):
        resolve_round(tiny_book, state, RoundInputs("no-such-card"))
    with pytest.raises(EngineError):
        resolve_round(tiny_book, state, RoundInputs("other", pattern="nope"))
    with pytest.raises(EngineError):
        resolve_round(tiny_book, state, RoundInputs("other", injects=("nope",)))


def test_cards_fixed_by_round_and_drawn_by_weight_reproducibly(tiny_book):
    state = new_state(tiny_book, seed=5, pattern="closed")
    assert deal_card(tiny_book, state).id == "one"
    state, _ = resolve_round(tiny_book, state, RoundInputs("one"))
    first = deal_card(tiny_book, state).id
    assert first in {"again", "other"}
    assert all(deal_card(tiny_book, state).id == first for _ in range(5))
    draws = {deal_card(tiny_book, attrs.evolve(new_state(tiny_book, s, "closed"), round=1, metrics=state.metrics)).id for s in range(40)}
    assert draws == {"again", "other"}


# --- properties -------------------------------------------------------------------------

ROUND_INPUTS = st.fixed_dictionaries(
    {
        "bottom": st.lists(st.sampled_from(["help", "wait", "junk"]), max_size=5),
        "top": st.lists(st.sampled_from(["spend"]), max_size=2),
        "said": st.integers(min_value=0, max_value=3),
        "pattern": st.sampled_from(["open", "closed"]),
        "storm": st.booleans(),
    }
)


def _play(book, seed, rounds):
    state = new_state(book, seed, "closed")
    log, live = [], state
    for spec in rounds:
        card = deal_card(book, live, spec["pattern"])
        inputs = RoundInputs(
            card.id,
            {"bottom": tuple(spec["bottom"]), "top": tuple(spec["top"])},
            {("bottom", "middle"): spec["said"]},
            spec["pattern"],
            ("storm",) if spec["storm"] else (),
        )
        live, _ = resolve_round(book, live, inputs)
        log.append(inputs)
    return live, log


@settings(max_examples=120, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.lists(ROUND_INPUTS, min_size=1, max_size=4))
def test_properties_determinism_bounds_replay_attribution(tiny_book, seed, rounds):
    live, log = _play(tiny_book, seed, rounds)
    again, _ = _play(tiny_book, seed, rounds)
    assert again == live, "same seed and inputs give the same state"
    assert replay(tiny_book, seed, "closed", log) == live, "replaying the log gives the identical state"
    for name, value in live.metrics.items():
        low, high = tiny_book.bounds[name]
        assert low <= value <= high
    totals = attribution(live.history)
    for name, metric in tiny_book.deck.metrics.items():
        summed = sum(totals.get(name, {}).values())
        assert summed == pytest.approx(live.metrics[name] - metric.start, abs=1e-9)
        assert set(totals.get(name, dict.fromkeys(LEVERS))) == set(LEVERS)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.lists(ROUND_INPUTS, min_size=1, max_size=4))
def test_counterfactual_under_the_same_pattern_changes_nothing(tiny_book, seed, rounds):
    live, log = _play(tiny_book, seed, rounds)
    fixed_log = [RoundInputs(i.card, i.choices, i.messages, "", i.injects) for i in log]
    cf = counterfactual(tiny_book, seed, "closed", fixed_log, other_pattern="closed")
    assert all(v == 0 for v in cf.difference.values())


def test_counterfactual_explains_the_pattern_difference(interlodge_book):
    from game.core.bots import get_strategy
    from game.core.simulate import play_game

    record = play_game(interlodge_book, 11, "silos", get_strategy("adaptive"))
    cf = counterfactual(
        interlodge_book,
        11,
        "silos",
        [RoundInputs(i.card, i.choices, i.messages, "", i.injects, i.requests) for i in record.log],
        other_pattern="desk_voice",
    )
    assert cf.actual == record.final
    assert cf.difference["satisfaction"] < 0 and cf.difference["margin"] < 0
    interaction = cf.by_lever["satisfaction"]["interaction"]
    assert interaction < 0
    assert sum(cf.by_lever["satisfaction"].values()) == pytest.approx(cf.difference["satisfaction"])


def test_counterfactual_withholding_special_treatment(tiny_book):
    log = [RoundInputs("one", {"bottom": ("help",)})]
    cf = counterfactual(tiny_book, 1, "closed", log, withhold="special_treatment")
    assert cf.by_lever["trust"]["special_treatment"] == 10
    assert "special treatment withheld" in cf.description


# --- structure, requests and sight -----------------------------------------------------------


@pytest.fixture(scope="module")
def structure_book():
    from game.core.rulebook import Rulebook
    from game.deckfiles import load_deck
    from tests.conftest import TEST_DECKS

    return Rulebook(load_deck(TEST_DECKS / "structure.toml"))


def test_a_structural_option_changes_the_structure_from_the_next_round_on(structure_book):
    state = new_state(structure_book, seed=1, pattern="silos")
    assert ("bottom", "top") not in state.structure.open
    assert state.structure.visible("top") == {"budget"}
    state, changes = resolve_round(structure_book, state, RoundInputs("week", {"top": ("walk_the_floor",)}))
    # the round itself was resolved under the old structure: "heard" needs top to listen fully
    assert "heard" not in state.fired
    assert ("bottom", "top") in state.structure.open
    assert state.structure.listens[("top", "bottom")] == 0.5
    assert state.structure.visible("top") == {"budget", "service"}
    assert [(s.round, s.kind, s.subject, s.amount, s.lever, s.cause_kind, s.cause, s.group) for s in state.shifts] == [
        (1, "open", ("bottom", "top"), 1.0, "interaction", "option", "walk_the_floor", "top"),
        (1, "listens", ("top", "bottom"), 0.5, "interaction", "option", "walk_the_floor", "top"),
        (1, "show", ("top", "service"), 1.0, "interaction", "option", "walk_the_floor", "top"),
    ]
    assert state.shifts[0].explain == "The Tops walk the floor and hear the desk from now on."
    # walking the floor twice: the weight rises to 1 (capped), and only what really changed is recorded
    state, _ = resolve_round(structure_book, state, RoundInputs("week", {"top": ("walk_the_floor",)}))
    assert state.structure.listens[("top", "bottom")] == 1.0
    assert [(s.kind, s.amount) for s in state.shifts[3:]] == [("listens", 0.5)]
    state, _ = resolve_round(structure_book, state, RoundInputs("week"))
    assert state.fired.get("heard") == 1


def test_a_structural_option_needs_at_least_half_of_the_group(structure_book):
    state = new_state(structure_book, seed=1, pattern="silos")
    one_of_three, _ = resolve_round(structure_book, state, RoundInputs("week", {"top": ("walk_the_floor", "hold", "hold")}))
    assert one_of_three.shifts == () and one_of_three.structure == state.structure
    two_of_four, _ = resolve_round(structure_book, state, RoundInputs("week", {"top": ("walk_the_floor", "walk_the_floor", "hold", "x")}))
    assert ("bottom", "top") in two_of_four.structure.open


def test_closing_lowering_and_hiding(structure_book):
    state = new_state(structure_book, seed=1, pattern="open")
    assert state.structure.visible("middle") == {"budget"}
    state, _ = resolve_round(structure_book, state, RoundInputs("week", {"middle": ("close_door",)}))
    assert ("bottom", "middle") not in state.structure.open
    assert state.structure.listens[("middle", "bottom")] == 0.0
    assert state.structure.visible("middle") == frozenset()
    assert [s.kind for s in state.shifts] == ["close", "listens", "hide"]


def test_pattern_decides_sight_and_a_switch_keeps_what_players_earned(structure_book):
    silos = new_state(structure_book, seed=1, pattern="silos")
    assert silos.structure.visible("middle") == frozenset()  # hidden under silos despite visible_to
    assert new_state(structure_book, seed=1, pattern="open").structure.visible("top") == {"budget", "service"}
    state, _ = resolve_round(structure_book, silos, RoundInputs("week", {"top": ("walk_the_floor",)}))
    state, _ = resolve_round(structure_book, state, RoundInputs("week", pattern="open"))
    assert state.pattern == "open"
    # the open pattern's own weight is 1; the earned +0.5 is applied on top and capped
    assert state.structure.listens[("top", "bottom")] == 1.0
    assert state.structure.visible("middle") == {"budget"}


def test_requests_count_along_open_channels_and_grants_need_the_choice(structure_book):
    ask = {("bottom", "top", "fund_repairs"): 1.0}
    silos = new_state(structure_book, seed=1, pattern="silos")
    # bottom -> top is closed under silos: the request never arrives
    state, changes = resolve_round(structure_book, silos, RoundInputs("week", {"top": ("fund_repairs",)}, requests=ask))
    assert not any(c.cause.startswith(("repairs", "asked")) for c in changes)
    opened = new_state(structure_book, seed=1, pattern="open")
    state, changes = resolve_round(structure_book, opened, RoundInputs("week", {"top": ("fund_repairs",)}, requests=ask))
    assert [(c.cause, c.delta) for c in changes if c.kind == "rule" and c.cause != "heard"] == [("repairs-asked-and-funded", 10.0)]
    state, changes = resolve_round(structure_book, opened, RoundInputs("week", {"top": ("hold",)}, requests=ask))
    assert [(c.cause, c.delta) for c in changes if c.kind == "rule" and c.cause != "heard"] == [("asked-in-vain", -1.0)]
    # a request for something the asked group is not offered is dropped
    state, changes = resolve_round(structure_book, opened, RoundInputs("week", requests={("bottom", "top", "ask_up"): 1.0}))
    assert not any(c.cause == "asked-in-vain" for c in changes)


def test_a_rule_can_change_the_structure(structure_book):
    state = new_state(structure_book, seed=1, pattern="open")
    for _ in range(3):
        state, _ = resolve_round(structure_book, state, RoundInputs("week"))
    assert ("customer", "top") in state.structure.open
    assert [(s.cause_kind, s.cause, s.round) for s in state.shifts] == [("rule", "open-door-policy", 3)]


STRUCTURE_INPUTS = st.fixed_dictionaries(
    {
        "top": st.lists(st.sampled_from(["walk_the_floor", "fund_repairs", "hold"]), max_size=3),
        "middle": st.lists(st.sampled_from(["close_door", "carry_on"]), max_size=2),
        "asked": st.sampled_from([0.0, 0.5, 1.0]),
        "pattern": st.sampled_from(["", "silos", "open"]),
    }
)


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.lists(STRUCTURE_INPUTS, min_size=1, max_size=3))
def test_properties_with_structure_and_requests(structure_book, seed, rounds):
    def play():
        state, log = new_state(structure_book, seed, "silos"), []
        for spec in rounds:
            inputs = RoundInputs(
                "week",
                {"top": tuple(spec["top"]), "middle": tuple(spec["middle"])},
                pattern=spec["pattern"],
                requests={("bottom", "top", "fund_repairs"): spec["asked"]},
            )
            state, _ = resolve_round(structure_book, state, inputs)
            log.append(inputs)
        return state, log

    live, log = play()
    assert play()[0] == live, "same seed and inputs give the same state, structure included"
    assert replay(structure_book, seed, "silos", log) == live
    assert all(0.0 <= w <= 1.0 for w in live.structure.listens.values())
    totals = attribution(live.history)
    for name, metric in structure_book.deck.metrics.items():
        assert sum(totals.get(name, {}).values()) == pytest.approx(live.metrics[name] - metric.start, abs=1e-9)
    from game.core.engine import with_pattern
    from game.core.structure import restructure

    # the structure is always the current pattern's with every shift applied: one fact, derivable
    assert live.structure == restructure(structure_book.pattern(live.pattern), live.shifts)
    assert with_pattern(structure_book, live, live.pattern) is live
