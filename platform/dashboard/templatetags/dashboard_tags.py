from django import template
from django.urls import NoReverseMatch, reverse

from ..access import has_role
from ..nav import NAV_ITEMS

register = template.Library()


@register.simple_tag(takes_context=True)
def dashboard_nav(context) -> list[dict]:
    """Nav links the current member may use, with the current page marked."""
    request = context.get("request")
    membership = getattr(request, "membership", None)
    items = []
    for name, label, role in NAV_ITEMS:
        if not has_role(membership, role):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append({"url": url, "label": label, "current": request.path.startswith(url)})
    return items


@register.simple_tag(takes_context=True)
def can(context, role: str) -> bool:
    return has_role(getattr(context.get("request"), "membership", None), role)


@register.simple_tag(takes_context=True)
def user_workspaces(context) -> list:
    from tenancy.models import Membership

    request = context.get("request")
    if not request.user.is_authenticated:
        return []
    return list(Membership.objects.filter(user=request.user).select_related("workspace").order_by("created_at"))
