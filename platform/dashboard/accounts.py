"""Accounts on django-allauth: sign-up creates a workspace (or joins the one an invite is
for), and the adapter sends new people to the onboarding checklist."""
from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.conf import settings
from django.urls import reverse

from tenancy.services import workspace_create

from .services import clean_text, invitation_accept, invitation_find

INVITE_SESSION_KEY = "invite_token"


class SignupWorkspaceForm(forms.Form):
    """Extra sign-up field (allauth's ACCOUNT_SIGNUP_FORM_CLASS): the workspace to create.
    Someone signing up from an invite joins that workspace instead and needs no name."""

    workspace_name = forms.CharField(label="Company or shop name", max_length=120, required=False,
                                     widget=forms.TextInput(attrs={"placeholder": "Northwind Outdoor",
                                                                   "autocomplete": "organization"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.invited = False

    def clean_workspace_name(self):
        return clean_text(self.cleaned_data.get("workspace_name", ""), limit=120)

    def signup(self, request, user) -> None:
        token = request.session.get(INVITE_SESSION_KEY)
        invitation = invitation_find(token=token) if token else None
        if invitation is not None and invitation.email == (user.email or "").lower():
            return  # joins on first verified login (see AccountAdapter.login)
        name = self.cleaned_data.get("workspace_name") or f"{user.email.split('@')[0]}'s workspace"
        workspace_create(name=name, owner=user)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return getattr(settings, "ACCOUNT_ALLOW_SIGNUP", True)

    def login(self, request, user) -> None:
        """After any login: accept a pending invite from this session (the address must be
        verified and be the invited one), and enter that workspace."""
        super().login(request, user)
        token = request.session.pop(INVITE_SESSION_KEY, None)
        if token:
            membership = invitation_accept(token=token, user=user)
            if membership is not None:
                from tenancy.middleware import SESSION_KEY

                request.session[SESSION_KEY] = membership.workspace_id

    def get_login_redirect_url(self, request) -> str:
        return reverse("dashboard:home")
