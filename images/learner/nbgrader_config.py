"""nbgrader settings baked into the learner image (so every instructor's server has them).

nbgrader's exchange commands talk to the grader service with this server's hub token
instead of a shared folder (learning_studio_lab.exchange), and `nbgrader autograde` never
runs learner code here: it takes the outputs of the grader's sandbox run of the same
submission (learning_studio_lab.autograde, where the reasons are). A course folder's own
nbgrader_config.py adds to these; it should not set Autograde.autograde_preprocessors.
"""

from learning_studio_lab.autograde import AUTOGRADE_PREPROCESSORS

c = get_config()  # noqa: F821

c.ExchangeFactory.list = "learning_studio_lab.exchange.GraderList"
c.ExchangeFactory.release_assignment = "learning_studio_lab.exchange.GraderReleaseAssignment"
c.ExchangeFactory.fetch_assignment = "learning_studio_lab.exchange.GraderFetchAssignment"
c.ExchangeFactory.submit = "learning_studio_lab.exchange.GraderSubmit"
c.ExchangeFactory.collect = "learning_studio_lab.exchange.GraderCollect"
c.ExchangeFactory.release_feedback = "learning_studio_lab.exchange.GraderReleaseFeedback"
c.ExchangeFactory.fetch_feedback = "learning_studio_lab.exchange.GraderFetchFeedback"

# Learner code runs only in the grader's sandboxes, never with this server's token.
c.Autograde.autograde_preprocessors = AUTOGRADE_PREPROCESSORS
