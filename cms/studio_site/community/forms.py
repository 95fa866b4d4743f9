from django import forms

from .models import StudyGroup


class StudyGroupForm(forms.ModelForm):
    class Meta:
        model = StudyGroup
        fields = ["name", "description", "course", "max_members"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def clean_max_members(self) -> int:
        value = self.cleaned_data["max_members"]
        if not 2 <= value <= 500:
            raise forms.ValidationError("A group has between 2 and 500 members.")
        return value
