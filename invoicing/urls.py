from django.urls import path

from invoicing import views

app_name = "invoicing"
urlpatterns = [
    path("invoices/", views.invoice_list, name="invoice-list"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice-detail"),
    path("invoices/<int:pk>/<str:kind>/", views.invoice_document, name="invoice-document"),
]
