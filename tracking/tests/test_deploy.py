"""The Docker deployment's files, read as the tools would read them.

No Docker engine is needed: docker-compose.yml is parsed as YAML (CI also runs
`docker-compose config -q` on it), the Dockerfile line by line, and
`manage.py check --deploy` runs in a subprocess with .env.example's values.
"""

import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def dockerfile_instructions():
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, arguments = line.partition(" ")
            pairs.append((instruction.upper(), arguments.strip()))
    return pairs


def env_example():
    """.env.example as ({name: value}, {name: value for HTTPS production}).

    A "# https: VALUE" comment line gives the production value of the variable
    that follows it. Commented-out assignments ("# NAME=value") document a
    variable without setting it.
    """
    values, https, documented = {}, {}, set()
    pending_https = None
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.strip()
        if match := re.fullmatch(r"#\s*https:\s*(.*)", line):
            pending_https = match.group(1).strip()
        elif match := re.fullmatch(r"#\s*([A-Z][A-Z0-9_]*)=.*", line):
            documented.add(match.group(1))
        elif match := re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line):
            name = match.group(1)
            values[name] = match.group(2)
            documented.add(name)
            if pending_https is not None:
                https[name] = pending_https
                pending_https = None
    return values, https, documented


# --- docker-compose.yml ----------------------------------------------------------


def test_compose_has_the_database_redis_the_web_scheduler_and_mail_services_and_profiles_for_scaling_out(compose):
    services = compose["services"]
    always = {name for name, service in services.items() if not service.get("profiles")}
    assert always == {"db", "redis", "web", "scheduler", "mailpit"}
    assert {name: services[name]["profiles"] for name in set(services) - always} == {
        "db-replica": ["replica"], "minio": ["minio"], "minio-bucket": ["minio"],
    }
    assert services["web"]["environment"]["REDIS_URL"] == "${REDIS_URL:-redis://redis:6379/0}"
    assert compose["services"]["db"]["image"] == "postgres:16"
    assert compose["services"]["web"]["build"] == "."


def test_both_services_have_healthchecks(compose):
    db, web = compose["services"]["db"], compose["services"]["web"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert web["healthcheck"]["test"] == ["CMD", "python", "docker/healthcheck.py"]
    assert '"/healthz"' in (ROOT / "docker" / "healthcheck.py").read_text()


@pytest.mark.skipif(not shutil.which("pg_isready"), reason="pg_isready (postgresql-client) is not installed")
def test_the_database_healthcheck_command_runs(compose):
    """Run as the container would, against the PostgreSQL that CI provides, if it answers on 127.0.0.1."""
    kind, command = compose["services"]["db"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    env = {"PATH": os.environ["PATH"], "POSTGRES_USER": "postgres", "POSTGRES_DB": "postgres"}

    result = subprocess.run(["sh", "-c", command.replace("$$", "$")], env=env, capture_output=True, text=True)

    # 0: accepting connections; 2: nothing listening. Anything else is a malformed command.
    assert result.returncode in (0, 2), result.stdout + result.stderr
    if result.returncode == 2:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432 to answer")


def test_web_waits_for_a_healthy_database_and_redis(compose):
    assert compose["services"]["web"]["depends_on"] == {
        "db": {"condition": "service_healthy"}, "redis": {"condition": "service_healthy"},
    }


def test_the_replica_streams_from_the_primary_which_allows_it(compose):
    replica = compose["services"]["db-replica"]
    assert replica["image"] == compose["services"]["db"]["image"]
    script = (ROOT / "docker" / "postgres" / "replica.sh").read_text()
    assert "pg_basebackup -h db" in script and " -R " in script
    allow = (ROOT / "docker" / "postgres" / "allow-replication.sh").read_text()
    assert "host replication all all scram-sha-256" in allow


def test_data_lives_in_named_volumes(compose):
    named = set(compose["volumes"])
    mounts = {
        service: {entry.split(":")[0]: entry.split(":")[1] for entry in compose["services"][service]["volumes"]}
        for service in ("db", "web")
    }
    assert mounts["db"] == {
        "pgdata": "/var/lib/postgresql/data",
        "./docker/postgres/allow-replication.sh": "/docker-entrypoint-initdb.d/allow-replication.sh",
    }
    assert mounts["web"] == {"app-data": "/data"}
    assert {"pgdata", "app-data", "pgreplica", "minio-data"} <= named


def test_web_publishes_port_8000(compose):
    web = compose["services"]["web"]
    assert [port.rsplit(":", 1)[1] for port in web["ports"]] == ["8000"]
    assert web["environment"]["GUNICORN_BIND"] == "0.0.0.0:8000"


def test_database_credentials_come_from_the_environment(compose):
    db, web = compose["services"]["db"]["environment"], compose["services"]["web"]["environment"]
    for name in ("POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"):
        assert db[name].startswith("${" + name)
        assert "${" + name in web["DATABASE_URL"]


def strings_in(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from strings_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings_in(value)
    elif isinstance(node, str):
        yield node


def test_every_variable_compose_reads_is_documented_in_env_example(compose):
    _, _, documented = env_example()
    used = {name for text in strings_in(compose) for name in re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", text)}
    assert "SECRET_KEY" in used  # the pattern still finds what it is meant to
    assert used - documented == set()


def test_every_variable_the_settings_read_is_documented_in_env_example():
    _, _, documented = env_example()
    settings_source = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r"\benv(?:bool|int|list|rate)?\(\s*\"([A-Z][A-Z0-9_]*)\"", settings_source))
    assert "SECRET_KEY" in read  # the pattern still finds what it is meant to
    assert read - documented == set()


# --- Dockerfile and entrypoint -----------------------------------------------------


def test_dockerfile_installs_requirements_before_copying_the_code():
    instructions = dockerfile_instructions()
    copy_requirements = instructions.index(("COPY", "requirements.txt ."))
    install = next(i for i, (name, args) in enumerate(instructions) if name == "RUN" and "pip install" in args)
    copy_code = instructions.index(("COPY", ". ."))
    assert copy_requirements < install < copy_code


def test_dockerfile_runs_as_a_user_other_than_root():
    users = [args for name, args in dockerfile_instructions() if name == "USER"]
    assert users, "no USER line: the container would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_dockerfile_starts_the_entrypoint_script():
    starts = [args for name, args in dockerfile_instructions() if name in ("ENTRYPOINT", "CMD")]
    assert starts == ['["/app/docker/entrypoint.sh"]']
    script = ROOT / "docker" / "entrypoint.sh"
    assert os.access(script, os.X_OK)
    assert script.read_text().startswith("#!/bin/sh\n")


def test_dockerfile_uses_a_slim_python_and_collects_static_files_at_build_time():
    instructions = dockerfile_instructions()
    assert re.fullmatch(r"python:3\.1[12]-slim(-\w+)?", instructions[0][1])
    assert any(name == "RUN" and "collectstatic --noinput" in args for name, args in instructions)


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".git", ".venv", "db.sqlite3", "media"} <= ignored


# --- check --deploy ----------------------------------------------------------------


def manage(*args, env):
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_is_clean_with_the_documented_https_values():
    values, https, _ = env_example()
    assert {"SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE", "ALLOWED_HOSTS"} <= set(https)
    env = {**values, **https, "SECRET_KEY": secrets.token_urlsafe(50)}

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr


def test_check_deploy_warns_with_the_plain_http_defaults():
    """The defaults are for http://localhost: the same check then names what is off."""
    values, _, _ = env_example()
    env = {**values, "SECRET_KEY": secrets.token_urlsafe(50)}

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode != 0
    for check_id in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check_id in result.stderr


def test_secret_key_file_that_cannot_be_read_stops_the_start(tmp_path):
    env = {"LOCAL_MODE": "false", "SECRET_KEY_FILE": str(tmp_path / "missing")}

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY_FILE cannot be read" in result.stderr


def test_the_scheduler_runs_the_daily_jobs_with_the_webs_settings_once_web_is_healthy(compose):
    scheduler, web = compose["services"]["scheduler"], compose["services"]["web"]
    assert scheduler["entrypoint"] == ["python", "manage.py", "run_scheduler"]
    assert scheduler["environment"] == web["environment"]
    assert scheduler["depends_on"] == {"web": {"condition": "service_healthy"}}
    assert web["environment"]["EMAIL_HOST"] == "${EMAIL_HOST:-mailpit}"
    assert compose["services"]["mailpit"]["image"].startswith("axllent/mailpit:v")
