"""The fund's pages in the members' portal."""

from django.urls import path

from guarantee_fund import views

app_name = "guarantee_fund"
urlpatterns = [
    path("fund/", views.fund, name="fund"),
]
