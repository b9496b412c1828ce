"""The dashboard's navigation: (url name, label, least role). Other areas add their pages
here (e.g. campaigns: ``NAV_ITEMS.append(("campaigns:list", "Campaigns", "viewer"))`` in
their AppConfig.ready) or in the base template's ``{% block nav_extra %}``."""
NAV_ITEMS: list[tuple[str, str, str]] = [
    ("dashboard:create", "Create", "editor"),
    ("dashboard:library", "Library", "viewer"),
    ("dashboard:campaigns", "Campaigns", "viewer"),
    ("dashboard:brand", "Brand kit", "viewer"),
    ("dashboard:members", "Team", "viewer"),
    ("dashboard:keys", "Developers", "admin"),  # API keys; links to Webhooks (dashboard:webhooks)
    ("dashboard:usage", "Usage", "viewer"),
]
