from django.contrib.admin.apps import AdminConfig


class TaizhangAdminConfig(AdminConfig):
    default_site = "taizhang.accounts.admin_access.TaizhangAdminSite"
