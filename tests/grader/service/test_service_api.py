"""The REST API through a real JupyterHub and proxy: authentication, roles, visibility,
upload limits. No grading here (worker_count=0); see test_service_grading.py for that."""

from __future__ import annotations

import base64
import csv
import io
import json

import pytest
from service_support import SERVICE, answered, source_files

from studio_contracts.events import GRADE_EVENT_SCHEMA, GRADE_EVENTS

pytestmark = pytest.mark.timeout(120)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def people(hub):
    """An instructor and two learners of course 'algo' (roles from hub groups), released."""
    course = "algo"
    hub.user("prof", groups=("instructors", f"instructors:{course}"))
    hub.user("ann", groups=(f"learners:{course}",))
    hub.user("bob", groups=(f"learners:{course}",))
    hub.user("eve")  # a hub user in no course
    t = {name: hub.token(name) for name in ("prof", "ann", "bob", "eve")}
    prof = hub.client(t["prof"])
    r = prof.post(f"{hub.grader}/courses", json={"slug": course, "title": "Algorithms"})
    assert r.status_code == 201, r.text
    files = source_files()
    r = prof.post(
        f"{hub.grader}/courses/{course}/assignments/ps1/release",
        files=[("files", (name, data)) for name, data in files.items()],
        data={"due_at": "2030-01-01T00:00:00Z", "max_submissions": "3"},
    )
    assert r.status_code == 201, r.text
    return {"course": course, **{k: hub.client(v) for k, v in t.items()}, "tokens": t}


def test_no_token_is_refused_with_reason(hub):
    r = hub.client(None).get(f"{hub.grader}/courses")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "Forbidden"
    assert "JUPYTERHUB_API_TOKEN" in r.json()["error"]["message"]


def test_bad_token_is_refused(hub):
    r = hub.client("not-a-real-token").get(f"{hub.grader}/courses")
    assert r.status_code == 403


def test_token_without_service_scope_is_refused(hub, people):
    token = hub.token("ann", scopes=["read:users:name!user"])
    r = hub.client(token).get(f"{hub.grader}/courses")
    assert r.status_code == 403
    assert f"access:services!service={SERVICE}" in r.json()["error"]["message"]


def test_openapi_document_lists_every_route(hub):
    doc = requests_get_json(hub, f"{hub.grader}/openapi.json")
    assert doc["openapi"].startswith("3.")
    for path in ("/courses", "/courses/{course}/assignments/{assignment}/submissions",
                 "/submissions/{submission_id}/grades/{notebook}/{cell_id}",
                 "/courses/{course}/grades.csv"):
        assert path in doc["paths"]
    # the grade event the site receives, declared once in studio_contracts
    event = doc["components"]["schemas"]["GradeEvent"]
    assert event["properties"] == GRADE_EVENT_SCHEMA["properties"]
    assert set(doc["webhooks"]) == set(GRADE_EVENTS)


def requests_get_json(hub, url):
    r = hub.client(None).get(url)
    assert r.status_code == 200, r.text
    return r.json()


def test_me_shows_roles_from_hub_groups(hub, people):
    me = people["prof"].get(f"{hub.grader}/me").json()
    assert me["name"] == "prof"
    assert {"slug": "algo", "title": "Algorithms", "roles": ["instructor"]} in me["courses"]
    ann = people["ann"].get(f"{hub.grader}/courses").json()
    assert [c["roles"] for c in ann if c["slug"] == "algo"] == [["learner"]]
    assert people["eve"].get(f"{hub.grader}/courses").json() == []


def test_learner_cannot_create_course_or_release(hub, people):
    r = people["ann"].post(f"{hub.grader}/courses", json={"slug": "mine"})
    assert r.status_code == 403
    r = people["ann"].post(
        f"{hub.grader}/courses/algo/assignments/ps2/release",
        json={"files": {"ps1.ipynb": b64(source_files()["ps1.ipynb"])}},
    )
    assert r.status_code == 403


def test_learner_fetches_student_version_without_solutions_or_hidden_tests(hub, people):
    r = people["ann"].get(f"{hub.grader}/courses/algo/assignments/ps1/release")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body["files"]) == {"ps1.ipynb", "data/input.csv"}
    assert "check_report" not in body and "points" not in body
    nb = base64.b64decode(body["files"]["ps1.ipynb"]).decode()
    assert "HIDDEN-MARKER" not in nb
    assert "i * i for i" not in nb
    assert "assert squares(3)" in nb  # visible tests stay
    # the source stays with instructors
    assert people["ann"].get(f"{hub.grader}/courses/algo/assignments/ps1/source").status_code == 403
    src = people["prof"].get(f"{hub.grader}/courses/algo/assignments/ps1/source").json()
    assert "HIDDEN-MARKER" in base64.b64decode(src["files"]["ps1.ipynb"]).decode()


def test_outsider_sees_nothing_of_the_course(hub, people):
    eve = people["eve"]
    assert eve.get(f"{hub.grader}/courses/algo/assignments").status_code == 404
    assert eve.get(f"{hub.grader}/courses/algo/assignments/ps1/release").status_code == 404
    r = eve.post(f"{hub.grader}/courses/algo/assignments/ps1/submissions",
                 json={"files": {"ps1.ipynb": b64(b"{}")}})
    assert r.status_code == 404


def _student_nb(hub, client) -> bytes:
    body = client.get(f"{hub.grader}/courses/algo/assignments/ps1/release").json()
    return base64.b64decode(body["files"]["ps1.ipynb"])


def test_learners_see_only_their_own_submissions(hub, people):
    ann, bob, prof = people["ann"], people["bob"], people["prof"]
    nb = _student_nb(hub, ann)
    r = ann.post(f"{hub.grader}/courses/algo/assignments/ps1/submissions",
                 files=[("files", ("ps1.ipynb", answered(nb, correct=True)))])
    assert r.status_code == 201, r.text
    mine = r.json()
    assert mine["username"] == "ann" and mine["status"] == "grading"
    assert len(mine["content_hash"]) == 64
    r = bob.post(f"{hub.grader}/courses/algo/assignments/ps1/submissions",
                 json={"files": {"ps1.ipynb": b64(nb)}})
    assert r.status_code == 201, r.text
    bobs = r.json()

    listed = ann.get(f"{hub.grader}/courses/algo/assignments/ps1/submissions").json()
    assert {s["username"] for s in listed} == {"ann"}
    # another learner's submission is indistinguishable from a missing one
    for path in ("", "/files", "/feedback/ps1"):
        assert bob.get(f"{hub.grader}/submissions/{mine['id']}{path}").status_code == 404
    assert ann.get(f"{hub.grader}/submissions/{mine['id']}").status_code == 200
    files = ann.get(f"{hub.grader}/submissions/{mine['id']}/files").json()["files"]
    assert base64.b64decode(files["ps1.ipynb"]) == answered(nb, correct=True)
    # ?username= does not widen a learner's view
    r = ann.get(f"{hub.grader}/courses/algo/assignments/ps1/submissions?username=bob")
    assert {s["username"] for s in r.json()} <= {"ann"}
    # learners cannot regrade, grade by hand, export or see statistics
    assert ann.post(f"{hub.grader}/submissions/{mine['id']}/regrade").status_code == 403
    r = ann.put(f"{hub.grader}/submissions/{mine['id']}/grades/ps1/explain", json={"score": 1})
    assert r.status_code == 403
    assert ann.get(f"{hub.grader}/courses/algo/grades.csv").status_code == 403
    assert ann.get(f"{hub.grader}/courses/algo/assignments/ps1/statistics").status_code == 403
    assert ann.get(f"{hub.grader}/queue").status_code == 403

    everyone = prof.get(f"{hub.grader}/courses/algo/assignments/ps1/submissions").json()
    assert {s["id"] for s in everyone} >= {mine["id"], bobs["id"]}
    assert prof.get(f"{hub.grader}/submissions/{bobs['id']}").status_code == 200
    queue = prof.get(f"{hub.grader}/queue").json()
    assert queue["counts"]["queued"] >= 2


def test_submissions_are_immutable_and_numbered(hub, people):
    bob = people["bob"]
    nb = _student_nb(hub, bob)
    before = bob.get(f"{hub.grader}/courses/algo/assignments/ps1/submissions").json()
    r = bob.post(f"{hub.grader}/courses/algo/assignments/ps1/submissions",
                 json={"files": {"ps1.ipynb": b64(answered(nb, correct=True))}})
    assert r.status_code == 201
    after = bob.get(f"{hub.grader}/courses/algo/assignments/ps1/submissions").json()
    assert [s["content_hash"] for s in after[: len(before)]] == [
        s["content_hash"] for s in before
    ]
    assert after[-1]["attempt"] == len(before) + 1


def test_submission_limit(hub, people):
    bob = people["bob"]
    nb = _student_nb(hub, bob)
    status = {}
    for _ in range(4):
        r = bob.post(f"{hub.grader}/courses/algo/assignments/ps1/submissions",
                     json={"files": {"ps1.ipynb": b64(nb)}})
        status[r.status_code] = r.json()
    assert 409 in status
    assert status[409]["error"]["code"] == "SubmissionLimitReached"
    assert len(bob.get(f"{hub.grader}/courses/algo/assignments/ps1/submissions").json()) == 3


@pytest.mark.parametrize(
    "name, code",
    [
        ("../escape.ipynb", "InvalidUpload"),
        ("/etc/passwd", "InvalidUpload"),
        ("a/../../b.ipynb", "InvalidUpload"),
        ("..\\win.ipynb", "InvalidUpload"),
        (".hidden.ipynb", "InvalidUpload"),
        ("-rf.ipynb", "InvalidUpload"),
        ("bad;name.ipynb", "InvalidUpload"),
        ("nul\x00.ipynb", "InvalidUpload"),
    ],
)
def test_odd_names_are_refused_with_a_named_error(hub, people, name, code):
    r = people["ann"].post(f"{hub.grader}/courses/algo/assignments/ps1/submissions",
                           json={"files": {name: b64(b"{}")}})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["message"]


def test_traversal_in_multipart_filename_is_refused(hub, people):
    r = people["ann"].post(f"{hub.grader}/courses/algo/assignments/ps1/submissions",
                           files=[("files", ("../../x.ipynb", b"{}"))])
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "InvalidUpload"


def test_upload_limits(hub, people):
    ann = people["ann"]
    url = f"{hub.grader}/courses/algo/assignments/ps1/submissions"
    before = len(ann.get(url).json())
    r = ann.post(url, files=[("files", ("ps1.ipynb", b"x" * 250_000))])
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "UploadTooLarge"
    r = ann.post(url, json={"files": {f"f{i}.txt": b64(b"1") for i in range(6)}})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "TooManyFiles"
    r = ann.post(url, json={"files": {"A.ipynb": b64(b"1"), "a.ipynb": b64(b"2")}})
    assert r.status_code == 400 and "twice" in r.json()["error"]["message"]
    r = ann.post(url, json={"files": {}})
    assert r.status_code == 400
    r = ann.post(url, json={"files": {"renamed.ipynb": b64(b"{}")}})
    assert r.status_code == 400 and "ps1.ipynb" in r.json()["error"]["message"]
    r = ann.post(url, data=b"not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidRequest"
    # nothing refused was stored
    assert len(ann.get(url).json()) == before


def test_instructor_enrols_a_learner_by_database(hub, people):
    hub.user("dan")
    dan = hub.client(hub.token("dan"))
    assert dan.get(f"{hub.grader}/courses/algo/assignments").status_code == 404
    r = people["prof"].post(f"{hub.grader}/courses/algo/enrollments", json={"username": "dan"})
    assert r.status_code == 201
    assert dan.get(f"{hub.grader}/courses/algo/assignments").status_code == 200
    # a learner cannot enrol anyone (or promote themself)
    r = dan.post(f"{hub.grader}/courses/algo/enrollments",
                 json={"username": "dan", "role": "instructor"})
    assert r.status_code == 403


def test_assignment_status_and_new_release_version(hub, people):
    listed = people["ann"].get(f"{hub.grader}/courses/algo/assignments").json()
    (ps1,) = [a for a in listed if a["assignment"] == "ps1"]
    assert ps1["status"] == "grading" and ps1["submissions_used"] >= 1
    assert ps1["due_at"].startswith("2030-01-01T00:00:00")
    assert ps1["max_score"] == 3.0 and ps1["max_submissions"] == 3
    r = people["prof"].post(
        f"{hub.grader}/courses/algo/assignments/ps1/release",
        json={"files": {k: b64(v) for k, v in source_files().items()},
              "late_policy": "zero", "title": "Problem set 1"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2
    r = people["prof"].post(
        f"{hub.grader}/courses/algo/assignments/ps1/release",
        json={"files": {k: b64(v) for k, v in source_files().items()}, "late_policy": "weekly"},
    )
    assert r.status_code == 400 and "late policy" in r.json()["error"]["message"]


def test_invalid_source_notebook_is_refused(hub, people):
    bad = json.dumps({"cells": "nope"}).encode()
    r = people["prof"].post(f"{hub.grader}/courses/algo/assignments/broken/release",
                            json={"files": {"broken.ipynb": b64(bad)}})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "ReleaseRejected"
    assert people["prof"].get(
        f"{hub.grader}/courses/algo/assignments/broken/release").status_code == 404


def test_export_lists_latest_submission_per_learner(hub, people):
    r = people["prof"].get(f"{hub.grader}/courses/algo/grades.csv")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    users = [row["username"] for row in rows if row["assignment"] == "ps1"]
    assert sorted(users) == sorted(set(users)) and {"ann", "bob"} <= set(users)


def test_browser_signs_in_through_hub_oauth_and_may_only_read(hub, people):
    import requests

    browser = requests.Session()
    r = browser.get(f"{hub.url}/hub/login")
    xsrf = browser.cookies.get("_xsrf", path="/hub/")
    r = browser.post(f"{hub.url}/hub/login", data={"username": "prof", "password": "x",
                                                   "_xsrf": xsrf}, allow_redirects=False)
    assert r.status_code == 302, r.text[:500]  # signed in at the hub (not spawning a server)
    r = browser.get(f"{hub.url}/services/{SERVICE}/login?next=/services/{SERVICE}/api/courses")
    assert r.status_code == 200, r.text[:500]
    assert r.url.endswith("/api/courses")
    assert [c["slug"] for c in r.json()] == ["algo"]
    csv_page = browser.get(f"{hub.grader}/courses/algo/grades.csv")
    assert csv_page.status_code == 200 and csv_page.text.startswith("course,")
    # a cookie alone never changes anything (no cross-site request forgery)
    r = browser.post(f"{hub.grader}/courses", json={"slug": "viacookie"})
    assert r.status_code == 403 and "token" in r.json()["error"]["message"]
    # the hub's Services menu link lands on "who am I"
    r = browser.get(f"{hub.url}/services/{SERVICE}/")
    assert r.status_code == 200 and r.json()["name"] == "prof"
    # the login page does not redirect off the service
    r = browser.get(f"{hub.url}/services/{SERVICE}/login?next=https://evil.example/",
                    allow_redirects=False)
    assert r.headers["Location"] == f"/services/{SERVICE}/api/me"


def test_instructors_see_their_course_storage(hub, people):
    """After real uploads (a release, two submissions, a lesson) the course's instructor
    sees what the blob store holds for it; learners are refused; unknown courses 404."""
    import hashlib
    from pathlib import Path

    blob_dir = Path(hub.root) / "blobs"

    def stored() -> dict[str, int]:
        return {p.parent.name + p.name: p.stat().st_size
                for p in blob_dir.glob("??/*") if not p.name.startswith(".")}

    before = stored()
    prof, ann = people["prof"], people["ann"]
    r = prof.post(f"{hub.grader}/courses", json={"slug": "storage-demo"})
    assert r.status_code == 201, r.text
    r = prof.post(f"{hub.grader}/courses/storage-demo/enrollments", json={"username": "ann"})
    assert r.status_code == 201, r.text
    source = source_files()
    # content of its own, so every byte this course stores is new in the blob store
    source["data/input.csv"] = b"n\n4\n# storage-demo\n"
    r = prof.post(f"{hub.grader}/courses/storage-demo/assignments/sq/release",
                  json={"files": {k: b64(v) for k, v in source.items()}})
    assert r.status_code == 201, r.text
    student = ann.get(f"{hub.grader}/courses/storage-demo/assignments/sq/release").json()
    student_nb = base64.b64decode(student["files"]["ps1.ipynb"])
    uploads = [answered(student_nb, correct=True), answered(student_nb, correct=False)]
    subs = []
    for nb in uploads + uploads[:1]:  # the third attempt repeats the first: stored once
        r = ann.post(f"{hub.grader}/courses/storage-demo/assignments/sq/submissions",
                     json={"files": {"ps1.ipynb": b64(nb)}})
        assert r.status_code == 201, r.text
        subs.append(r.json())
    lesson = {"lessons/intro.ipynb": b'{"cells": [], "storage-demo": 1}'}
    r = prof.put(f"{hub.grader}/courses/storage-demo/lessons/intro",
                 json={"files": {k: b64(v) for k, v in lesson.items()},
                       "path": "lessons/intro.ipynb"})
    assert r.status_code == 200, r.text
    new = {sha: size for sha, size in stored().items() if sha not in before}

    r = prof.get(f"{hub.grader}/courses/storage-demo/storage")
    assert r.status_code == 200, r.text
    got = r.json()
    # every file this course added to the blob store, each once
    assert got["total_bytes"] == sum(new.values())
    kinds = got["kinds"]
    trees = {s["content_hash"] for s in subs}
    assert len(trees) == 2
    assert kinds["submissions"] == {
        "count": 3, "learners": 1, "files": 2,
        "bytes": sum(map(len, uploads)) + sum(new[t] for t in trees)}
    lesson_sha = hashlib.sha256(lesson["lessons/intro.ipynb"]).hexdigest()
    assert kinds["lessons"]["count"] == 1 and kinds["lessons"]["files"] == 1
    assert kinds["lessons"]["bytes"] > new[lesson_sha]  # the notebook and its manifest
    assert kinds["feedback"] == {"count": 0, "files": 0, "bytes": 0}  # no grading here
    # the release: source notebook and data file, student notebook, build
    assert kinds["releases"]["count"] == 1 and kinds["releases"]["files"] == 4
    assert got["files"] == len(new) - len(trees) - 3  # manifests: 2 submissions, 2 release, 1 lesson
    assert [a["assignment"] for a in got["assignments"]] == ["sq"]
    assert got["assignments"][0]["submissions"] == kinds["submissions"]
    assert got["kept"]["submissions"] and got["unreferenced_removed_after_seconds"] > 0

    # learners (of this course or another) are refused; an unknown course is not found
    r = ann.get(f"{hub.grader}/courses/storage-demo/storage")
    assert r.status_code == 403 and "not an instructor" in r.json()["error"]["message"]
    assert people["eve"].get(f"{hub.grader}/courses/storage-demo/storage").status_code == 403
    r = prof.get(f"{hub.grader}/courses/no-such-course/storage")
    assert r.status_code == 404 and r.json()["error"]["code"] == "NotFound"
    # and the route is in the API's document, as is the submission's 429
    paths = requests_get_json(hub, f"{hub.grader}/openapi.json")["paths"]
    assert "/courses/{course}/storage" in paths
    submit = paths["/courses/{course}/assignments/{assignment}/submissions"]["post"]
    assert "Retry-After" in submit["responses"]["429"]["headers"]
