def only_api_v1(endpoints: list) -> list:
    """drf-spectacular hook: document /api/v1/ only."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]
