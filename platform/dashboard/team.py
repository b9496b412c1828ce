"""Members and invites: admins invite by e-mail with a role, change roles, remove members."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from tenancy.middleware import SESSION_KEY
from tenancy.models import Invitation, Membership
from tenancy.services import membership_add

from .access import MANAGE, VIEW, role_required
from .accounts import INVITE_SESSION_KEY
from .forms import InviteForm, role_choices_for
from .services import invitation_accept, invitation_create, invitation_find, membership_remove


@role_required(VIEW)
def members(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST":
        if request.membership.role not in ("owner", "admin"):
            raise PermissionDenied("Only owners and admins invite members.")
        if form.is_valid():
            invitation_create(workspace=request.workspace, email=form.cleaned_data["email"],
                              role=form.cleaned_data["role"], invited_by=request.user,
                              accept_url=lambda t: request.build_absolute_uri(reverse("dashboard:invite", args=[t])))
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return redirect("dashboard:members")
    return render(request, "dashboard/members.html", {
        "form": form, "roles": role_choices_for(request.membership),
        "members": Membership.objects.filter(workspace=request.workspace).select_related("user").order_by("created_at"),
        "invitations": Invitation.objects.filter(workspace=request.workspace, accepted_at=None, revoked_at=None,
                                                 expires_at__gt=timezone.now()).order_by("-created_at")})


def _member_or_404(request, pk: int) -> Membership:
    membership = Membership.objects.filter(workspace=request.workspace, pk=pk).select_related("user").first()
    if membership is None:
        raise Http404
    return membership


@require_POST
@role_required(MANAGE)
def member_role(request, pk: int):
    membership = _member_or_404(request, pk)
    role = request.POST.get("role", "")
    if role not in dict(role_choices_for(request.membership)) or (
            membership.role == "owner" and request.membership.role != "owner"):
        messages.error(request, "You cannot give or change that role.")
    elif membership.role == "owner" and role != "owner" and not Membership.objects.filter(
            workspace=request.workspace, role="owner").exclude(pk=membership.pk).exists():
        messages.error(request, "A workspace keeps at least one owner.")
    else:
        membership_add(workspace=request.workspace, user=membership.user, role=role, actor=request.user)
    return redirect("dashboard:members")


@require_POST
@role_required(MANAGE)
def member_remove(request, pk: int):
    membership = _member_or_404(request, pk)
    if membership.role == "owner" and request.membership.role != "owner":
        messages.error(request, "Only an owner can remove an owner.")
        return redirect("dashboard:members")
    try:
        membership_remove(workspace=request.workspace, membership=membership, actor=request.user)
    except ValueError as exc:
        messages.error(request, str(exc))
    return redirect("dashboard:members")


@require_POST
@role_required(MANAGE)
def invitation_revoke(request, pk: int):
    invitation = Invitation.objects.filter(workspace=request.workspace, pk=pk).first()
    if invitation is None:
        raise Http404
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    return redirect("dashboard:members")


def invite(request, token: str):
    """The link in the invite e-mail. Signed in as the invited address: join now. Otherwise
    keep the token in the session and sign up or log in first."""
    invitation = invitation_find(token=token)
    if invitation is None:
        return render(request, "dashboard/invite.html", {"invitation": None}, status=404)
    if request.user.is_authenticated and request.method == "POST":
        membership = invitation_accept(token=token, user=request.user)
        if membership is None:
            messages.error(request, f"This invitation is for {invitation.email}: log in with that verified address.")
            return redirect("dashboard:invite", token=token)
        request.session[SESSION_KEY] = membership.workspace_id
        return redirect("dashboard:home")
    request.session[INVITE_SESSION_KEY] = token
    return render(request, "dashboard/invite.html", {"invitation": invitation})
