"""Organizations: the tenancy key that assets, events and incidents carry."""

from garrison.tenancy.organizations import Organization, list_organizations, upsert_organization

__all__ = ["Organization", "list_organizations", "upsert_organization"]
