"""The member's payroll pages."""

from django.urls import path

from payroll import views

app_name = "payroll"
urlpatterns = [
    path("payslips/", views.payslip_list, name="payslip-list"),
    path("payslips/<int:pk>/", views.payslip_detail, name="payslip-detail"),
    path("payslips/<int:pk>/pdf/", views.payslip_document, name="payslip-pdf"),
    path("budget/", views.budget, name="budget"),
]
