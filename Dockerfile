FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 ROPA_VAR_DIR=/app/var
WORKDIR /app

# The app's dependencies exactly as locked (hashes checked, no dev tools), in a layer of their own.
COPY requirements-prod.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements-prod.lock

COPY pyproject.toml README.md ./
COPY ropa ropa
COPY processing processing
COPY retention retention
COPY subjects subjects
COPY templates templates
COPY locale locale
COPY docs docs
COPY manage.py ./
RUN pip install --no-cache-dir --no-deps . \
    && DJANGO_DEBUG=true python manage.py collectstatic --no-input -v 0 \
    && DJANGO_DEBUG=true python manage.py compile_translations -v 0 \
    && useradd --system --home /app ropa && mkdir -p /app/var /app/journal && chown -R ropa /app/var /app/journal

USER ropa
EXPOSE 8000
CMD ["gunicorn", "ropa.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--access-logfile", "-"]
