# The Sluis gateway image used by docker-compose.yml (OPA and PostgreSQL run beside it).
FROM python:3.11-slim
RUN useradd --system --home /var/lib/sluis sluis
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gateway gateway
COPY connectors connectors
COPY anonymiser anonymiser
COPY policies policies
RUN pip install --no-cache-dir .
USER sluis
EXPOSE 8000
ENTRYPOINT ["sh", "-c", "export SLUIS_DATABASE_URL=$(echo \"$SLUIS_DATABASE_URL_TEMPLATE\" | sed \"s/{password}/$(cat /run/secrets/postgres_password)/\") && exec sluis serve --host 0.0.0.0 --port 8000"]
