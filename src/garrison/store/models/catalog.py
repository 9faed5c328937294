"""The frameworks catalog as stored: one row per framework and per item, for SQL reporting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from garrison.core.timeutil import utcnow
from garrison.store.models.base import Base


class CatalogFrameworkRow(Base):
    __tablename__ = "catalog_frameworks"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    version: Mapped[str] = mapped_column(String(64))
    publisher: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(500), default="")
    license: Mapped[str] = mapped_column(Text, default="")
    item_count: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class CatalogItemRow(Base):
    __tablename__ = "catalog_items"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    framework_key: Mapped[str] = mapped_column(
        ForeignKey("catalog_frameworks.key", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(500))
    parent_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")
