"""The docs name only what exists.

Every page in docs/ (and docs/examples/, and README.md) is read for the names an operator,
instructor or learner would type or look for, and each is checked against the code:

- environment variables (STUDIO_*, GRADER_*, LS_*, JUPYTERHUB_*, CONFIGPROXY_*, DJANGO_*,
  OPENAI_*, DATABASE_URL) must appear in the code or config that reads them (ENV_SOURCES; Markdown
  files there do not count);
- ``c.Class.trait`` settings must name a class of CLASSES (an unknown class is a failure)
  with that configurable trait; a bare ``Class.name`` in inline code, for a class of
  CLASSES, must be an attribute of it;
- ``grader ...`` / ``python -m grader ...`` in a code block or inline code must name a
  subcommand whose ``--help`` exits 0, and each ``--option`` given to it must appear in
  its ``--help-all``;
- ``python -m MODULE`` must be importable, and a dotted name of the project's code in
  inline code (``grader.engine.sandbox.SandboxPool``) must exist;
- a grader URL (``/services/grader/...``, or ``$G/...`` with G the API) must match a route
  of the grader's tornado application (``{id}`` and ``<name>`` match any segment);
- ``./studio WORD`` must be a command of the ``studio`` script (its ``case`` block);
- relative links and repository paths in code (``grader/...``, ``hub/...``, ``docs/...``)
  must exist (``<placeholder>`` and ``*`` parts match anything; a path git ignores, such as
  a build folder, is allowed);
- docs/examples/grader_config.py must load with traitlets and set only settings that exist.

Each failure says ``file:line: what is missing``. The checkers are plain functions over a
file's text, so the negative tests at the end run them on small documents in tmp_path.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Where an environment variable must be read for a doc to name it.
ENV_SOURCES = ["hub", "grader", "cms", "contracts", "extensions", "images", "studio",
               "docker-compose.yml", "jupyterhub_config.py"]
ENV_RE = re.compile(
    r"(?<![A-Za-z0-9_])((?:STUDIO|GRADER|LS|JUPYTERHUB|CONFIGPROXY|DJANGO|OPENAI)_[A-Z0-9_]*[A-Z0-9]"
    r"|DATABASE_URL)(?![A-Za-z0-9_])")

# Every configurable class a doc may set with c.Class.trait, and where it lives.
CLASSES = {
    # the grader
    "GraderSettings": "grader.service.config",
    "GraderApp": "grader.service.app",
    "GraderCLI": "grader.cli",
    "GraderCommand": "grader.cli.base",
    "DbCommand": "grader.cli.service",
    "ReleaseCommand": "grader.cli.service",
    "GradeCommand": "grader.cli.service",
    "StatusCommand": "grader.cli.service",
    "ExportCommand": "grader.cli.service",
    "AutogradeCommand": "grader.cli.service",
    "CourseCommand": "grader.cli.course",
    "ValidateCommand": "grader.cli.course",
    "ImportCommand": "grader.cli.course",
    "ExportCatalogueCommand": "grader.cli.course",
    "CourseValidator": "grader.courses.validate",
    "DockerSandbox": "grader.engine.sandbox",
    "SandboxPool": "grader.engine.sandbox",
    # the hub
    "StudioSettings": "hub.settings",
    "StudioSpawner": "hub.spawner",
    "StudioHub": "hub.app",
    "SiteAuthenticator": "hub.auth",
    "JupyterHub": "jupyterhub.app",
    "Spawner": "jupyterhub.spawner",
    "LocalProcessSpawner": "jupyterhub.spawner",
    "Authenticator": "jupyterhub.auth",
    "SharedPasswordAuthenticator": "jupyterhub.authenticators.shared",
    "Proxy": "jupyterhub.proxy",
    "ConfigurableHTTPProxy": "jupyterhub.proxy",
    "DockerSpawner": "dockerspawner",
    "SwarmSpawner": "dockerspawner",
    "OAuthenticator": "oauthenticator.oauth2",
    "GenericOAuthenticator": "oauthenticator.generic",
    # nbgrader and the learner's server
    "Execute": "nbgrader.preprocessors",
    "Autograde": "nbgrader.converters.autograde",
    "ClearSolutions": "nbgrader.preprocessors",
    "LimitOutput": "nbgrader.preprocessors",
    "CourseDirectory": "nbgrader.coursedir",
    "ExchangeFactory": "nbgrader.exchange",
    "LearningStudio": "learning_studio_lab",
    "GraderClient": "learning_studio_lab.grader_client",
    "LessonLibrary": "learning_studio_lab.lessons",
    "SubmissionRules": "learning_studio_lab.workspace",
    "GraderList": "learning_studio_lab.exchange",
    "GraderFetchAssignment": "learning_studio_lab.exchange",
    "GraderSubmit": "learning_studio_lab.exchange",
    "GraderCollect": "learning_studio_lab.exchange",
    "GraderReleaseAssignment": "learning_studio_lab.exchange",
    "GraderReleaseFeedback": "learning_studio_lab.exchange",
    "GraderFetchFeedback": "learning_studio_lab.exchange",
    "GraderExecute": "learning_studio_lab.autograde",
    "ServerApp": "jupyter_server.serverapp",
}
SETTING_RE = re.compile(r"(?<![\w.])c\.([A-Z]\w*)\.([A-Za-z_]\w*)")
BARE_ATTR_RE = re.compile(r"^([A-Z]\w*)\.([a-z_]\w*)$")

# A command at the start of a code line, an inline code span or a shell segment:
# `grader ...` (also .venv/bin/grader, "$VENV/bin/grader") and `python -m grader ...`,
# after an optional prompt, sudo/env/exec and VAR=value assignments.
GRADER_RE = re.compile(
    r"^\s*(?:\$\s+)?(?:(?:sudo|exec|time|env)\s+)*(?:[A-Za-z_]\w*=\S*\s+)*"
    r"(?:[\"']?\S*?python3?(?:\.\d+)?[\"']?\s+-m\s+grader|[\"']?(?:\S*/)?grader[\"']?)(?=\s|$)")
SEGMENT_RE = re.compile(r"&&|\|\||;|\$\(|\s\|\s")
COMMAND_WORD_RE = re.compile(r"^[\w\[\]<>{}|.…-]+$", re.ASCII)
SHELL_STOP = {">", ">>", "<", "2>&1", "&", ")"}
OPTION_RE = re.compile(r"(?<![\w-])--([A-Za-z][\w.-]*)")
ALWAYS_OPTIONS = {"help", "help-all"}

STUDIO_RE = re.compile(r"\./studio\s+([A-Za-z][\w-]*)")
LINK_RE = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
PATH_PREFIXES = ("grader", "hub", "images", "tests", "courses", "docs", "cms", "contracts",
                 "extensions")
PATH_RE = re.compile(r"(?<![\w./$@:-])((?:" + "|".join(PATH_PREFIXES) + r")/[\w./<>{}*+@-]*)")
ELSEWHERE = " (a path elsewhere, such as in a learner's home: write it absolute or with ~/)"
INLINE_RE = re.compile(r"(`+)(?!\s*\n\s*\n)(.+?)\1", re.S)
FENCE_RE = re.compile(r"^\s*(```|~~~)(.*)$")


# ---------------------------------------------------------------------------- parsing
@dataclass
class Doc:
    path: Path
    text: str

    @classmethod
    def read(cls, path: Path) -> Doc:
        return cls(path, path.read_text(encoding="utf-8"))

    @property
    def name(self) -> str:
        try:
            return self.path.relative_to(REPO).as_posix()
        except ValueError:
            return str(self.path)

    @property
    def is_markdown(self) -> bool:
        return self.path.suffix == ".md"

    def where(self, line: int, what: str) -> str:
        return f"{self.name}:{line}: {what}"

    def code_lines(self) -> list[tuple[int, str, str]]:
        """Logical lines of fenced code blocks: (line number, text, block language), with
        backslash continuations joined and shell comments cut."""
        if not self.is_markdown:
            return []
        out: list[tuple[int, str, str]] = []
        fence, lang, pending, start = None, "", "", 0
        for no, line in enumerate(self.text.splitlines(), 1):
            m = FENCE_RE.match(line)
            if fence is None:
                if m:
                    fence, lang = m.group(1), m.group(2).strip().lower()
                continue
            if m and m.group(1) == fence and not m.group(2).strip():
                fence = None
                continue
            if lang not in ("python", "py", "json", "yaml", "yml", "toml", "ini"):
                line = re.sub(r"(^|\s)#.*$", "", line)
            if not pending:
                start = no
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            out.append((start, pending + line, lang))
            pending = ""
        return out

    def prose(self) -> str:
        """The text outside code blocks, with code lines blanked (line numbers kept)."""
        if not self.is_markdown:
            return self.text
        lines, fence = [], None
        for line in self.text.splitlines():
            m = FENCE_RE.match(line)
            if fence is None and m:
                fence = m.group(1)
                lines.append("")
            elif fence is not None:
                if m and m.group(1) == fence and not m.group(2).strip():
                    fence = None
                lines.append("")
            else:
                lines.append(line)
        return "\n".join(lines)

    def inline_code(self) -> list[tuple[int, str]]:
        """Inline code spans (they may wrap lines): (line number, content on one line)."""
        prose = self.prose()
        return [(prose.count("\n", 0, m.start()) + 1, " ".join(m.group(2).split()))
                for m in INLINE_RE.finditer(prose)]

    def code(self) -> list[tuple[int, str]]:
        """Everything that is code: inline spans and code block lines."""
        return sorted(self.inline_code() + [(no, text) for no, text, _ in self.code_lines()],
                      key=lambda item: item[0])

    def lines(self) -> list[tuple[int, str]]:
        return list(enumerate(self.text.splitlines(), 1))


def all_docs() -> list[Path]:
    docs = sorted((REPO / "docs").glob("*.md"))
    docs += sorted(p for p in (REPO / "docs" / "examples").rglob("*") if p.is_file())
    return docs + [REPO / "README.md"]


# ---------------------------------------------------------------- environment variables
@functools.cache
def env_names_in_code() -> frozenset[str]:
    names: set[str] = set()
    for source in ENV_SOURCES:
        root = REPO / source
        files = [root] if root.is_file() else [
            p for p in root.rglob("*")
            if p.is_file() and not {"node_modules", "__pycache__", ".venv"} & set(p.parts)]
        for f in files:
            if f.suffix in (".md", ".lock", ".png", ".svg", ".ico", ".pyc", ".sqlite3"):
                continue
            try:
                if f.stat().st_size > 2_000_000:
                    continue
                names.update(re.findall(r"[A-Z][A-Z0-9_]*[A-Z0-9]", f.read_text(errors="ignore")))
            except OSError:
                continue
    return frozenset(names)


def check_env_vars(doc: Doc, known: frozenset[str] | None = None) -> list[str]:
    known = env_names_in_code() if known is None else known
    problems = []
    for no, line in doc.lines():
        for name in ENV_RE.findall(line):
            if name not in known:
                problems.append(doc.where(
                    no, f"environment variable {name} is read nowhere in "
                    f"{', '.join(ENV_SOURCES)}"))
    return problems


# ------------------------------------------------------------------------- settings
def load_class(name: str):
    module = CLASSES.get(name)
    if module is None:
        return None
    return getattr(importlib.import_module(module), name)


def setting_problem(cls_name: str, trait: str) -> str | None:
    """Why c.cls_name.trait is not a setting, or None when it is one."""
    if cls_name not in CLASSES:
        return (f"c.{cls_name}.{trait}: class {cls_name} is unknown (not in "
                "tests/test_docs.py CLASSES; add it there with its module if it is real)")
    try:
        cls = load_class(cls_name)
    except (ImportError, AttributeError) as e:
        return f"c.{cls_name}.{trait}: cannot import {cls_name} from {CLASSES[cls_name]} ({e})"
    if trait not in cls.class_traits(config=True):
        return f"c.{cls_name}.{trait}: {cls_name} has no configurable trait {trait!r}"
    return None


def check_settings(doc: Doc) -> list[str]:
    problems = []
    for no, line in doc.lines():
        for cls_name, trait in SETTING_RE.findall(line):
            why = setting_problem(cls_name, trait)
            if why:
                problems.append(doc.where(no, why))
    for no, span in doc.inline_code():
        m = BARE_ATTR_RE.match(span)
        if m and m.group(1) in CLASSES:
            cls = load_class(m.group(1))
            if not hasattr(cls, m.group(2)):
                problems.append(doc.where(no, f"{span}: {m.group(1)} has no {m.group(2)!r}"))
    return problems


# ------------------------------------------------------------------ grader commands
def _subcommands(cls) -> dict:
    subs = getattr(cls, "subcommands", None)
    return subs if isinstance(subs, dict) else {}


def _subcommand_class(spec):
    from traitlets.utils.importstring import import_item

    target = spec[0]
    return import_item(target) if isinstance(target, str) else target


def _is_placeholder(word: str) -> bool:
    return bool(re.search(r"[<>{}…]|\.\.\.", word)) or bool(re.fullmatch(r"[A-Z][A-Z_]*", word))


def grader_commands(doc: Doc) -> list[tuple[int, list[str]]]:
    """(line, the words after `grader`) for each grader command in code."""
    found = []
    for no, text in doc.code():
        for segment in SEGMENT_RE.split(text):
            m = GRADER_RE.match(segment)
            if not m:
                continue
            words = []
            for word in segment[m.end():].split():
                if word in SHELL_STOP or word.startswith((">", "2>")):
                    break
                words.append(word)
            if words and not COMMAND_WORD_RE.match(words[0]):
                continue  # prose that starts with the word grader (a diagram, output)
            found.append((no, words))
    return found


def resolve_grader(words: list[str]) -> tuple[list[tuple[str, ...]], str | None]:
    """The subcommand paths words name (several with a|b), or why they name none.
    An empty list without a reason: a placeholder (`grader <cmd>`), nothing to check."""
    from grader.cli import GraderCLI

    paths = [((), GraderCLI)]
    for word in words:
        word = word.strip("[](){}\"',`")
        if not word or word.startswith("-"):
            continue
        subs_of = [(p, _subcommands(c)) for p, c in paths]
        if not any(subs for _, subs in subs_of):
            break  # positional arguments of a leaf command
        if _is_placeholder(word):
            return [], None
        new = []
        for alt in word.split("|"):
            for path, subs in subs_of:
                if alt not in subs:
                    known = ", ".join(subs) or "none"
                    name = " ".join(("grader",) + path)
                    return [], f"`{name} {alt}`: {name} has no subcommand {alt!r} (it has: {known})"
                new.append((path + (alt,), _subcommand_class(subs[alt])))
        paths = new
    return [p for p, _ in paths], None


@functools.cache
def grader_help(path: tuple[str, ...]) -> tuple[int, str, str]:
    """(exit code of --help, --help-all output, stderr) of `grader PATH`, run in an empty
    folder so that no grader_config.py is read."""
    cwd = Path(__file__).parent  # holds no grader_config.py
    cmd = [sys.executable, "-m", "grader", *path]
    short = subprocess.run([*cmd, "--help"], capture_output=True, text=True, cwd=cwd,
                           timeout=120)
    full = subprocess.run([*cmd, "--help-all"], capture_output=True, text=True, cwd=cwd,
                          timeout=120)
    return short.returncode, full.stdout, short.stderr[-500:]


def help_options(path: tuple[str, ...]) -> set[str]:
    return set(re.findall(r"^--?([A-Za-z][\w.-]*)", grader_help(path)[1], re.M))


def check_grader_commands(doc: Doc) -> list[str]:
    problems = []
    for no, words in grader_commands(doc):
        paths, why = resolve_grader(words)
        if why:
            problems.append(doc.where(no, why))
            continue
        options = set(OPTION_RE.findall(" ".join(words)))
        options = {o.split("=")[0] for o in options} - ALWAYS_OPTIONS
        for path in paths:
            name = " ".join(("grader",) + path)
            code, _, err = grader_help(path)
            if code != 0:
                problems.append(doc.where(no, f"`{name} --help` exits {code}: {err}"))
                continue
            for option in sorted(options - help_options(path)):
                problems.append(doc.where(
                    no, f"`{name}` has no option --{option} (see `{name} --help-all`)"))
    return problems


# ------------------------------------------------------------------ python -m modules
MODULE_RE = re.compile(r"(?<![\w-])python[\d.]*[\"']?\s+-m\s+([A-Za-z_][\w.]*)")


# A dotted name of the project's own code in inline code: `grader.engine.sandbox.SandboxPool`
DOTTED_RE = re.compile(r"^(grader|hub|studio_contracts|learning_studio_lab|studio_site)"
                       r"((?:\.[A-Za-z_]\w*)+)$")
FILE_SUFFIXES = {"py", "sqlite", "json", "yml", "yaml", "toml", "txt", "md", "html", "csv",
                 "ipynb", "cfg", "ini", "env", "sh", "js", "ts"}


def _module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def dotted_name_problem(name: str) -> str | None:
    """Why the dotted name of project code does not exist, or None when it does."""
    parts = name.split(".")
    if parts[-1] in FILE_SUFFIXES:
        return None  # a file name such as grader.sqlite
    for i in range(len(parts), 0, -1):
        module = ".".join(parts[:i])
        if _module_exists(module):
            break
    else:
        return f"{name}: no module {parts[0]}"
    if i == len(parts) or parts[0] == "studio_site":
        return None  # a module (the site's attributes need Django set up: not followed)
    obj = importlib.import_module(module)
    for attr in parts[i:]:
        if not hasattr(obj, attr):
            return f"{name}: {'.'.join(parts[:i])} has no {attr!r}"
        obj = getattr(obj, attr)
    return None


def check_python_modules(doc: Doc) -> list[str]:
    """`python -m MODULE` in code: MODULE must be importable here (the project and the
    test environment), as `python -m hub.demo` no longer is; a dotted name of the
    project's code in inline code (`grader.engine.sandbox.SandboxPool`) must exist."""
    problems = []
    for no, text in doc.code():
        for module in MODULE_RE.findall(text):
            module = module.rstrip(".")
            if not _module_exists(module):
                problems.append(doc.where(no, f"python -m {module}: no module {module}"))
    for no, span in doc.inline_code():
        if DOTTED_RE.match(span):
            why = dotted_name_problem(span)
            if why:
                problems.append(doc.where(no, why))
    return problems


# ------------------------------------------------------------------- grader URL paths
# /services/grader/... anywhere, and $G/... where a page sets G to the grader's API
GRADER_URL_RE = re.compile(r"(/services/grader/[^\s`'\")\]?#]*|\$G(?:/[^\s`'\")\]?#]*)?)")


@functools.cache
def grader_routes() -> tuple[re.Pattern, ...]:
    """The URL patterns of the grader service, from its own tornado application."""
    from grader.service.app import GraderApp
    from grader.service.config import GraderSettings

    app = GraderApp(service_prefix="/services/grader/")
    app.grader_settings = GraderSettings()
    app.gradebook = app.sandbox_pool = None
    router = app.make_tornado_app().default_router.rules[0].target
    return tuple(rule.matcher.regex for rule in router.rules)


def grader_url_problem(path: str) -> str | None:
    if re.search(r"\.\.\.|…|\*", path):
        return None  # an elided path
    url = path.replace("$G", "/services/grader/api").rstrip(".,;:")
    url = re.sub(r"\{[^}]*\}|<[^>]*>|\$\w+", "1", url)
    routes = grader_routes()
    if any(r.fullmatch(url) or r.fullmatch(url.rstrip("/")) for r in routes):
        return None
    folder = url if url.endswith("/") else url + "/"
    if any(r.pattern.startswith(folder) for r in routes):
        return None  # a folder of routes, such as /services/grader/api/
    return f"{path}: the grader has no such URL (grader/service/app.py, make_tornado_app)"


def check_grader_urls(doc: Doc) -> list[str]:
    problems = []
    for no, line in doc.lines():
        for path in GRADER_URL_RE.findall(line):
            why = grader_url_problem(path)
            if why:
                problems.append(doc.where(no, why))
    return problems


# ------------------------------------------------------------------- ./studio commands
@functools.cache
def studio_commands() -> frozenset[str]:
    text = (REPO / "studio").read_text()
    block = text[text.rindex('case "${1:-}" in'):]
    block = block[:block.index("esac")]
    names = set()
    for pattern in re.findall(r"^\s*([\w|-]+)\)", block, re.M):
        names.update(pattern.split("|"))
    return frozenset(names)


def check_studio_commands(doc: Doc, known: frozenset[str] | None = None) -> list[str]:
    known = studio_commands() if known is None else known
    problems = []
    for no, line in doc.lines():
        for word in STUDIO_RE.findall(line):
            if word not in known:
                problems.append(doc.where(
                    no, f"./studio {word}: the studio script has no such command "
                    f"(it has: {', '.join(sorted(known))})"))
    return problems


# --------------------------------------------------------------------- links, paths
def _git_ignores(rel: str) -> bool:
    """git ignores rel (a generated folder such as images/.build/); a trailing slash says
    it is a folder."""
    return subprocess.run(["git", "check-ignore", "-q", "--no-index", rel], cwd=REPO,
                          capture_output=True).returncode == 0


def repo_path_exists(rel: str) -> bool:
    pattern = re.sub(r"<[^>]*>|\{[^}]*\}|\.\.\.|…", "*", rel)
    if "*" in pattern:
        return any(REPO.glob(pattern.rstrip("/")))
    return (REPO / pattern).exists() or _git_ignores(pattern)


def check_paths(doc: Doc) -> list[str]:
    problems = []
    prose = doc.prose()
    if doc.is_markdown:
        for m in LINK_RE.finditer(prose):
            target = m.group(1)
            if re.match(r"^[a-zA-Z][\w+.-]*:", target) or target.startswith(("#", "/")):
                continue
            target = target.split("#")[0]
            if target and not (doc.path.parent / target).exists():
                no = prose.count("\n", 0, m.start()) + 1
                problems.append(doc.where(no, f"link to {target}: no such file"))
    seen = set()
    for no, text in doc.code():
        for rel in PATH_RE.findall(text):
            rel = rel.rstrip(".,;:")
            if (no, rel) in seen:
                continue
            seen.add((no, rel))
            if not repo_path_exists(rel):
                problems.append(doc.where(
                    no, f"{rel}: no such file or folder in the repository" + ELSEWHERE))
    return problems


# ------------------------------------------------------------------ the example config
def check_example_config(path: Path) -> list[str]:
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    name = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else str(path)
    try:
        config = PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
    except ConfigFileNotFound:
        return [f"{name}: not found"]
    except Exception as e:  # a config file that does not load is the failure reported
        return [f"{name}: does not load with traitlets ({type(e).__name__}: {e})"]
    text = path.read_text().splitlines()
    problems = []
    for cls_name, section in config.items():
        for trait in section:
            why = setting_problem(cls_name, trait)
            if why:
                no = next((i for i, line in enumerate(text, 1)
                           if f"c.{cls_name}.{trait}" in line), 0)
                problems.append(f"{name}:{no}: {why}")
    return problems


# ---------------------------------------------------------------------------- the tests
CHECKS = {
    "env": check_env_vars,
    "settings": check_settings,
    "grader": check_grader_commands,
    "modules": check_python_modules,
    "urls": check_grader_urls,
    "studio": check_studio_commands,
    "paths": check_paths,
}
DOCS = all_docs()


@pytest.mark.parametrize("check", list(CHECKS))
@pytest.mark.parametrize("path", DOCS, ids=[p.relative_to(REPO).as_posix() for p in DOCS])
def test_doc_names_only_what_exists(path, check):
    problems = CHECKS[check](Doc.read(path))
    assert not problems, "\n" + "\n".join(problems)


def test_example_grader_config_loads():
    path = REPO / "docs" / "examples" / "grader_config.py"
    assert path.is_file()
    problems = check_example_config(path)
    assert not problems, "\n" + "\n".join(problems)


# ------------------------------------------------- the checkers fail when they should
def write(tmp_path: Path, text: str, name: str = "page.md") -> Doc:
    path = tmp_path / name
    path.write_text(text)
    return Doc.read(path)


def test_missing_env_var_fails(tmp_path):
    doc = write(tmp_path, "Set `STUDIO_PORT`.\n\nThen set `STUDIO_NO_SUCH_SETTING=1`.\n")
    assert check_env_vars(doc) == [
        f"{doc.name}:3: environment variable STUDIO_NO_SUCH_SETTING is read nowhere in "
        + ", ".join(ENV_SOURCES)]
    assert check_env_vars(write(tmp_path, "DATABASE_URL, ${STUDIO_PORT:-8000}")) == []
    assert check_env_vars(write(tmp_path, "`OPENAI_BASE_URL`, `OPENAI_NO_SUCH`")) == [
        f"{doc.name}:1: environment variable OPENAI_NO_SUCH is read nowhere in "
        + ", ".join(ENV_SOURCES)]


def test_unknown_setting_fails(tmp_path):
    doc = write(tmp_path, "```python\nc.GraderSettings.worker_count = 2\n"
                "c.GraderSettings.no_such_trait = 1\nc.NoSuchClass.image = 'x'\n```\n"
                "`GraderSettings.check_releases` and `SandboxPool.no_such_thing`\n")
    problems = check_settings(doc)
    assert len(problems) == 3, problems
    assert problems[0].startswith(f"{doc.name}:3: c.GraderSettings.no_such_trait")
    assert "class NoSuchClass is unknown" in problems[1]
    assert problems[2].startswith(f"{doc.name}:6: SandboxPool.no_such_thing")


def test_unknown_grader_subcommand_or_option_fails(tmp_path):
    doc = write(tmp_path, "```sh\ngrader status --watch\n"
                "python -m grader import courses/intro\n"
                "grader release intro ps1 src \\\n    --no-such-option 3\n"
                "grader course validate courses/ --no-execute   # a comment, grader nothing\n"
                "```\n`.venv/bin/grader db upgrade|current`, `grader <cmd> --help`,\n"
                "`grader course frobnicate`\n")
    problems = check_grader_commands(doc)
    assert len(problems) == 3, problems
    assert problems[0].startswith(f"{doc.name}:3: `grader import`: grader has no subcommand")
    assert problems[1] == (f"{doc.name}:4: `grader release` has no option --no-such-option "
                           "(see `grader release --help-all`)")
    assert problems[2].startswith(f"{doc.name}:9: `grader course frobnicate`")


def test_missing_python_module_fails(tmp_path):
    doc = write(tmp_path, "`python -m grader course import`, `python3 -m pytest tests`\n"
                "```sh\npython -m hub.demo import-courses\n```\n"
                "`grader.engine.sandbox.SandboxPool`, `grader.sqlite`, `studio_contracts.signing`\n"
                "`grader.service.lessons.push_lessons` `grader.publish`\n")
    assert check_python_modules(doc) == [
        f"{doc.name}:3: python -m hub.demo: no module hub.demo",
        f"{doc.name}:6: grader.service.lessons.push_lessons: grader.service.lessons has no "
        "'push_lessons'",
        f"{doc.name}:6: grader.publish: grader has no 'publish'",
    ]


def test_missing_grader_url_fails(tmp_path):
    doc = write(tmp_path, "`/services/grader/api/`, `GET $G/submissions/42/files`, $G, "
                "`/services/grader/api/courses/<course>/lessons/<slug>`, `.../openapi.json`\n"
                "`POST $G/courses/intro/publish` and /services/grader/api/courses/{c}/grades.csv\n"
                "/services/grader/api/submissions/abc\n")
    assert [p.split(": ")[0] + ": " + p.split(": ")[1] for p in check_grader_urls(doc)] == [
        f"{doc.name}:2: $G/courses/intro/publish",
        f"{doc.name}:3: /services/grader/api/submissions/abc",
    ]


def test_unknown_studio_command_fails(tmp_path):
    doc = write(tmp_path, "Run `./studio up`, then `./studio migrate` (not a command).\n")
    problems = check_studio_commands(doc)
    assert len(problems) == 1 and problems[0].startswith(f"{doc.name}:1: ./studio migrate")
    assert {"up", "down", "test", "build", "status", "logs", "backup", "restore",
            "upgrade"} <= studio_commands()


def test_missing_link_or_path_fails(tmp_path):
    (tmp_path / "there.md").write_text("here\n")
    doc = write(tmp_path, "[ok](there.md#part) [web](https://example.org/x) [gone](nowhere.md)\n"
                "`grader/engine/sandbox.py`, `courses/<slug>/course.yml`, `grader/gradebook.py`\n"
                "```sh\npip install -r grader/requirements.txt\n```\n")
    problems = check_paths(doc)
    assert problems == [
        f"{doc.name}:1: link to nowhere.md: no such file",
        f"{doc.name}:2: grader/gradebook.py: no such file or folder in the repository" + ELSEWHERE,
        f"{doc.name}:4: grader/requirements.txt: no such file or folder in the repository"
        + ELSEWHERE,
    ]
    assert check_paths(write(tmp_path, "`images/.build/` `~/courses/intro/` `/srv/grader/x`")) == []


def test_bad_example_config_fails(tmp_path):
    good = tmp_path / "good_config.py"
    good.write_text("c = get_config()  # noqa: F821\nc.GraderSettings.worker_count = 1\n"
                    "c.DockerSandbox.image = 'x'\n")
    assert check_example_config(good) == []
    bad = tmp_path / "bad_config.py"
    bad.write_text("c = get_config()  # noqa: F821\nc.GraderSettings.workers = 1\n"
                   "c.Sandbox.image = 'x'\n")
    problems = check_example_config(bad)
    assert len(problems) == 2, problems
    assert problems[0].startswith(f"{bad}:2: c.GraderSettings.workers")
    broken = tmp_path / "broken_config.py"
    broken.write_text("c = get_config()  # noqa: F821\nc.GraderSettings.worker_count = (\n")
    assert "does not load" in check_example_config(broken)[0]
