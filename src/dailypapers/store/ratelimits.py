"""Rate-limiter state: one row per limited key (``login-ip:1.2.3.4``), shared by every process.

The limiter is GCRA (the generic cell rate algorithm): ``tat_ms`` is the key's theoretical
arrival time in epoch milliseconds; the service advances it with one conditional UPDATE.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from dailypapers.store.base import Base


class RateLimit(Base):
    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    tat_ms: Mapped[int] = mapped_column(BigInteger)
