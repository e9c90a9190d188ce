from django import template
from django.utils.translation import gettext, ngettext

register = template.Library()


@register.filter
def working_days(days: int) -> str:
    """`3 working days`, or `same day` for a service promised within the day (即办)."""
    if not days:
        return gettext("same day")
    return ngettext("%(days)s working day", "%(days)s working days", days) % {"days": days}
