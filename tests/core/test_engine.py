"""The rules engine: order of resolution, delays, shares, bounds, replay and attribution."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.core.deck import LEVERS
from game.core.engine import (
    EngineError,
    RoundInputs,
    attribution,
    counterfactual,
    deal_card,
    new_state,
    replay,
    resolve_round,
)


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
    draws = {deal_card(tiny_book, new_state(tiny_book, s, "closed").__class__(s, 1, "closed", state.metrics)).id for s in range(40)}
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

    record = play_game(interlodge_book, 11, "silos", get_strategy("random"))
    cf = counterfactual(
        interlodge_book,
        11,
        "silos",
        [RoundInputs(i.card, i.choices, i.messages, "", i.injects) for i in record.log],
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
