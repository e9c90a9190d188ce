"""`{% rating_card application=… %}` / `{% rating_card ticket=… %}`: the rating card on the page of
a finished application or a closed complaint (nothing for anybody but its applicant)."""

from __future__ import annotations

from django import template

from onething.ratings.presentation import rating_card_for

register = template.Library()


@register.inclusion_tag("ratings/_card.html", takes_context=True)
def rating_card(context, application=None, ticket=None):
    request = context.get("request")
    user = getattr(request, "user", None)
    found = rating_card_for(user, application=application, ticket=ticket)
    return {**found, "csrf_token": context.get("csrf_token"), "request": request}
