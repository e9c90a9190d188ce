from django.urls import path

from onething.applications import views

app_name = "applications"

urlpatterns = [
    path("apply/<slug:thing_code>/", views.apply, name="apply"),
    path("applications/", views.application_list, name="list"),
    path("applications/<str:reference>/", views.detail, name="detail"),
    path("applications/<str:reference>/progress/", views.progress, name="progress"),
    path("applications/<str:reference>/continue/", views.resume, name="resume"),
    path("applications/<str:reference>/step/<int:number>/", views.step, name="step"),
    path("applications/<str:reference>/materials/", views.materials, name="materials"),
    path("applications/<str:reference>/check/", views.check, name="check"),
    path("applications/<str:reference>/submitted/", views.submitted, name="submitted"),
    path("applications/<str:reference>/withdraw/", views.withdraw, name="withdraw"),
    path("workbench/", views.workbench, name="workbench"),
    path("workbench/cases/<int:case_id>/", views.case_page, name="case"),
    path("workbench/cases/<int:case_id>/accept/", views.case_accept, name="case-accept"),
    path("workbench/cases/<int:case_id>/approve/", views.case_approve, name="case-approve"),
    path("workbench/cases/<int:case_id>/reject/", views.case_reject, name="case-reject"),
    path("workbench/cases/<int:case_id>/reveal/", views.case_reveal, name="case-reveal"),
    path("workbench/cases/<int:case_id>/retry/", views.case_retry, name="case-retry"),
]
