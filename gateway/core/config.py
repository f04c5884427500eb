"""Settings from the environment (``SLUIS_*``), built in a cached factory so tests can swap them."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path(".sluis")
DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024**3
DEFAULT_OPA_TIMEOUT_S = 2.0
DEFAULT_RETENTION_INTERVAL_S = 3600.0
DEFAULT_INBOX_INTERVAL_S = 5.0


class Settings(BaseSettings):
    """Everything Sluis reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="SLUIS_", frozen=True, extra="ignore")

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    opa_url: str | None = None
    opa_bin: str | None = None
    master_key_file: Path | None = None
    max_upload_bytes: int = Field(default=DEFAULT_MAX_UPLOAD_BYTES, ge=1)
    opa_timeout_s: float = Field(default=DEFAULT_OPA_TIMEOUT_S, gt=0)
    log_json: bool = False
    # The master key as hex or base64 in the environment, instead of a key file.
    master_key: SecretStr | None = None
    # How often `serve` erases datasets past retention (0 turns the schedule off).
    retention_interval_s: float = Field(default=DEFAULT_RETENTION_INTERVAL_S, ge=0)
    # A drop folder `serve` watches, and how often it looks.
    inbox_dir: Path | None = None
    inbox_interval_s: float = Field(default=DEFAULT_INBOX_INTERVAL_S, gt=0)

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL: ``SLUIS_DATABASE_URL``, else SQLite in the data dir."""
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'sluis.db'}"

    @property
    def key_file(self) -> Path:
        """Where the master key lives (mode 0600)."""
        return self.master_key_file or self.data_dir / "master.key"

    @property
    def datasets_dir(self) -> Path:
        return self.data_dir / "datasets"

    @property
    def policy_dir(self) -> Path:
        """Versioned copies of the policy set in force (``current`` points at the active one)."""
        return self.data_dir / "policies"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def tmp_dir(self) -> Path:
        """Scratch space inside the data dir, so nothing lands in a shared /tmp."""
        return self.data_dir / "tmp"


@cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()


def settings_for(data_dir: Path | None) -> Settings:
    """Settings with ``--data-dir`` taking precedence over ``SLUIS_DATA_DIR``."""
    return Settings() if data_dir is None else Settings(data_dir=data_dir)
