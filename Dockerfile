# The production image: gunicorn serving zoomadmin, static files by whitenoise.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DOTENV_FILE=
WORKDIR /app

COPY requirements/base.txt requirements/base.txt
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements/base.txt

COPY . .
# collectstatic needs settings that load; these throwaway values exist only in this step.
RUN SECRET_KEY="collectstatic-only-$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    TOKEN_ENCRYPTION_KEYS="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    python manage.py collectstatic --noinput --verbosity 0

RUN useradd --system --uid 10001 --no-create-home zoomadmin
USER zoomadmin
EXPOSE 8000
CMD ["gunicorn", "--config", "python:zoomadmin.gunicorn_conf", "zoomadmin.wsgi"]
