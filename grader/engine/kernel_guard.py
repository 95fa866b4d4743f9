"""Sealed test verdicts: how the grader tells a test that passed from a kernel that says so.

Student code runs in the same kernel process as the tests, so it can rewire the kernel:
replace the execute handler, the traceback printer, the shell's transformers, and make a
failing test *report* success. This module runs inside each sandbox kernel (copied beside
the launcher, ``grader.engine.kernel_launcher``; standard library only) and gives the grader a
verdict for every autograded test that the kernel's replies cannot forge:

- ``install()`` runs in the kernel process before the kernel starts, so before any learner
  code, and adds an audit hook (``sys.addaudithook``: Python code cannot remove one).
- The grader *arms* each kernel before any learner code runs in the sandbox
  (``learning_studio.arm``): the guard makes a random key, prints it once (the grader reads
  it from that request's output), makes the process non-dumpable (no other process may read
  its memory) and adds a second hook that refuses, from then on, what could reach the key or
  forge a verdict: trace and profile functions (they can jump over an ``assert``), walking
  the garbage collector, reading a process's ``mem`` file, ctypes, other threads' frames and
  new audit hooks.
- The grader sends each autograded test cell with a last comment line
  ``# learning-studio-seal NONCE MAC``, MAC = HMAC(key, the cell's text). The guard's input
  transformer hands the text to the guard, which checks the MAC and parses the text itself;
  its AST transformer replaces the cell's tree by the guard's own: the whole cell as one
  statement (``if True:``, so tracebacks keep the cell's line numbers) ending in a call of
  ``sys.audit("learning_studio.seal", NONCE)``. A last expression (nbgrader's partial credit)
  stays at top level and passes its value through ``learning_studio.value``.
- At the seal the guard checks that the calling frame runs exactly the bytecode it compiled
  from the authenticated text, in the notebook's namespace, with the standard builtins; only
  then it leaves ``##learning-studio-seal NONCE pass [VALUE] MAC##`` for the cell to print.
  The seal is reached only when every statement of the test ran without an exception, so a
  kernel that reports a pass without a valid seal was tampered with.

The guard never raises into learner code, never calls code learner code could have replaced
while it holds the key (everything it uses is captured at install time; the AST classes it
touches are checked unchanged), and is reachable only through the interpreter's hook list.
Its secret part runs only inside its outer part, which first turns the cyclic garbage
collector off and every Python signal handler to SIG_IGN (a handler is handed the frame it
interrupts, and from a frame the closures, so the key).

Not stopped (see the threat model in docs/grader-instructor.md): answers written against
the tests themselves (an object whose ``==`` is always true, reading expected values), and
tests that are not plain Python (IPython magics) are not sealed.
"""

from __future__ import annotations

import sys

SEAL_MARK = "# learning-studio-seal "
SEAL_OUT = "##learning-studio-seal "
ARM_OUT = "##learning-studio-arm "
EVENT = "learning_studio."
SLOT = "_learning_studio_seal"  # where the guard leaves a seal for the cell to print

_SEAL_TEMPLATE = (
    "if True:\n"
    "    pass\n"
    "    __import__('sys').audit('learning_studio.seal', {nonce!r})\n"
    "    print(__import__('sys').__dict__.pop('" + SLOT + "', ''), end='')\n"
)
_VALUE_TEMPLATE = (
    "(lambda v: (__import__('sys').audit('learning_studio.value', {nonce!r}, v), "
    "print(__import__('sys').__dict__.pop('" + SLOT + "', ''), end=''), v)[2])(None)\n"
)


def install() -> None:  # noqa: C901 - one closure on purpose: nothing in it is reachable
    """Add the guard's audit hook to this process (call before the kernel starts)."""
    import _ast
    import _hashlib
    import _operator
    import _signal
    import ast  # noqa: F401 - it adds properties to _ast's classes: before the snapshot
    import builtins
    import ctypes
    import gc
    import os
    import signal

    # Everything the guard calls later is captured now: module attributes and builtins can
    # be replaced by learner code, closure cells of an unreachable function cannot.
    _addaudithook = sys.addaudithook
    _getframe = sys._getframe
    _sysdict = sys.__dict__
    _compile = compile
    _type, _len, _repr, _str, _list, _set = type, len, repr, str, list, set
    _int, _float, _bool, _dict, _frozenset = int, float, bool, dict, frozenset
    _PermissionError, _BaseException = PermissionError, BaseException
    _hmac = _hashlib.hmac_digest
    _same_digest = _operator._compare_digest
    _urandom = os.urandom
    _gc_disable, _gc_enable, _gc_isenabled = gc.disable, gc.enable, gc.isenabled
    _valid_signals = tuple(signal.valid_signals())
    _getsignal, _setsignal = _signal.getsignal, _signal.signal  # the C functions
    _SIG_IGN = _signal.SIG_IGN
    _audit = sys.audit
    _callable = callable
    _bdict = builtins.__dict__
    _builtins: dict = {}  # the standard names, as they are when armed (before learner code)
    _code_type = _type(install.__code__)
    _hex = _frozenset("0123456789abcdef")
    _ONLY_AST = 0x400  # ast.PyCF_ONLY_AST
    _TLA = 0x2000  # ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    _FUTURE = 0x1000000 | 0x400000 | 0x200000  # annotations, barry_as_FLUFL, generator_stop
    A = _ast
    Module, Interactive, Expr, ImportFrom = A.Module, A.Interactive, A.Expr, A.ImportFrom
    # The AST classes whose attributes the guard reads or writes, with their bases: a class
    # attribute added later (a property, __getattribute__) would run learner code.
    # compile() reads every node's fields through the classes, so all of _ast's classes.
    _ast_classes = _tuple_of_mros(*(c for c in vars(A).values()
                                    if isinstance(c, type) and issubclass(c, A.AST)))
    _ast_dicts = tuple((cls, _dict(cls.__dict__)) for cls in _ast_classes)
    _ctypes_prctl = ctypes.CDLL(None).prctl
    # the module's constants too: learner code can reach this module's globals
    SEAL_MARK_, SEAL_OUT_, ARM_OUT_, EVENT_ = SEAL_MARK, SEAL_OUT, ARM_OUT, EVENT
    SEAL_TEMPLATE, VALUE_TEMPLATE, SLOT_ = _SEAL_TEMPLATE, _VALUE_TEMPLATE, SLOT
    cell_shim, ast_shim_class = _cell_shim, _AstShim
    _bytes = bytes

    armed = [False]
    state: dict = {}
    pending: dict = {}
    used: set = _set()
    keybox: list = []

    def mac(text: str) -> str:
        return _hmac(keybox[0], text.encode("utf-8", "surrogatepass"), "sha256").hex()

    # -- the deny hook (added when armed): raises, holds nothing -------------------------
    always = ("gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames",
              "sys.settrace", "sys.setprofile", "sys.addaudithook")

    def deny(event: str, args: tuple) -> None:
        if event in always or event[:7] == "ctypes.":
            raise _PermissionError(
                f"{event} is not available while grading (the grader's kernels refuse it)")
        if event == "open" and args:
            path = args[0]
            if _type(path) is _bytes:
                path = path.decode("utf-8", "replace")
            if _type(path) is _str and path.rstrip("/").rpartition("/")[2] == "mem":
                raise _PermissionError("reading process memory is not available while grading")

    # -- the guard: never raises, never runs learner code ---------------------------------
    def classes_unchanged() -> bool:
        for cls, snapshot in _ast_dicts:
            current = cls.__dict__
            if _len(current) != _len(snapshot):
                return False
            for name, value in snapshot.items():
                if current.get(name, current) is not value:
                    return False
        return True

    def parse(text: str):
        return _compile(text, "<test>", "exec", _ONLY_AST | _TLA, True)

    def wrapped(text: str, nonce: str):
        """(the cell as one statement ending in the seal, its last expression apart)."""
        body = parse(text).body
        last = body[-1] if body and _type(body[-1]) is Expr else None
        rest = body[:-1] if last is not None else body
        seal_stmt = parse(SEAL_TEMPLATE.format(nonce=nonce)).body[0]
        seal_stmt.body = rest + seal_stmt.body[1:]
        value = None
        if last is not None:
            value = parse(VALUE_TEMPLATE.format(nonce=nonce)).body[0]
            value.value.args = [last.value]
            value.lineno, value.end_lineno = last.lineno, last.end_lineno
        return seal_stmt, value

    def expected(code, interactive: bool):
        flags = _TLA | (code.co_flags & _FUTURE)
        seal_stmt, value = wrapped(pending["text"], pending["nonce"])
        if interactive:
            return _compile(Interactive(body=[value]), "<test>", "single", flags, True)
        return _compile(Module(body=[seal_stmt], type_ignores=[]), "<test>", "exec", flags,
                        True)

    def same_code(a, b) -> bool:
        if _type(a) is not _code_type or _type(b) is not _code_type:
            return False
        if (a.co_code != b.co_code or a.co_names != b.co_names
                or a.co_varnames != b.co_varnames or a.co_freevars != b.co_freevars
                or a.co_cellvars != b.co_cellvars or a.co_argcount != b.co_argcount
                or a.co_kwonlyargcount != b.co_kwonlyargcount
                or a.co_posonlyargcount != b.co_posonlyargcount
                or _len(a.co_consts) != _len(b.co_consts)):
            return False
        i = 0
        for x in a.co_consts:
            y = b.co_consts[i]
            i += 1
            if _type(x) is _code_type:
                if not same_code(x, y):
                    return False
            elif _type(x) is not _type(y) or not (x is y or x == y):
                return False
        return True

    def environment_ok(frame) -> bool:
        if frame.f_globals is not state["user_ns"] or frame.f_builtins is not _bdict:
            return False
        for name, value in _builtins.items():
            if _bdict.get(name, _bdict) is not value:
                return False
        return True

    def leave_seal(nonce: str, outcome: str) -> None:
        _sysdict[SLOT_] = f"\n{SEAL_OUT_}{nonce} {outcome} {mac(f'seal|{nonce}|{outcome}')}##\n"

    def on_arm() -> None:
        from IPython import get_ipython

        shell = get_ipython()
        keybox.append(_urandom(32))
        state.update(user_ns=shell.user_ns)
        # as IPython runs code: with its exit/quit/get_ipython; "_" is the last value
        _builtins.update((k, v) for k, v in _bdict.items() if k != "_")
        shell.input_transformers_cleanup.insert(0, cell_shim)
        shell.ast_transformers.append(ast_shim_class())
        try:  # no other process of the learner's may read this one's memory (the key)
            _ctypes_prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
        except Exception:  # noqa: BLE001, S110 - the deny hook still guards /proc/self/mem
            pass
        _addaudithook(deny)
        armed[0] = True
        sys.stdout.write(f"\n{ARM_OUT_}{keybox[0].hex()}##\n")
        sys.stdout.flush()

    def on_cell(text: str, marker: str) -> None:
        parts = marker[_len(SEAL_MARK_):].split()
        if _len(parts) != 2:
            return
        nonce, tag = parts
        if (nonce in used or _len(nonce) > 64 or not _frozenset(nonce) <= _hex
                or not _same_digest(mac(f"cell|{nonce}|{text}"), tag)):
            return
        used.add(nonce)
        pending.clear()
        # A test runs with the standard builtins, whatever learner code replaced.
        for name, value in _builtins.items():
            if _bdict.get(name, _bdict) is not value:
                _bdict[name] = value
        unsealable = False
        try:
            for n in parse(text).body:
                if _type(n) is ImportFrom and n.module == "__future__":
                    unsealable = True
        except _BaseException:
            unsealable = True
        if unsealable:
            leave_seal(nonce, "unsealable")
            return
        pending.update(nonce=nonce, text=text, stage="cell", value=False, body_ok=False)

    def on_ast(box: list) -> None:
        if pending.get("stage") != "cell":
            return
        pending["stage"] = "ast"
        seal_stmt, value = wrapped(pending["text"], pending["nonce"])
        body = [seal_stmt] if value is None else [seal_stmt, value]
        pending["value"] = value is not None
        box[0] = Module(body=body, type_ignores=[])

    def on_seal(nonce: str, frame, code) -> None:
        if pending.get("stage") != "ast" or pending.get("nonce") != nonce:
            return
        pending["stage"] = "sealed"
        if not (same_code(code, expected(code, False)) and environment_ok(frame)):
            return
        if pending["value"]:
            pending["body_ok"] = True
        else:
            leave_seal(nonce, "pass")

    def on_value(nonce: str, value, frames: list) -> None:
        if pending.get("nonce") != nonce or not pending.get("body_ok"):
            return
        pending["body_ok"] = False
        (lam_frame, lam_code), (frame, code) = frames
        exp = expected(code, True)
        if not (same_code(code, exp) and environment_ok(frame) and lam_frame.f_back is frame):
            return
        found = False
        for c in code.co_consts:
            if c is lam_code:
                found = True
        if not found:
            return
        kind = _type(value)
        shown = _repr(value) if kind is _int or kind is _float or kind is _bool else "other"
        leave_seal(nonce, f"pass {shown}")

    # Three hooks, in this order, for the guard's own events ("learning_studio.*"):
    # - outer: holds nothing secret. It turns the cyclic garbage collector off (finalizers
    #   would run learner code under the guard's frames) and every Python signal handler to
    #   SIG_IGN (a handler is handed the frame it interrupts), checks no handler is left,
    #   then raises "learning_studio.inner", and puts both back;
    # - precheck: refuses "learning_studio.inner" unless outer raised it, so the secret
    #   part never runs where learner code could interrupt it;
    # - inner: the secret part (the key is reachable from its frame's closures).
    inner_event = EVENT_ + "inner"

    def outer(event: str, args: tuple) -> None:
        if event[:16] != EVENT_ or event == inner_event:
            return
        gc_was = _gc_isenabled()
        _gc_disable()
        saved = []
        try:
            frames = []
            if event == "learning_studio.seal" or event == "learning_studio.value":
                f1 = _getframe(1)
                frames.append((f1, f1.f_code))
                if event == "learning_studio.value":
                    f2 = f1.f_back
                    frames.append((f2, f2.f_code))
            for s in _valid_signals:
                h = _getsignal(s)
                if _callable(h):
                    _setsignal(s, _SIG_IGN)
                    saved.append((s, h))
            for s in _valid_signals:
                if _callable(_getsignal(s)):
                    return  # a handler came back meanwhile: no secret work now
            _audit(inner_event, event, args, frames)
        except _BaseException:  # noqa: S110 - never raises into learner code
            pass
        finally:
            for s, h in saved:
                try:
                    _setsignal(s, h)
                except _BaseException:  # noqa: S110
                    pass
            if gc_was:
                _gc_enable()

    outer_code = outer.__code__

    def precheck(event: str, args: tuple) -> None:
        if event == inner_event and _getframe(1).f_code is not outer_code:
            raise _PermissionError("not available")

    def inner(event: str, args: tuple) -> None:
        if event != inner_event or _len(args) != 3:
            return
        event, args, frames = args
        try:
            if event == "learning_studio.arm":
                if not armed[0]:
                    on_arm()
            elif not armed[0] or not classes_unchanged():
                return
            elif event == "learning_studio.cell":
                if (_len(args) == 2 and _type(args[0]) is _str and _type(args[1]) is _str):
                    on_cell(args[0], args[1])
            elif event == "learning_studio.ast":
                if _len(args) == 1 and _type(args[0]) is _list and _len(args[0]) == 1:
                    on_ast(args[0])
            elif event == "learning_studio.seal":
                if _len(args) == 1 and _type(args[0]) is _str and frames:
                    on_seal(args[0], frames[0][0], frames[0][1])
            elif event == "learning_studio.value":
                if _len(args) == 2 and _type(args[0]) is _str and _len(frames) == 2:
                    on_value(args[0], args[1], frames)
        except _BaseException:  # noqa: S110 - the guard never raises into learner code
            pass

    _addaudithook(precheck)
    _addaudithook(outer)
    _addaudithook(inner)


def _tuple_of_mros(*classes: type) -> tuple:
    seen: list = []
    for cls in classes:
        for c in cls.__mro__:
            if c is not object and c not in seen:
                seen.append(c)
    return tuple(seen)


def _cell_shim(lines: list) -> list:
    """IPython input transformer (runs first): hands a marked test cell to the guard."""
    i = len(lines) - 1
    while i >= 0 and not lines[i].strip():
        i -= 1
    if i >= 0 and lines[i].startswith(SEAL_MARK):
        sys.audit(EVENT + "cell", "".join(lines[:i]), lines[i].strip())
        return lines[:i] + lines[i + 1:]
    return lines


class _AstShim:
    """IPython AST transformer (runs last): the guard may replace the tree of a test cell."""

    def visit(self, node):
        box = [node]
        sys.audit(EVENT + "ast", box)
        unsealable = sys.__dict__.pop(SLOT, None)
        if unsealable:  # a test the guard cannot seal says so in its output
            sys.stdout.write(unsealable)
        return box[0]


def cell_marker(text: str, nonce: str, key: bytes) -> str:
    """The text to send for a test cell: its source and the seal marker line."""
    import hashlib
    import hmac

    body = text if text.endswith("\n") else text + "\n"
    tag = hmac.new(key, f"cell|{nonce}|{body}".encode("utf-8", "surrogatepass"),
                   hashlib.sha256).hexdigest()
    return f"{body}{SEAL_MARK}{nonce} {tag}\n"


def seal_valid(key: bytes, nonce: str, outcome: str, tag: str) -> bool:
    import hashlib
    import hmac

    want = hmac.new(key, f"seal|{nonce}|{outcome}".encode("utf-8", "surrogatepass"),
                    hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, tag)
