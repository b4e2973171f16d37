"""Template tags of the admin overrides: the dashboard on the index page."""

from django import template

from ropa.site.dashboard import dashboard as build_dashboard

register = template.Library()


@register.simple_tag(takes_context=True)
def ropa_dashboard(context):
    request = context["request"]
    if not request.user.has_perm("processing.view_controller"):
        return None
    return build_dashboard(user=request.user)
