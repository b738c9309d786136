"""The members API, included at /api/ in each entity's site."""

from django.urls import path

from members.api import views

urlpatterns = [
    path("me/", views.MemberMeApi.as_view(), name="api-me"),
    path("clients/", views.ClientListApi.as_view(), name="api-clients"),
    path("clients/<int:client_id>/", views.ClientDetailApi.as_view(), name="api-client"),
    path("contracts/", views.ContractListApi.as_view(), name="api-contracts"),
    path("contracts/<int:contract_id>/", views.ContractDetailApi.as_view(), name="api-contract"),
    path(
        "contracts/<int:contract_id>/submit/",
        views.ContractSubmitApi.as_view(),
        name="api-contract-submit",
    ),
    path(
        "contracts/<int:contract_id>/withdraw/",
        views.ContractWithdrawApi.as_view(),
        name="api-contract-withdraw",
    ),
    path(
        "contracts/<int:contract_id>/cancel/",
        views.ContractCancelApi.as_view(),
        name="api-contract-cancel",
    ),
    path(
        "contracts/<int:contract_id>/approve/",
        views.ContractApproveApi.as_view(),
        name="api-contract-approve",
    ),
    path(
        "contracts/<int:contract_id>/reject/",
        views.ContractRejectApi.as_view(),
        name="api-contract-reject",
    ),
    path(
        "contracts/<int:contract_id>/request-changes/",
        views.ContractRequestChangesApi.as_view(),
        name="api-contract-request-changes",
    ),
    path(
        "contracts/<int:contract_id>/history/",
        views.ContractHistoryApi.as_view(),
        name="api-contract-history",
    ),
    path("estimate/", views.SalaryEstimateApi.as_view(), name="api-estimate"),
    path("partner/shifts/", views.PartnerShiftOpenApi.as_view(), name="api-partner-shifts"),
]
