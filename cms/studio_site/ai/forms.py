from django import forms

from studio_site.base.validators import validate_course_slug
from studio_site.catalogue.models import CoursePage


class DraftPostForm(forms.Form):
    topic = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class ExerciseForm(forms.Form):
    topic = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
    course = forms.ModelChoiceField(queryset=CoursePage.objects.all(), required=False)
    assignment_id = forms.SlugField(max_length=64, required=False,
                                    validators=[validate_course_slug])
