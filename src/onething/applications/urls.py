from django.urls import path

from onething.applications import portal_views as portal
from onething.applications import window_views as window
from onething.applications import workbench_views as workbench

app_name = "applications"

urlpatterns = [
    path("apply/<slug:thing_code>/", portal.apply, name="apply"),
    path("applications/", portal.application_list, name="list"),
    path("applications/<str:reference>/", portal.detail, name="detail"),
    path("applications/<str:reference>/progress/", portal.progress, name="progress"),
    path("applications/<str:reference>/continue/", portal.resume, name="resume"),
    path("applications/<str:reference>/data/", portal.data_use, name="data-use"),
    path("applications/<str:reference>/notice/", portal.notice, name="notice"),
    path("applications/<str:reference>/step/<int:number>/", portal.step, name="step"),
    path("applications/<str:reference>/materials/", portal.materials, name="materials"),
    path("applications/<str:reference>/check/", portal.check, name="check"),
    path("applications/<str:reference>/submitted/", portal.submitted, name="submitted"),
    path("applications/<str:reference>/withdraw/", portal.withdraw, name="withdraw"),
    path(
        "applications/<str:reference>/supplements/<int:number>/",
        portal.supplement_answer,
        name="supplement-answer",
    ),
    path("window/", window.window_home, name="window"),
    path("window/done/", window.window_done, name="window-done"),
    path("window/things/", window.window_things, name="window-things"),
    path("window/things/<slug:code>/", window.window_thing, name="window-thing"),
    path(
        "window/applications/<str:reference>/receipt/",
        window.window_receipt,
        name="window-receipt",
    ),
    path("workbench/", workbench.workbench, name="workbench"),
    path("workbench/cases/<int:case_id>/", workbench.case_page, name="case"),
    path("workbench/cases/<int:case_id>/accept/", workbench.case_accept, name="case-accept"),
    path("workbench/cases/<int:case_id>/approve/", workbench.case_approve, name="case-approve"),
    path(
        "workbench/cases/<int:case_id>/supplement/",
        workbench.case_ask_supplement,
        name="case-supplement",
    ),
    path("workbench/cases/<int:case_id>/reject/", workbench.case_reject, name="case-reject"),
    path("workbench/cases/<int:case_id>/reveal/", workbench.case_reveal, name="case-reveal"),
    path(
        "workbench/cases/<int:case_id>/materials/<slug:code>/",
        workbench.case_material,
        name="case-material",
    ),
    path("workbench/cases/<int:case_id>/retry/", workbench.case_retry, name="case-retry"),
]
