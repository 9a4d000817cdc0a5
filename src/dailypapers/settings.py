"""The one typed settings object, read from ``DAILYPAPERS_*`` environment variables (and ``.env``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "dailypapers-development-secret-change-me"


class Settings(BaseSettings):
    """Every knob of a dailypapers installation; each field is documented in docs/settings.md."""

    model_config = SettingsConfigDict(env_prefix="DAILYPAPERS_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        "development", description="development allows the default secret; production refuses it."
    )
    database_url: str = Field(
        "sqlite:///./dailypapers.db",
        description="SQLAlchemy URL of the database: sqlite:///path or postgresql+psycopg://...",
    )
    secret_key: str = Field(DEFAULT_SECRET, description="Signs sessions, CSRF tokens and mail links.")
    base_url: str = Field(
        "http://127.0.0.1:8000", description="Public URL of the site, used in feeds and mails."
    )
    site_name: str = Field("Daily Papers", description="Shown in the header and in feeds.")
    data_dir: Path = Field(
        Path("./var"), description="Directory for search indexes and other rebuildable artefacts."
    )
    load_sample: bool = Field(
        True, description="Load the bundled sample papers when `serve` starts on an empty database."
    )
    import_batch_size: int = Field(
        1000, ge=1, le=100_000, description="Papers per transaction when importing."
    )
    smtp_host: str | None = Field(
        None, description="SMTP server for outgoing mail; unset prints mails to the console instead."
    )
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP server port (587 STARTTLS, 465 SSL).")
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="How to secure the SMTP connection: starttls, ssl (implicit TLS) or none."
    )
    smtp_username: str | None = Field(None, description="SMTP login name; unset sends without AUTH.")
    smtp_password: str | None = Field(None, description="SMTP password (used with smtp_username).")
    smtp_timeout: float = Field(30.0, gt=0, description="Seconds to wait for the SMTP server.")
    mail_from: str = Field(
        "Daily Papers <noreply@localhost>", description="From address of every mail the site sends."
    )
    session_days: int = Field(30, ge=1, le=365, description="Days a login session stays valid.")
    password_reset_minutes: int = Field(
        60, ge=5, le=10_080, description="Minutes a password-reset link stays valid (used once)."
    )
    rate_limit_scale: float = Field(
        1.0, ge=0, description="Multiplies every rate limit (2 allows twice as many); 0 turns them off."
    )

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError(
                "DAILYPAPERS_SECRET_KEY must be set to a private value when "
                "DAILYPAPERS_ENVIRONMENT=production"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
