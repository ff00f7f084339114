"""Expressions: safe, checked against the deck's names, and correct."""

from __future__ import annotations

import pytest

from game.core.expr import ExprError, Names, compile_expr

NAMES = Names(
    metrics=frozenset({"trust", "cash"}),
    options={"bottom": frozenset({"help", "wait"}), "top": frozenset(), "middle": frozenset(), "customer": frozenset()},
    patterns=frozenset({"open", "closed"}),
)


def run(source, *, metrics=None, shares=None, listens=None, opened=(), said=None, round_=1, pattern="open", requests=None, sees=()):
    expr = compile_expr(source, NAMES)
    return expr.fn(
        metrics or {"trust": 50.0, "cash": 10.0},
        shares or {},
        listens or {},
        frozenset(opened),
        said or {},
        round_,
        pattern,
        requests or {},
        frozenset(sees),
    )


def test_requests_grants_and_sight():
    asked = {("top", "bottom", "help"): 0.5}
    assert run('asked("top", "bottom", "help")', requests=asked) == 0.5
    assert run('asked("top", "bottom", "wait")', requests=asked) == 0
    # granted: the share of the asked group that chose the option, but only when it was asked
    assert run('granted("top", "bottom", "help")', requests=asked, shares={("bottom", "help"): 1.0}) == 1.0
    assert run('granted("top", "bottom", "help")', requests={}, shares={("bottom", "help"): 1.0}) == 0
    assert run('granted("top", "bottom", "help")', requests=asked, shares={("bottom", "wait"): 1.0}) == 0
    assert run('sees("middle", "trust")', sees={("middle", "trust")}) is True
    assert run('sees("middle", "cash")', sees={("middle", "trust")}) is False
    expr = compile_expr('granted("top", "bottom", "help") > 0 and sees("top", "cash") and pattern == "open"', NAMES)
    assert expr.reads == {("granted", "top", "bottom", "help"), ("sees", "top", "cash"), ("pattern",)}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('asked("top", "bottom")', "three quoted names"),
        ('asked("top", "top", "help")', "two different groups"),
        ('asked("top", "bottom", "fly")', 'unknown option "fly" for group bottom'),
        ('granted("tops", "bottom", "help")', 'unknown group "tops"'),
        ('sees("top", "mood")', 'unknown metric "mood"'),
    ],
)
def test_request_and_sight_functions_are_checked(source, message):
    with pytest.raises(ExprError, match=message):
        compile_expr(source, NAMES)


def test_arithmetic_and_metrics():
    assert run("trust * 2 + cash / 4") == 102.5
    assert run("-(trust - 60) // 3") == 3
    assert run("trust % 7") == 1


def test_functions():
    assert run('chose("bottom", "help")', shares={("bottom", "help"): 0.75}) == 0.75
    assert run('chose("bottom", "wait")', shares={("bottom", "help"): 1.0}) == 0
    assert run('listens("middle", "bottom")', listens={("middle", "bottom"): 0.5}) == 0.5
    assert run('open("bottom", "middle")', opened={("bottom", "middle")}) is True
    assert run('open("middle", "bottom")', opened={("bottom", "middle")}) is False
    assert run('said("bottom", "middle")', said={("bottom", "middle"): 3}) == 3
    assert run("min(trust, cash, 3)") == 3
    assert run("max(trust, cash)") == 50
    assert run("abs(cash - trust)") == 40
    assert run("clamp(trust, 0, 20)") == 20


def test_round_pattern_and_conditionals():
    assert run("round * 10", round_=3) == 30
    assert run('pattern == "open"') is True
    assert run('pattern != "open"', pattern="closed") is True
    assert run("5 if trust > 40 else -5") == 5
    assert run("not trust > 40 or cash == 10") is True
    assert run("1 < cash < 20") is True


def test_division_by_zero_yields_zero_instead_of_crashing():
    assert run("trust / (cash - 10)") == 0
    assert run("trust // 0") == 0
    assert run("trust % 0") == 0


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("__import__('os')", 'unknown function "__import__"'),
        ("trust.real()", "only the functions"),
        ("trust.__class__", "attribute access"),
        ("().__class__.__bases__", "attribute access"),
        ("[x for x in (1, 2)]", "not allowed"),
        ("lambda: 1", "not allowed"),
        ("9 ** 9 ** 9", '"**" is not allowed'),
        ("cash[0]", "indexing"),
        ("open", "is a function"),
        ("trsut > 1", '(did you mean "trust"?)'),
        ('chose("bottom", "hlep")', '(did you mean "help"?)'),
        ('chose("bottm", "help")', '(did you mean "bottom"?)'),
        ('chose(bottom, "help")', "two quoted names"),
        ('listens("middle", "custmer")', '(did you mean "customer"?)'),
        ('pattern == "opne"', '(did you mean "open"?)'),
        ('pattern > "open"', "only be compared with == or !="),
        ("pattern + 1", "text cannot be used"),
        ('"hello"', "text on its own"),
        ("clamp(trust, 1)", "takes 3 arguments"),
        ("min(trust)", "takes 2 or more arguments"),
        ("abs(x=1)", "no keyword arguments"),
        ("trust >", "cannot read the expression"),
        ("", "expression is empty"),
        ("(" * 300 + "1" + ")" * 300, "nested"),
        ("1+" * 240 + "1", "too complex"),
        ("x" * 2000, "limit is 1000"),
        ("trust := 3", "cannot read"),
    ],
)
def test_rejected_with_a_message_for_people(source, message):
    with pytest.raises(ExprError) as info:
        compile_expr(source, NAMES)
    assert message in info.value.message


def test_errors_carry_a_column():
    with pytest.raises(ExprError) as info:
        compile_expr("cash + trsut", NAMES)
    assert info.value.col == 8


def test_constants_are_recognised_and_metrics_used_are_listed():
    assert compile_expr(3, NAMES).constant == 3.0
    assert compile_expr("2.5", NAMES).constant == 2.5
    assert compile_expr("trust + cash * 2", NAMES).metrics == frozenset({"trust", "cash"})


def test_non_finite_numbers_are_refused():
    with pytest.raises(ExprError):
        compile_expr(float("inf"), NAMES)
    with pytest.raises(ExprError):
        compile_expr("1e999", NAMES)


def test_compiled_code_has_no_builtins():
    expr = compile_expr("trust", NAMES)
    assert expr.fn.__globals__["__builtins" + "__"] == {}
