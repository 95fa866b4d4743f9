from django import forms

from studio_site.catalogue.models import CoursePage


class DraftPostForm(forms.Form):
    topic = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class ExerciseForm(forms.Form):
    """Which course a graded exercise is for: only the courses the editor teaches."""

    course = forms.ModelChoiceField(queryset=CoursePage.objects.none(),
                                    empty_label="Choose a course you teach")

    def __init__(self, *args, courses=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = courses if courses is not None \
            else CoursePage.objects.none()
