"""The member portal's governance pages."""

from django.urls import path

from governance import views

app_name = "governance"
urlpatterns = [
    path("governance/", views.home, name="home"),
    path("governance/shares/buy/", views.share_buy, name="share-buy"),
    path("governance/shares/redeem/", views.share_redeem, name="share-redeem"),
    path("governance/certificates/<int:pk>/", views.certificate, name="certificate"),
    path("governance/register.<str:fmt>", views.register_export, name="register-export"),
    path("governance/receipts/", views.my_receipts, name="receipts"),
    path("governance/assemblies/<int:pk>/", views.assembly_detail, name="assembly"),
    path("governance/assemblies/<int:pk>/vote/", views.assembly_vote, name="vote"),
    path(
        "governance/assemblies/<int:pk>/receipts/",
        views.receipts_published,
        name="receipts-published",
    ),
    path("governance/assemblies/<int:pk>/minutes/", views.minutes, name="minutes"),
    path(
        "governance/assemblies/<int:pk>/documents/<int:document_pk>/",
        views.assembly_document,
        name="document",
    ),
    path("governance/assemblies/<int:pk>/proxy/", views.proxy_give, name="proxy-give"),
    path("governance/assemblies/<int:pk>/proxy/revoke/", views.proxy_revoke, name="proxy-revoke"),
    path("governance/assemblies/<int:pk>/turnout/", views.turnout, name="turnout"),
    path(
        "governance/assemblies/<int:pk>/organise/<str:action>/",
        views.organise,
        name="organise",
    ),
    path("governance/elections/<int:pk>/apply/", views.candidacy_apply, name="candidacy-apply"),
]
