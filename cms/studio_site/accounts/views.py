"""Sign-up with e-mail confirmation, logout (with single logout to the hub), profile,
personal API tokens."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .forms import ApiTokenForm, ProfileForm, SignUpForm
from .models import PersonalApiToken, User
from .tokens import TokenNameTaken, create_token

log = logging.getLogger(__name__)


def verification_link(request: HttpRequest, user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return request.build_absolute_uri(reverse("accounts:verify", args=[uid, token]))


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        link = verification_link(request, user)
        send_mail(
            "Confirm your Learning Studio account",
            f"Hello {user.username},\n\nopen this link to confirm your e-mail address and "
            f"start learning:\n\n{link}\n\nIf you did not sign up, ignore this message.",
            None,
            [user.email],
        )
        log.info("sign-up user=%s waiting for e-mail confirmation", user.username)
        return render(request, "accounts/signup_done.html", {"email": user.email})
    return render(request, "accounts/signup.html", {"form": form})


def verify(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    try:
        user = User.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)))
    except (User.DoesNotExist, ValueError, TypeError, OverflowError):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        return render(request, "accounts/verify_failed.html", status=400)
    user.is_active = True
    user.email_verified = True
    user.save(update_fields=["is_active", "email_verified"])
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, "Your e-mail address is confirmed. Welcome!")
    return redirect(settings.LOGIN_REDIRECT_URL)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Log out of the site, then (when configured) of the hub too."""
    logout(request)
    if settings.HUB_LOGOUT_URL:
        return redirect(settings.HUB_LOGOUT_URL)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(
        request.POST or None,
        instance=user.profile,
        initial={"first_name": user.first_name, "last_name": user.last_name},
    )
    if request.method == "POST" and form.is_valid():
        form.save()
        user.first_name = form.cleaned_data["first_name"]
        user.last_name = form.cleaned_data["last_name"]
        user.save(update_fields=["first_name", "last_name"])
        messages.success(request, "Profile saved.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


@never_cache  # the page that shows a new token's secret must not be stored anywhere
@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """List, make (the secret is shown once, on this response only) and revoke tokens."""
    form = ApiTokenForm(request.POST or None)
    new_secret = ""
    if request.method == "POST" and form.is_valid():
        try:
            token, new_secret = create_token(request.user, form.cleaned_data["name"],
                                             form.cleaned_data["days"],
                                             form.cleaned_data["scope"])
        except TokenNameTaken as error:
            form.add_error("name", str(error))
        else:
            log.info("api token made user=%s name=%s", request.user.username, token.name)
            form = ApiTokenForm()
    return render(request, "accounts/api_tokens.html", {
        "form": form, "new_secret": new_secret,
        "tokens": PersonalApiToken.objects.filter(user=request.user),
    })


@login_required
@require_POST
def revoke_api_token(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(PersonalApiToken, pk=pk, user=request.user)
    token.delete()
    log.info("api token revoked user=%s name=%s", request.user.username, token.name)
    messages.success(request, f"Token {token.name!r} is revoked: it no longer works.")
    return redirect("accounts:api_tokens")
