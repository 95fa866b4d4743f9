"""The OpenAPI 3.1 document of the grader's REST API, served at api/openapi.json."""

from __future__ import annotations

from grader.service.apihandlers.base import GraderAPIHandler
from studio_contracts.events import GRADE_EVENT_SCHEMA, GRADE_EVENTS


def _op(summary: str, who: str, *, body: str | None = None, ok: str = "200", params=(),
        ctype: str = "application/json") -> dict:
    op = {
        "summary": summary,
        "description": f"Who may call it: {who}.",
        "parameters": [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in params
        ],
        "responses": {
            ok: {"description": "success", "content": {ctype: {}}},
            "400": {"$ref": "#/components/responses/Error"},
            "403": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"},
        },
    }
    if body:
        op["requestBody"] = {"$ref": f"#/components/requestBodies/{body}"}
    return op


def _with_429(op: dict, why: str = "submitted too often") -> dict:
    """A call limited per learner (GraderSettings.submission_rate, the tutor's limits)."""
    op["responses"]["429"] = {
        "description": f"TooManyRequests: {why}; try again after Retry-After",
        "headers": {"Retry-After": {"description": "seconds to wait",
                                    "schema": {"type": "integer"}}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    return op


def _with_503(op: dict) -> dict:
    """A call that needs the AI endpoint (GraderSettings.openai_*)."""
    op["responses"]["503"] = {"$ref": "#/components/responses/Error"}
    return op


C, A, S = ("course",), ("course", "assignment"), ("submission_id",)


def openapi_document(prefix: str) -> dict:
    api = prefix.rstrip("/") + "/api"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Learning Studio grader",
            "version": "1",
            "description": (
                "Releases, submissions, sandboxed autograding and the gradebook. Every call "
                "except /health and /openapi.json needs a JupyterHub token with the scope "
                "access:services!service=grader in 'Authorization: token <token>'. Errors are "
                '{"error": {"code": "<NamedError>", "message": "<what to do>"}}.'
            ),
        },
        "servers": [{"url": api}],
        "components": {
            "securitySchemes": {
                "hubToken": {"type": "apiKey", "in": "header", "name": "Authorization"}
            },
            "responses": {
                "Error": {
                    "description": "a named error with what to do",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
            },
            "schemas": {
                # declared once, in studio_contracts; the site's receiver checks the same
                "GradeEvent": {k: v for k, v in GRADE_EVENT_SCHEMA.items()
                               if k not in ("$schema", "$id")},
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "report": {"type": "object"},
                            },
                        }
                    },
                },
                "Files": {
                    "type": "object",
                    "description": "relative path -> base64 content",
                    "additionalProperties": {"type": "string", "contentEncoding": "base64"},
                },
            },
            "requestBodies": {
                "Upload": {
                    "description": (
                        "multipart/form-data with one file part per file (its filename is the "
                        "path inside the assignment, e.g. data/input.csv), or JSON "
                        '{"files": {path: base64}}. Limits: GraderSettings.max_upload_bytes, '
                        "max_upload_files, file_name_pattern."
                    ),
                    "content": {
                        "multipart/form-data": {},
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"files": {"$ref": "#/components/schemas/Files"}},
                            }
                        },
                    },
                },
                "ReleaseUpload": {
                    "description": (
                        "The assignment's source files as in Upload, plus fields title, "
                        "due_at (ISO 8601), late_policy (none|zero|subtract_per_hour), "
                        "late_penalty_per_hour, max_submissions, check (true|false)."
                    ),
                    "content": {"multipart/form-data": {}, "application/json": {}},
                },
                "Course": {
                    "content": {"application/json": {"schema": {"type": "object", "properties": {
                        "slug": {"type": "string"}, "title": {"type": "string"}}}}}
                },
                "Enrollment": {
                    "content": {"application/json": {"schema": {"type": "object", "properties": {
                        "username": {"type": "string"},
                        "role": {"enum": ["learner", "instructor"]}}}}}
                },
                "DraftRequest": {
                    "description": (
                        'kind "exercise" (an nbgrader source notebook) with topic, or "lesson" '
                        "with outline; assignment (or lesson) slug; name of the notebook "
                        "(default: the assignment); options {parts: 1-5, level: text}."
                    ),
                    "content": {"application/json": {"schema": {"type": "object", "properties": {
                        "kind": {"enum": ["exercise", "lesson"]}, "topic": {"type": "string"},
                        "outline": {"type": "string"}, "assignment": {"type": "string"},
                        "name": {"type": "string"}, "options": {"type": "object"}}}}}
                },
                "ManualGrade": {
                    "content": {"application/json": {"schema": {"type": "object", "properties": {
                        "score": {"type": ["number", "null"]}, "comment": {"type": "string"}}}}}
                },
            },
        },
        "security": [{"hubToken": []}],
        "paths": {
            "/health": {"get": {**_op("service is up", "anyone"), "security": []}},
            "/openapi.json": {"get": {**_op("this document", "anyone"), "security": []}},
            "/me": {"get": _op("who I am and my courses with my roles", "any hub user")},
            "/courses": {
                "get": _op("my courses", "any hub user"),
                "post": _op("create a course", "hub admins, members of course_creator_group",
                            body="Course", ok="201"),
            },
            "/courses/{course}/enrollments": {
                "post": _op("enrol a hub user as learner or instructor", "instructors",
                            body="Enrollment", ok="201", params=C)
            },
            "/courses/{course}/assignments": {
                "get": _op("released assignments with my status, due date, submissions used",
                           "course members", params=C)
            },
            "/courses/{course}/lessons": {
                "get": _op("the course's lessons in reading order (slug, title, path, files)",
                           "course members", params=C)
            },
            "/courses/{course}/lessons/{lesson}": {
                "get": _op("one lesson with its files (base64)", "course members",
                           params=C + ("lesson",)),
                "put": _op("create or replace a lesson: files, path of its notebook, title, "
                           "position", "instructors", body="Upload", params=C + ("lesson",)),
                "delete": _op("remove a lesson", "instructors", ok="204",
                              params=C + ("lesson",)),
            },
            "/courses/{course}/assignments/{assignment}/hints": {
                "get": _op("hints of one cell of the student version (?notebook=&cell=)",
                           "course members", params=A)
            },
            "/courses/{course}/drafts": {
                "get": _op("notebooks drafted by AI for this course, newest first",
                           "instructors of the course (anyone else: 404)", params=C),
                "post": _op("ask the AI for an exercise (nbgrader source notebook with "
                            "solutions, visible and hidden tests, hints) or a lesson; the "
                            "answer is checked and stored as a draft (422 and nothing stored "
                            "if unusable; 503 if AI is off or the endpoint fails)",
                            "instructors of the course (anyone else: 404)",
                            body="DraftRequest", ok="201", params=C),
            },
            "/courses/{course}/drafts/{draft_id}": {
                "get": _op("one draft with its notebook", "instructors of the course",
                           params=C + ("draft_id",)),
                "delete": _op("remove a draft", "instructors of the course", ok="204",
                              params=C + ("draft_id",)),
            },
            "/courses/{course}/assignments/{assignment}/tutor": {
                "get": _op("is the AI tutor on for this assignment: enabled, policy, reason "
                           "(why not), daily_limit, remaining_today", "course members",
                           params=A),
                "post": _with_429(_with_503(_op(
                    "ask the tutor about one exercise cell (notebook, cell, code, error, "
                    "test, hints_revealed, question, conversation); the answer streams as "
                    "Server-Sent Events: start, delta, reset (withdrawn: too close to the "
                    "solution), done, error", "course members", params=A,
                    ctype="text/event-stream")),
                    "asked too often, or the course's budget is spent"),
            },
            "/courses/{course}/assignments/{assignment}/tutor/conversations": {
                "get": _op("the caller's own tutor conversations about this assignment "
                           "(?user=: an instructor reads a learner's)", "course members",
                           params=A)
            },
            "/courses/{course}/tutor/conversations/{conversation_id}": {
                "get": _op("one tutor conversation", "its learner, instructors",
                           params=C + ("conversation_id",))
            },
            "/courses/{course}/tutor/usage": {
                "get": _op("tutor requests, tokens, estimated cost, budget, and what was asked "
                           "per exercise (?days=30)", "instructors", params=C)
            },
            "/courses/{course}/tutor/policy": {
                "get": _op("the tutor's policy: the course's default and each assignment's",
                           "course members", params=C),
                "put": _op('set {"policy": "off"|"hints"|"explain"|"open"|null, '
                           '"assignment": <name>|null (the course default)}', "instructors",
                           params=C),
            },
            "/courses/{course}/assignments/{assignment}/release": {
                "get": _op("fetch the student version (files base64)", "course members",
                           params=A),
                "post": _op("release or update the assignment (new version; built and "
                            "checked in the sandbox first)", "instructors",
                            body="ReleaseUpload", ok="201", params=A),
            },
            "/courses/{course}/assignments/{assignment}/source": {
                "get": _op("the instructor's source files of the newest release",
                           "instructors", params=A)
            },
            "/courses/{course}/assignments/{assignment}/submissions": {
                "get": _op("submissions with grades: a learner's own; an instructor's view "
                           "has everyone's (?username= filters)", "course members", params=A),
                "post": _with_429(_op("submit (queued for grading)", "course members",
                                      body="Upload", ok="201", params=A)),
            },
            "/courses/{course}/assignments/{assignment}/regrade": {
                "post": _op("regrade every learner's latest submission", "instructors",
                            ok="202", params=A)
            },
            "/courses/{course}/assignments/{assignment}/statistics": {
                "get": _op("score histogram and per-cell success rate", "instructors",
                           params=A)
            },
            "/courses/{course}/grades.csv": {
                "get": _op("export grades (latest submission per learner and assignment; "
                           "?assignment= filters)", "instructors", params=C, ctype="text/csv")
            },
            "/courses/{course}/storage": {
                "get": _op("bytes and files the grader stores for the course, by kind "
                           "(releases, submissions, feedback, lessons) and by assignment, "
                           "and what is kept for how long", "instructors", params=C)
            },
            "/submissions/{submission_id}": {
                "get": _op("one submission with per-cell grades", "its learner, instructors",
                           params=S)
            },
            "/submissions/{submission_id}/files": {
                "get": _op("the submitted files", "its learner, instructors", params=S)
            },
            "/submissions/{submission_id}/feedback/{notebook}": {
                "get": _op("feedback HTML of one notebook (served sandboxed by CSP)",
                           "its learner, instructors", params=S + ("notebook",),
                           ctype="text/html"),
                "put": _op("release the instructor's own feedback HTML for one notebook "
                           '({"html": ...}; nbgrader release_feedback)', "instructors",
                           params=S + ("notebook",)),
            },
            "/submissions/{submission_id}/graded/{notebook}": {
                "get": _op("the executed notebook with all tests (hidden ones too), as graded",
                           "instructors", params=S + ("notebook",),
                           ctype="application/x-ipynb+json")
            },
            "/submissions/{submission_id}/regrade": {
                "post": _op("grade this submission again", "instructors", ok="202", params=S)
            },
            "/submissions/{submission_id}/grades/{notebook}/{cell_id}": {
                "put": _op("set a manual score (null clears it) and a comment", "instructors",
                           body="ManualGrade", params=S + ("notebook", "cell_id"))
            },
            "/queue": {"get": _op("grading queue counts and recent failures",
                                  "instructors, admins")},
        },
        # OpenAPI 3.1: what the grader sends (GraderSettings.webhook_url), signed with
        # X-Studio-Signature over "<X-Studio-Timestamp>.<body>" (studio_contracts.signing)
        "webhooks": {
            event: {"post": {
                "summary": f"{event}: a grade the site records",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/GradeEvent"}}}},
                "responses": {"200": {"description": "recorded or acknowledged"}},
            }}
            for event in GRADE_EVENTS
        },
    }


class OpenAPIHandler(GraderAPIHandler):
    public = True

    def get(self):
        self.write_json(openapi_document(self.settings["service_prefix"]))
