"""The member portal."""

from django.urls import path

from members import views

app_name = "members"
urlpatterns = [
    path("me/", views.member_file, name="member-file"),
    path("clients/new/", views.client_create, name="client-new"),
    path("contracts/", views.contract_list, name="contract-list"),
    path("contracts/new/", views.contract_form, name="contract-new"),
    path("contracts/estimate/", views.contract_estimate, name="contract-estimate"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract-detail"),
    path("contracts/<int:pk>/edit/", views.contract_form, name="contract-edit"),
    path("contracts/<int:pk>/submit/", views.contract_submit, name="contract-submit"),
    path("contracts/<int:pk>/withdraw/", views.contract_withdraw, name="contract-withdraw"),
    path("contracts/<int:pk>/cancel/", views.contract_cancel, name="contract-cancel"),
    path(
        "contracts/<int:pk>/files/<str:kind>/<int:file_id>/",
        views.contract_file,
        name="contract-file",
    ),
    path(
        "contracts/<int:pk>/attachments/",
        views.contract_attachment_add,
        name="contract-attachment-add",
    ),
]
