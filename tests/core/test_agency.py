"""The agency block of the simulator, and the warnings of `deck check`, on planted decks."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from game.cli.agency_text import histogram
from game.cli.main import main
from game.core.agency import claim_score, claim_terms, split_by_cause, under_pattern
from game.core.bots import STRATEGIES, get_strategy
from game.core.deckcheck import deck_warnings
from game.core.decrees import changeable_structure, decree_rules, is_decree
from game.core.engine import counterfactual
from game.core.rulebook import Rulebook
from game.core.simulate import play_games, simulate
from game.deckfiles import load_deck
from tests.conftest import DECKS, TEST_DECKS


@pytest.fixture(scope="module")
def decree_report():
    return simulate(Rulebook(load_deck(TEST_DECKS / "decree.toml")), runs=60, strategy="adaptive")


@pytest.fixture(scope="module")
def granted_report():
    return simulate(Rulebook(load_deck(TEST_DECKS / "granted.toml")), runs=60, strategy="adaptive")


@pytest.fixture(scope="module")
def interlodge_report(interlodge_book):
    return simulate(interlodge_book, runs=50, strategy=interlodge_book.deck.claim.strategy, search_seeds=1, beam=2, decision_games=10)


def test_the_claim_score_is_the_signed_share_of_each_metrics_range(interlodge_book):
    terms = dict(claim_terms(interlodge_book))
    claim = interlodge_book.deck.claim
    assert set(terms) == {*claim.higher, *claim.lower}
    metrics = {m: interlodge_book.bounds[m][1] for m in interlodge_book.deck.metrics}
    expected = sum((100.0 if m in claim.higher else -100.0) / len(terms) for m in terms)
    assert claim_score(tuple(terms.items()), metrics) == pytest.approx(expected)


def test_the_split_by_cause_adds_up_to_the_gap_per_seed_and_in_the_means(interlodge_book):
    claim = interlodge_book.deck.claim
    bot = get_strategy("adaptive")
    better = play_games(interlodge_book, 40, 5, claim.better, bot, keep_logs=True)
    than = play_games(interlodge_book, 40, 5, claim.than, bot, keep_logs=True)
    terms = claim_terms(interlodge_book)
    split = split_by_cause(interlodge_book, 5, better, than, terms, frozenset())
    seeds = split["per_seed"]
    for k, (gap, structure, behaviour) in enumerate(zip(seeds["gap"], seeds["structure"], seeds["behaviour"], strict=True)):
        assert structure + behaviour == pytest.approx(gap, abs=1e-9)
        b, t = better.finals[k], than.finals[k]
        assert gap == pytest.approx(claim_score(terms, b.metrics) - claim_score(terms, t.metrics))
    assert split["gap_from_structure"] + split["gap_from_behaviour"] == pytest.approx(1.0)
    means = split["means"]
    assert means["structure"] + means["behaviour"] == pytest.approx(means["gap"])
    assert 0 < split["gap_from_behaviour"] < 1, "in interlodge both the structure and the players move the outcome"


def test_the_structure_replay_carries_the_than_games_requests(interlodge_book):
    claim = interlodge_book.deck.claim
    record = play_games(interlodge_book, 30, 0, claim.than, get_strategy("adaptive"), keep_logs=True)
    logs = [log for log in record.logs if any(inputs.requests for inputs in log)]
    assert logs, "the adaptive bots ask for options in interlodge"
    moved = under_pattern(logs[0], claim.better)
    assert [i.requests for i in moved] == [i.requests for i in logs[0]]
    assert {i.pattern for i in moved} == {claim.better}
    k = record.logs.index(logs[0])
    cf = counterfactual(interlodge_book, k, claim.than, logs[0], other_pattern=claim.better)
    from game.core.engine import replay

    assert replay(interlodge_book, k, claim.better, moved).metrics == cf.alternative.metrics


def test_a_gap_made_by_a_decree_is_carried_by_the_decree(decree_report):
    agency = decree_report["agency"]
    assert agency["mean_gap"] > 5
    assert agency["gap_from_decrees"] == pytest.approx(1.0, abs=0.05)
    assert agency["gap_from_structure"] == pytest.approx(1.0, abs=0.05)
    assert agency["gap_from_behaviour"] == pytest.approx(0.0, abs=0.05)
    assert agency["decree_rules"] == ["good-pattern"]


def test_a_gap_made_by_a_granted_request_is_carried_by_behaviour(granted_report):
    agency = granted_report["agency"]
    assert agency["mean_gap"] > 5
    assert agency["gap_from_behaviour"] > 0.9
    assert agency["gap_from_decrees"] == pytest.approx(0.0)
    # the silent bots never ask: the claim is lost without requests
    by = agency["claim_by_strategy"]
    assert by["adaptive"]["holds"] > 0.9 and by["silent"]["holds"] == 0.0 and by["passive"]["gap"] == 0.0
    # play can overturn it: asking and granting under "heard" is the best play, never funding the worst
    assert agency["best_play"]["heard"] > agency["worst_play"]["heard"]
    assert agency["best_play"]["unheard"] == agency["worst_play"]["unheard"]


def test_a_structural_option_carries_the_gap_as_behaviour():
    book = Rulebook(load_deck(TEST_DECKS / "structure.toml"))
    bot = get_strategy("adaptive")
    better = play_games(book, 40, 0, "open", bot, keep_logs=True)
    than = play_games(book, 40, 0, "silos", bot, keep_logs=True)
    # structure.toml states no claim: judge it on service, as a claim would
    import attrs

    from game.core.deck import Claim

    claimed = Rulebook(attrs.evolve(book.deck, claim=Claim("p", "open", "silos", "interaction", higher=("service",))))
    split = split_by_cause(claimed, 0, better, than, claim_terms(claimed), frozenset())
    assert split["means"]["gap"] != 0
    assert split["means"]["structure"] + split["means"]["behaviour"] == pytest.approx(split["means"]["gap"])


def test_every_strategy_is_in_the_claim_table_and_the_json_names_exist(interlodge_report):
    agency = json.loads(json.dumps(interlodge_report))["agency"]
    assert set(agency["claim_by_strategy"]) == set(STRATEGIES)
    for row in agency["claim_by_strategy"].values():
        assert 0 <= row["holds"] <= 1 and isinstance(row["gap"], float)
    for name in ("gap_from_behaviour", "gap_from_structure", "gap_from_decrees", "pattern_dependent_decisions"):
        assert isinstance(agency[name], float), name
    claim = interlodge_report["agency"]
    for pattern in (claim["better"], claim["than"]):
        assert agency["best_play"][pattern] >= agency["worst_play"][pattern]
    assert isinstance(agency["dominant_options"], list) and isinstance(agency["inert_options"], list)
    assert all(len(o.split("/")) == 3 for o in agency["dominant_options"])
    # the old fields still work beside it
    assert {"patterns", "dominant_options", "claim"} <= set(interlodge_report)


def test_inert_and_dominant_options_are_found_on_a_planted_deck(decree_report):
    agency = decree_report["agency"]
    assert agency["inert_options"] == ["week/top/shrug"]
    assert "week/top/praise" in agency["dominant_options"]
    assert "week/top/shrug" not in agency["dominant_options"]
    assert agency["pattern_dependent_decisions"] == 0.0


def test_decrees_are_told_from_choices(interlodge_book):
    deck = load_deck(TEST_DECKS / "decree.toml")
    changeable = changeable_structure(deck)
    assert is_decree({("pattern",)}, changeable)
    assert not is_decree({("pattern",), ("chose", "top", "praise")}, changeable)
    assert not is_decree({("pattern",), ("metric", "morale")}, changeable)
    assert is_decree({("open", "bottom", "top"), ("round",)}, changeable)
    structure = load_deck(TEST_DECKS / "structure.toml")
    assert not is_decree({("open", "bottom", "top")}, changeable_structure(structure)), "an option opens it"
    assert not is_decree({("round",)}, changeable), "a schedule is no decree"
    assert decree_rules(interlodge_book.deck, ((r.id, r.when.reads) for r in interlodge_book.rules)) == frozenset()


def test_the_histogram_shows_every_pattern():
    text = histogram({"good": [60.0, 61.5, 62.0, 70.0], "bad": [40.0, 45.0, 61.0]})
    assert "good" in text and "bad" in text
    assert "█" in text
    assert "\x1b[" not in text, "no colour codes in text for a trainer's log"


def test_simulate_text_shows_the_agency_block_and_histogram():
    result = CliRunner().invoke(main, ["deck", "simulate", str(TEST_DECKS / "decree.toml"), "--runs", "30"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "== Agency" in result.output
    for strategy in STRATEGIES:
        assert f"   {strategy} " in result.output
    assert "good: claim score of 30 adaptive games" in result.output
    assert "bad: claim score of 30 adaptive games" in result.output
    assert "of which decree rules" in result.output


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_simulate_accepts_every_strategy(strategy):
    result = CliRunner().invoke(
        main,
        ["deck", "simulate", str(TEST_DECKS / "granted.toml"), "--runs", "5", "--strategy", strategy, "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0
    assert json.loads(result.output)["strategy"] == strategy


WARNED = TEST_DECKS / "warnings.toml"


def test_deck_check_warns_at_file_line_col_and_exits_0():
    result = CliRunner().invoke(main, ["deck", "check", str(WARNED)], catch_exceptions=False)
    assert result.exit_code == 0
    lines = [line for line in result.output.splitlines() if ": warning: " in line]
    expected = {
        f"{WARNED}:37:1": 'option "nothing" of top on card "one" has no effect',
        f"{WARNED}:74:1": 'rule "open-wins" is a decree',
        f"{WARNED}:80:9": '"trust > 120" can never hold',
        f"{WARNED}:86:1": "customer->top, which no pattern, option or rule ever opens",
        f"{WARNED}:92:1": 'chose("bottom", "speak") is always 0',
        f"{WARNED}:101:1": 'claim\'s lever "special_treatment" is carried by no option or rule',
    }
    assert len(lines) == len(expected)
    for where, text in expected.items():
        assert any(line.startswith(where + ": warning: ") and text in line for line in lines), (where, lines)
    assert "6 warnings" in result.output


def test_deck_check_strict_makes_warnings_errors():
    assert CliRunner().invoke(main, ["deck", "check", "--strict", str(WARNED)]).exit_code == 1
    assert CliRunner().invoke(main, ["deck", "check", "--strict", str(TEST_DECKS / "tiny.toml")]).exit_code == 0
    assert "--strict" in CliRunner().invoke(main, ["deck", "check", "--help"]).output


def test_a_constant_false_condition_and_a_warning_without_position():
    text = (TEST_DECKS / "tiny.toml").read_text().replace('when = "trust > 55"', 'when = "1 > 2"')
    from game.core.loader import load_deck_text

    deck = load_deck_text(text, "tiny.toml")
    found = [str(p) for p in deck_warnings(deck, text, "tiny.toml")]
    assert any('rule "first-time" can never hold' in p and p.startswith("tiny.toml:") for p in found), found
    unplaced = [str(p) for p in deck_warnings(deck, "", "tiny.toml")]
    assert any(p.startswith("tiny.toml: at rules[2].when: warning: ") for p in unplaced), unplaced


def test_a_planted_decree_is_warned_about_at_its_line_and_no_bundled_deck_has_one():
    text = (TEST_DECKS / "decree.toml").read_text()
    decrees = [p for p in deck_warnings(load_deck(TEST_DECKS / "decree.toml"), text, "decree.toml") if "is a decree" in p.message]
    assert decrees and all(p.line for p in decrees)
    for path in sorted(DECKS.glob("*.toml")):
        assert deck_warnings(load_deck(path), path.read_text(), path.name) == [], path.name
