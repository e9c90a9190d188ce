"""Open311 GeoReport v2, mounted at /open311/v2/: each resource ends in .xml or .json."""

from django.urls import re_path

from onething.complaints import open311

app_name = "open311"

FORMAT = r"\.(?P<fmt>xml|json)$"

urlpatterns = [
    re_path(r"^discovery" + FORMAT, open311.discovery, name="discovery"),
    re_path(r"^services" + FORMAT, open311.services_list, name="services"),
    re_path(
        r"^services/(?P<service_code>[^/]+?)" + FORMAT,
        open311.service_definition,
        name="service",
    ),
    re_path(r"^requests" + FORMAT, open311.service_requests, name="requests"),
    re_path(
        r"^requests/(?P<service_request_id>[^/]+?)" + FORMAT,
        open311.service_request,
        name="request",
    ),
    re_path(r"^(?P<path>.*)$", open311.unknown, name="unknown"),
]
