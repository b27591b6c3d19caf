"""The Docker stack gives the quick start's demo: checked statically, since
Docker does not run here (docker/docker-compose.yml, docker/init.sh).

The stack runs the services tests/serve starts on a machine (the Daraja, SMS
gateway and NAS simulators, FreeRADIUS), and its odoo service builds the
database with tests/serve itself (``--init-only``, with every add-on: no
ISP_ADDONS), pointed at those services: the URLs, ports, addresses and
secrets the odoo service passes must be the ones the services listen on.
"""

import re
import shlex
from pathlib import Path

import pytest
import yaml

import demo_builder
import harness

DOCKER_DIR = harness.REPO_ROOT / "docker"
REPO_IN_IMAGE = "/mnt/extra-addons"


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((DOCKER_DIR / "docker-compose.yml").read_text())


def _default(value):
    """``${NAME:-default}`` → default (the value Compose uses when unset)."""
    match = re.fullmatch(r"\$\{\w+:-([^}]*)\}", value)
    return match.group(1) if match else value


def _args(service):
    """The service's command as {--option: value}."""
    args = {}
    for item in service.get("command") or []:
        option, __, value = item.partition("=")
        args[option] = _default(value)
    return args


def _script(service):
    """The script a simulator service runs: a path in the repository."""
    entrypoint = service["entrypoint"]
    assert entrypoint[0] == "python3", entrypoint
    assert entrypoint[1].startswith(REPO_IN_IMAGE + "/"), entrypoint
    return Path(entrypoint[1][len(REPO_IN_IMAGE) + 1 :])


def test_services_of_the_stack(compose):
    services = compose["services"]
    assert set(services) >= {"db", "odoo", "freeradius", "daraja", "sms", "nas"}
    assert _script(services["daraja"]) == Path("tests/daraja_simulator.py")
    assert _script(services["sms"]) == Path("tests/sms_gateway_simulator.py")
    assert _script(services["nas"]) == Path("tests/nas_simulator.py")
    for name in ("daraja", "sms", "nas"):
        assert (harness.REPO_ROOT / _script(services[name])).is_file()
        # the repository's own scripts, mounted, not copies in an image
        assert f"..:{REPO_IN_IMAGE}:ro" in services[name]["volumes"], name
    depends = services["odoo"]["depends_on"]
    assert {
        name: depends[name]["condition"]
        for name in ("db", "freeradius", "daraja", "sms", "nas")
    } == dict.fromkeys(("db", "freeradius", "daraja", "sms", "nas"), "service_healthy")


def test_init_builds_with_tests_serve_and_every_addon(compose):
    """docker/init.sh runs tests/serve --init-only (the same database and
    demo builder as on a machine) with every option that points it at the
    stack, never an `odoo -i` of its own; ISP_ADDONS is left unset, so every
    add-on is installed."""
    env = compose["services"]["odoo"]["environment"]
    assert "ISP_ADDONS" not in env
    init = (DOCKER_DIR / "init.sh").read_text()
    assert '"$ISP_REPO/tests/serve"' in init
    assert "--init-only" in init
    assert "--init=" not in init and " -i " not in init
    assert '"$ISP_REPO/tests/demo_builder.py"' in init  # the live payments
    options = dict(
        re.findall(r'(--[a-z-]+)="\$(ISP_[A-Z_]+)"', init.split("serve_args=(")[1])
    )
    assert options == {
        "--db": "ISP_DB_NAME",
        "--base-url": "ISP_BASE_URL",
        "--callback-url": "ISP_CALLBACK_URL",
        "--daraja-url": "ISP_DARAJA_URL",
        "--sms-url": "ISP_SMS_URL",
        "--radius-dsn": "ISP_RADIUS_DSN",
        "--nas-url": "ISP_NAS_URL",
        "--nas-ip": "ISP_NAS_IP",
        "--nas-coa-port": "ISP_NAS_COA_PORT",
        "--radius-secret": "ISP_RADIUS_SECRET",
    }
    assert set(options.values()) <= set(env)
    # init.sh's own defaults (for a service started without the compose
    # file's environment) are the compose file's values.
    defaults = dict(re.findall(r'"\$\{(ISP_[A-Z_]+):=([^}]*)\}"', init))
    assert set(options.values()) <= set(defaults)
    for name in options.values():
        assert defaults[name] == _default(str(env[name])), name
    # tests/serve accepts each of them
    serve = (harness.TESTS_DIR / "serve").read_text()
    for option in options:
        assert f'"{option}"' in serve, option


def test_settings_match_the_services(compose):
    """What the builder writes into Odoo (URLs, the NAS record's IP, CoA port
    and secret, FreeRADIUS's database) is where the services listen."""
    services = compose["services"]
    env = services["odoo"]["environment"]
    daraja, sms, nas = (_args(services[name]) for name in ("daraja", "sms", "nas"))
    radius = services["freeradius"]["environment"]
    db = services["db"]["environment"]

    assert env["ISP_DARAJA_URL"] == f"http://daraja:{daraja['--port']}"
    assert env["ISP_SMS_URL"] == f"http://sms:{sms['--port']}"
    assert daraja["--host"] == sms["--host"] == "0.0.0.0"
    assert env["ISP_CALLBACK_URL"] == "http://odoo:8069"
    assert "8069:8069" in services["odoo"]["ports"]
    # The simulators beside Odoo's port as tests/serve places them.
    assert int(daraja["--port"]) == 8069 + demo_builder.DEMO_PORT_OFFSETS["daraja"]
    assert int(sms["--port"]) == 8069 + demo_builder.DEMO_PORT_OFFSETS["sms"]
    assert int(nas["--control-port"]) == (
        8069 + demo_builder.DEMO_PORT_OFFSETS["nas_control"]
    )

    # The NAS simulator: at its fixed address, known to FreeRADIUS as a
    # client with the same secret, and to Odoo (the NAS record) with that
    # address, CoA port and secret.
    address = services["nas"]["networks"]["default"]["ipv4_address"]
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert address.rsplit(".", 1)[0] == subnet.rsplit(".", 1)[0]
    assert nas["--nas-ip"] == address == env["ISP_NAS_IP"] == radius["FR_NAS_ADDR"]
    assert env["ISP_NAS_URL"] == f"http://nas:{nas['--control-port']}"
    assert nas["--control-bind"] == nas["--bind"] == "0.0.0.0"
    assert env["ISP_NAS_COA_PORT"] == nas["--coa-port"]
    secrets = {
        _default(env["ISP_RADIUS_SECRET"]),
        nas["--radius-secret"],
        _default(radius["FR_SECRET"]),
    }
    assert secrets == {demo_builder.RADIUS_SECRET}
    assert nas["--radius-server"] == "freeradius"
    assert nas["--auth-port"] == radius["FR_AUTH_PORT"]
    assert nas["--acct-port"] == radius["FR_ACCT_PORT"]
    assert int(nas["--interim"]) == demo_builder.INTERIM_SECONDS

    # Odoo writes FreeRADIUS's database (owner: the db service's user);
    # FreeRADIUS reads the same database as the role `radius`.
    dsn = dict(item.split("=", 1) for item in shlex.split(env["ISP_RADIUS_DSN"]))
    fr_db = dict(item.split("=", 1) for item in shlex.split(radius["FR_DB"]))
    assert dsn["host"] == fr_db["host"] == "db"
    assert dsn["dbname"] == fr_db["dbname"] == "radius"
    assert (dsn["user"], dsn["password"]) == (
        db["POSTGRES_USER"],
        db["POSTGRES_PASSWORD"],
    )
    assert (env["DB_USER"], env["DB_PASSWORD"]) == (
        db["POSTGRES_USER"],
        db["POSTGRES_PASSWORD"],
    )


def test_freeradius_entrypoint_adds_the_nas_client():
    """FR_NAS_ADDR becomes a client of FreeRADIUS with FR_SECRET: the NAS
    simulator logs in before Odoo writes its NAS into the `nas` table."""
    script = (DOCKER_DIR / "freeradius-entrypoint.sh").read_text()
    block = re.search(r'if \[ -n "\$\{FR_NAS_ADDR:-\}" \]; then(.*?)\nfi', script, re.S)
    assert block, "no FR_NAS_ADDR client"
    assert "ipaddr = ${FR_NAS_ADDR}" in block.group(1)
    assert 'secret = "\\$ENV{FR_SECRET}"' in block.group(1)
