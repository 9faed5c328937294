"""The JSON API: one router per pillar, typed response models, mounted under ``/api/v1``."""
