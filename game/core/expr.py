"""Deck expressions: conditions and amounts a trainer can read.

An expression is a small Python-like formula such as
``chose("bottom", "report_fault") > 0.5 and listens("middle", "bottom") > 0``.
It is parsed with :mod:`ast`, checked against a whitelist and the deck's names,
type-checked, and then compiled to a Python lambda. Evaluation costs about a
microsecond; an interpreter walking the tree costs ten times more, and the
simulator evaluates millions of them.

Safety comes from the whitelist: no attribute access, no subscripts, no names
but the deck's metrics and ``round``/``pattern``, no calls but the functions
below, no ``**`` (``9**9**9`` would hang), and the lambda runs with empty
builtins. Division by zero yields 0 so a live round can never crash.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from game.core.deck import GROUPS

MAX_SOURCE = 1000
MAX_NODES = 300

#: The functions an expression may call, with their arity and a one-line description.
FUNCTIONS: dict[str, tuple[str, str]] = {
    "chose": ("chose(group, option)", "share (0..1) of the group's players who chose the option this round"),
    "listens": ("listens(a, b)", "how much group a acts on what group b says in the organisation's current structure (0..1)"),
    "open": ("open(a, b)", "true when the channel a -> b is open in the organisation's current structure"),
    "sees": ("sees(group, metric)", "true when the group can see the metric in the organisation's current structure"),
    "asked": ("asked(a, b, option)", "share (0..1) of group a's players who asked group b for one of b's options this round"),
    "granted": ("granted(a, b, option)", "share (0..1) of group b's players who chose the option, when a asked b for it; else 0"),
    "said": ("said(a, b)", "number of messages sent from group a to group b this round (any message counts)"),
    "min": ("min(x, y, ...)", "the smallest of its arguments"),
    "max": ("max(x, y, ...)", "the largest of its arguments"),
    "abs": ("abs(x)", "the absolute value"),
    "clamp": ("clamp(x, low, high)", "x limited to the range low..high"),
}
#: Names every expression may use besides the deck's metrics.
VARIABLES: dict[str, str] = {
    "round": "the number of the round being resolved (1 for the first)",
    "pattern": 'the name of the active interaction pattern, compared with == or != to a string such as "silos"',
}

_GROUP_FUNCS = {"chose": 2, "listens": 2, "open": 2, "said": 2, "sees": 2}
_REQUEST_FUNCS = ("asked", "granted")
_ARITY = {"abs": (1, 1), "clamp": (3, 3), "min": (2, 16), "max": (2, 16)}
_CMP_OPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_BIN_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%"}


class ExprError(Exception):
    """A problem in an expression; ``col`` is 1-based within the expression text."""

    def __init__(self, message: str, col: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.col = col


@attrs.frozen
class Names:
    """The deck names an expression may refer to."""

    metrics: frozenset[str]
    options: Mapping[str, frozenset[str]]  # group -> option ids offered anywhere in the deck
    patterns: frozenset[str]


def suggest(name: str, known: Iterable[str]) -> str:
    """' (did you mean "x"?)' for a near miss, else an empty string."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _div(a: float, b: float) -> float:
    return a / b if b else 0.0


def _floordiv(a: float, b: float) -> float:
    return a // b if b else 0.0


def _mod(a: float, b: float) -> float:
    return a % b if b else 0.0


def _clamp(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


_GLOBALS: dict[str, Any] = {
    "__builtins__": {},
    "min": min,
    "max": max,
    "abs": abs,
    "_clamp": _clamp,
    "_div": _div,
    "_floordiv": _floordiv,
    "_mod": _mod,
}

# The compiled lambda's parameters: metrics, choice shares, listening weights, open channels,
# message counts, round, pattern, requests ((asker, asked, option) -> share), and what each
# group sees ((group, metric) pairs).
PARAMS = "M, S, L, O, N, R, P, Q, V"
Evaluator = Callable[..., Any]


@attrs.frozen
class Expr:
    """A checked, compiled expression."""

    source: str
    kind: str  # "num" or "bool"
    fn: Evaluator = attrs.field(eq=False, repr=False)
    constant: float | None = None  # set when the expression is a plain number
    metrics: frozenset[str] = frozenset()  # metrics it reads
    # what it reads, as ("chose", g, o), ("asked", a, b, o), ("open", a, b), ("metric", m),
    # ("pattern",), ("round",) ...: the trainer's tools tell decrees from choices by it
    reads: frozenset[tuple[str, ...]] = frozenset()


class _Checker:
    def __init__(self, names: Names) -> None:
        self.names = names
        self.metrics_used: set[str] = set()
        self.reads: set[tuple[str, ...]] = set()
        self.count = 0

    def fail(self, node: ast.AST, message: str) -> ExprError:
        return ExprError(message, getattr(node, "col_offset", -1) + 1)

    def check(self, node: ast.AST) -> str:
        """Return the node's type ("num", "bool" or "str"), raising on anything not allowed."""
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(node, f"expression is too complex (more than {MAX_NODES} parts)")
        match node:
            case ast.Constant(value=bool()):
                return "bool"
            case ast.Constant(value=int() | float() as v):
                if v != v or v in (float("inf"), float("-inf")):
                    raise self.fail(node, "numbers must be finite")
                return "num"
            case ast.Constant(value=str()):
                return "str"
            case ast.Name(id=name):
                if name in self.names.metrics:
                    self.metrics_used.add(name)
                    self.reads.add(("metric", name))
                    return "num"
                if name == "round":
                    self.reads.add(("round",))
                    return "num"
                if name == "pattern":
                    self.reads.add(("pattern",))
                    return "str"
                known = set(self.names.metrics) | set(VARIABLES)
                hint = suggest(name, known)
                if name in FUNCTIONS:
                    raise self.fail(node, f'"{name}" is a function: call it as {FUNCTIONS[name][0]}')
                raise self.fail(node, f'unknown name "{name}"{hint}')
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                self.check(operand)
                return "bool"
            case ast.UnaryOp(op=ast.USub() | ast.UAdd(), operand=operand):
                self.numeric(operand, "a sign")
                return "num"
            case ast.BinOp(left=left, op=op, right=right):
                if type(op) not in _BIN_OPS:
                    symbol = "**" if isinstance(op, ast.Pow) else type(op).__name__
                    raise self.fail(node, f'operator "{symbol}" is not allowed; use + - * / // %')
                self.numeric(left, _BIN_OPS[type(op)])
                self.numeric(right, _BIN_OPS[type(op)])
                return "num"
            case ast.BoolOp(values=values):
                for value in values:
                    self.numeric(value, "and/or")
                return "bool"
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                operands = [left, *comparators]
                kinds = [self.check(o) for o in operands]
                for op, (a, b), (ka, kb) in zip(
                    ops, zip(operands, operands[1:], strict=False), zip(kinds, kinds[1:], strict=False), strict=True
                ):
                    if not isinstance(op, _CMP_OPS):
                        raise self.fail(node, "only == != < <= > >= comparisons are allowed")
                    if "str" in (ka, kb):
                        if ka != kb or not isinstance(op, ast.Eq | ast.NotEq):
                            raise self.fail(node, 'text can only be compared with == or !=, as in pattern == "silos"')
                        for side in (a, b):
                            if isinstance(side, ast.Constant) and side.value not in self.names.patterns:
                                raise self.fail(
                                    side,
                                    f'unknown pattern "{side.value}"{suggest(side.value, self.names.patterns)}',
                                )
                return "bool"
            case ast.IfExp(test=test, body=body, orelse=orelse):
                self.numeric(test, "if")
                self.numeric(body, "if")
                self.numeric(orelse, "else")
                return "num"
            case ast.Call(func=ast.Name(id=fname), args=args, keywords=keywords):
                return self.call(node, fname, args, keywords)
            case ast.Call():
                raise self.fail(node, "only the functions " + ", ".join(FUNCTIONS) + " can be called")
            case ast.Attribute():
                raise self.fail(node, "attribute access (a.b) is not allowed")
            case ast.Subscript():
                raise self.fail(node, "indexing (a[b]) is not allowed")
            case _:
                raise self.fail(node, f"{type(node).__name__.lower()} is not allowed in an expression")

    def option(self, node: ast.AST, group: str, option: str) -> None:
        offered = self.names.options.get(group, frozenset())
        if option not in offered:
            where = f"; {group} has " + ", ".join(sorted(offered)) if offered else f"; no card offers {group} an option"
            raise self.fail(node, f'unknown option "{option}" for group {group}{suggest(option, offered)}{where}')

    def numeric(self, node: ast.AST, where: str) -> None:
        if self.check(node) == "str":
            raise self.fail(node, f"text cannot be used with {where}; only numbers and conditions can")

    def call(self, node: ast.Call, fname: str, args: list[ast.expr], keywords: list[ast.keyword]) -> str:
        if fname not in FUNCTIONS:
            hint = suggest(fname, FUNCTIONS)
            raise self.fail(node, f'unknown function "{fname}"{hint}')
        if keywords:
            raise self.fail(node, f"{fname}() takes no keyword arguments")
        if fname in _REQUEST_FUNCS:
            if len(args) != 3 or not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
                raise self.fail(node, f"{fname}() takes three quoted names: {FUNCTIONS[fname][0]}")
            asker, asked, option = (a.value for a in args)  # type: ignore[attr-defined]
            for arg, group in ((args[0], asker), (args[1], asked)):
                if group not in GROUPS:
                    raise self.fail(arg, f'unknown group "{group}"{suggest(group, GROUPS)}; groups are ' + ", ".join(GROUPS))
            if asker == asked:
                raise self.fail(node, f"{fname}() names two different groups: a group asks another one")
            self.option(args[2], asked, option)
            self.reads.add((fname, asker, asked, option))
            return "num"
        if fname in _GROUP_FUNCS:
            if len(args) != 2 or not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
                raise self.fail(node, f"{fname}() takes two quoted names: {FUNCTIONS[fname][0]}")
            first, second = (a.value for a in args)  # type: ignore[attr-defined]
            if first not in GROUPS:
                raise self.fail(args[0], f'unknown group "{first}"{suggest(first, GROUPS)}; groups are ' + ", ".join(GROUPS))
            if fname == "chose":
                self.option(args[1], first, second)
            elif fname == "sees":
                if second not in self.names.metrics:
                    raise self.fail(args[1], f'unknown metric "{second}"{suggest(second, self.names.metrics)}')
            elif second not in GROUPS:
                raise self.fail(args[1], f'unknown group "{second}"{suggest(second, GROUPS)}; groups are ' + ", ".join(GROUPS))
            self.reads.add((fname, first, second))
            return "bool" if fname in ("open", "sees") else "num"
        low, high = _ARITY[fname]
        if not low <= len(args) <= high:
            raise self.fail(node, f"{FUNCTIONS[fname][0]} takes {low if low == high else f'{low} or more'} arguments, not {len(args)}")
        for arg in args:
            self.numeric(arg, f"{fname}()")
        return "num"


class _Rewriter(ast.NodeTransformer):
    """Turn a checked tree into one that reads the lambda's parameters."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id == "round":
            return ast.Name("R", ast.Load())
        if node.id == "pattern":
            return ast.Name("P", ast.Load())
        return ast.Subscript(ast.Name("M", ast.Load()), ast.Constant(node.id), ast.Load())

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        safe = {ast.Div: "_div", ast.FloorDiv: "_floordiv", ast.Mod: "_mod"}.get(type(node.op))
        if safe:
            return ast.Call(ast.Name(safe, ast.Load()), [node.left, node.right], [])
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        name = node.func.id  # type: ignore[attr-defined]
        if name in _REQUEST_FUNCS:
            asker, asked, option = (a.value for a in node.args)  # type: ignore[attr-defined]
            key = ast.Tuple([ast.Constant(asker), ast.Constant(asked), ast.Constant(option)], ast.Load())
            share = ast.Call(ast.Attribute(ast.Name("Q", ast.Load()), "get", ast.Load()), [key, ast.Constant(0)], [])
            if name == "asked":
                return share
            chosen = ast.Tuple([ast.Constant(asked), ast.Constant(option)], ast.Load())
            picked = ast.Call(ast.Attribute(ast.Name("S", ast.Load()), "get", ast.Load()), [chosen, ast.Constant(0)], [])
            return ast.IfExp(ast.Compare(share, [ast.Gt()], [ast.Constant(0)]), picked, ast.Constant(0))
        if name in _GROUP_FUNCS:
            key = ast.Tuple([ast.Constant(a.value) for a in node.args], ast.Load())  # type: ignore[attr-defined]
            if name in ("open", "sees"):
                return ast.Compare(key, [ast.In()], [ast.Name("O" if name == "open" else "V", ast.Load())])
            table = {"chose": "S", "listens": "L", "said": "N"}[name]
            return ast.Call(
                ast.Attribute(ast.Name(table, ast.Load()), "get", ast.Load()),
                [key, ast.Constant(0)],
                [],
            )
        node.args = [self.visit(a) for a in node.args]  # not node.func: "min" is no metric
        if name == "clamp":
            node.func = ast.Name("_clamp", ast.Load())
        return node


def parse(source: str) -> ast.expr:
    """Parse expression text into a tree, with located errors for people."""
    if not isinstance(source, str):
        raise ExprError("an expression must be text")
    if len(source) > MAX_SOURCE:
        raise ExprError(f"expression is {len(source)} characters long; the limit is {MAX_SOURCE}")
    if not source.strip():
        raise ExprError("expression is empty")
    if "\n" in source or "\r" in source:
        source = " ".join(source.split())
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        reason = (exc.msg or "invalid syntax").replace("invalid syntax. ", "")
        raise ExprError(f"cannot read the expression: {reason}", exc.offset or 0) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExprError("expression is nested too deeply") from None
    return tree.body


def compile_expr(source: str | float | int | bool, names: Names, *, want: str = "num") -> Expr:
    """Check ``source`` against ``names`` and compile it.

    ``want`` is "num" for amounts and "bool" for conditions (numbers are accepted as
    conditions: non-zero is true). Raises :class:`ExprError` with a message for people.
    """
    if isinstance(source, bool):
        source = "True" if source else "False"
    if isinstance(source, int | float):
        value = float(source)
        if value != value or value in (float("inf"), float("-inf")):
            raise ExprError("numbers must be finite")
        return Expr(str(source), "num", lambda *_: value, constant=value)
    body = parse(source)
    checker = _Checker(names)
    try:
        kind = checker.check(body)
    except RecursionError:
        raise ExprError("expression is nested too deeply") from None
    if kind == "str":
        raise ExprError('text on its own is not a value; compare it, as in pattern == "silos"')
    rewritten = _Rewriter().visit(body)
    tree = ast.fix_missing_locations(ast.Expression(ast.Lambda(_lambda_args(), rewritten)))
    code = compile(tree, "<deck expression>", "eval")
    fn = eval(code, dict(_GLOBALS))  # noqa: S307 - the tree was whitelisted above
    constant = float(body.value) if isinstance(body, ast.Constant) and not isinstance(body.value, str) else None
    return Expr(source, kind if want == "bool" else "num", fn, constant, frozenset(checker.metrics_used), frozenset(checker.reads))


def _lambda_args() -> ast.arguments:
    return ast.arguments(
        posonlyargs=[],
        args=[ast.arg(p.strip()) for p in PARAMS.split(",")],
        kwonlyargs=[],
        kw_defaults=[],
        defaults=[],
    )
