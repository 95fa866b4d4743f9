"""What Learning Studio's parts agree on across a process boundary, defined once.

Each rule here is used on both sides of its boundary: the grader and the JupyterLab
extension and the site and ``courses/schema.json`` check names with :mod:`.slug`; the
grader and the course import sign what they send the site, and the site verifies it,
with :mod:`.signing`; the grader's grade events and the site's receiver both check
against :mod:`.events`. Pure Python with no dependencies, so every image can carry it.
"""
