from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from .models import PersonalApiToken, Profile, User


class SignUpForm(forms.ModelForm):
    """Sign-up: the account stays inactive until the e-mail link is opened."""

    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput, strip=False)

    class Meta:
        model = User
        fields = ["username", "email", "first_name", "last_name"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this e-mail exists. Log in, or reset its password."
            )
        return email

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ. Type the same one twice.")
        if p1:
            candidate = User(
                username=cleaned.get("username", ""), email=cleaned.get("email", "")
            )
            try:
                password_validation.validate_password(p1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.set_password(self.cleaned_data["password1"])
        user.is_active = False
        if commit:
            user.save()
        return user


class StudioLoginForm(AuthenticationForm):
    """Login that says why an unconfirmed account cannot log in yet."""

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            username = self.cleaned_data.get("username")
            password = self.cleaned_data.get("password")
            user = User.objects.filter(username=username, is_active=False).first()
            if user and not user.email_verified and user.check_password(password or ""):
                raise forms.ValidationError(
                    "Your e-mail address is not confirmed yet. Open the link we sent to "
                    f"{user.email}, or sign up again to get a new one.",
                    code="unverified",
                ) from None
            raise


class ProfileForm(forms.ModelForm):
    first_name = forms.CharField(required=False, max_length=150)
    last_name = forms.CharField(required=False, max_length=150)

    class Meta:
        model = Profile
        fields = ["bio", "website", "public"]


class ApiTokenForm(forms.Form):
    """Make a personal API token: a name, a lifetime, a scope."""

    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'grades script'.")
    days = forms.TypedChoiceField(
        label="Expires after", coerce=int,
        choices=[(d, f"{d} days") for d in settings.API_TOKEN_LIFETIMES_DAYS],
        initial=settings.API_TOKEN_DEFAULT_DAYS,
    )
    scope = forms.ChoiceField(choices=PersonalApiToken.SCOPES, initial=PersonalApiToken.READ)
