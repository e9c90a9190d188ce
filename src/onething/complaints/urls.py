from django.urls import path

from onething.complaints import views

app_name = "complaints"

urlpatterns = [
    path("hotline/", views.home, name="home"),
    path("hotline/new/", views.complaint_new, name="new"),
    path("hotline/filed/<str:reference>/", views.complaint_filed, name="filed"),
    path("hotline/my/", views.my_complaints, name="my"),
    path("hotline/my/<str:reference>/", views.my_complaint, name="my-ticket"),
    path("hotline/agent/", views.agent_workbench, name="agent"),
    path("hotline/agent/call/", views.agent_call, name="agent-call"),
    path("hotline/agent/suggest/", views.agent_suggest, name="agent-suggest"),
    path("hotline/unit/", views.unit_workbench, name="unit"),
    path("hotline/supervise/", views.supervise, name="supervise"),
    path(
        "hotline/extensions/<int:extension_id>/decide/",
        views.extension_decide,
        name="extension-decide",
    ),
    path("hotline/tickets/<str:reference>/", views.ticket_page, name="ticket"),
    path(
        "hotline/tickets/<str:reference>/files/<int:attachment_id>/",
        views.ticket_file,
        name="ticket-file",
    ),
    path("hotline/tickets/<str:reference>/contact/", views.ticket_contact, name="ticket-contact"),
    path("hotline/tickets/<str:reference>/accept/", views.ticket_accept, name="ticket-accept"),
    path("hotline/tickets/<str:reference>/return/", views.ticket_return, name="ticket-return"),
    path("hotline/tickets/<str:reference>/extend/", views.ticket_extend, name="ticket-extend"),
    path("hotline/tickets/<str:reference>/reply/", views.ticket_reply, name="ticket-reply"),
    path(
        "hotline/tickets/<str:reference>/category/",
        views.ticket_category,
        name="ticket-category",
    ),
    path(
        "hotline/tickets/<str:reference>/dispatch/",
        views.ticket_dispatch,
        name="ticket-dispatch",
    ),
    path(
        "hotline/tickets/<str:reference>/callback/",
        views.ticket_callback,
        name="ticket-callback",
    ),
    path(
        "hotline/tickets/<str:reference>/rehandle/",
        views.ticket_rehandle,
        name="ticket-rehandle",
    ),
]
