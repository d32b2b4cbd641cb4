"""``deltacloud``: the command line of deltacloud-client.

    deltacloud [--url URL] [--driver D] [--provider P] [--profile NAME]... [-o table|json|yaml]
               COLLECTION ACTION [ARGS]

Exit codes (also in ``deltacloud --help``):

    0 success            4 not found (404)                  7 server unreachable / no answer
    1 any other error    5 conflict (405, 409, 412, 422, an action not offered)    8 wait timed out
    2 usage              6 server or cloud error (5xx)      130 interrupted
    3 authentication (401, 403)
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import errors
from ..client import Client
from .config import Connection, config_path, keyring_service, load_profiles, resolve
from .output import emit, stderr_console
from .progress import transfer_progress, wait_progress

__all__ = ["EXIT_CODES", "cli", "main"]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES = {"success": 0, "error": 1, "usage": 2, "auth": 3, "not_found": 4, "conflict": 5, "server": 6,
              "unreachable": 7, "timeout": 8, "interrupted": 130}
EPILOG = """\b
Exit codes: 0 success, 1 other error, 2 usage, 3 authentication (401/403), 4 not found (404),
5 conflict (405/409/412/422), 6 server or cloud error (5xx), 7 server unreachable, 8 wait timed out.
Configuration: profiles in $DELTACLOUD_CONFIG or ~/.config/deltacloud/config.toml;
DELTACLOUD_URL, DELTACLOUD_USER, DELTACLOUD_PASSWORD, DELTACLOUD_DRIVER, DELTACLOUD_PROVIDER."""


def exit_code(exc: BaseException) -> int:
    if isinstance(exc, errors.WaitTimeout):
        return EXIT_CODES["timeout"]
    if isinstance(exc, errors.ActionNotAvailable):  # what the server would refuse with 405
        return EXIT_CODES["conflict"]
    if isinstance(exc, errors.UsageError | click.UsageError):
        return EXIT_CODES["usage"]
    if isinstance(exc, errors.TransportError):
        return EXIT_CODES["unreachable"]
    if isinstance(exc, errors.Unauthorized | errors.Forbidden):
        return EXIT_CODES["auth"]
    if isinstance(exc, errors.NotFound):
        return EXIT_CODES["not_found"]
    if isinstance(exc, errors.Conflict | errors.MethodNotAllowed | errors.PreconditionFailed
                  | errors.UnprocessableEntity):
        return EXIT_CODES["conflict"]
    if isinstance(exc, errors.ServerError | errors.RateLimited):
        return EXIT_CODES["server"]
    return EXIT_CODES["error"]


class State:
    """What the global options decided; clients are made on first use."""

    def __init__(self, profiles: tuple[str, ...], options: dict[str, Any], output: str | None) -> None:
        self.profile_names = profiles
        self.options = options
        self._output = output
        path = config_path()
        self.profiles, self.default = load_profiles(path)
        self._clients: list[Client] = []

    @property
    def output(self) -> str:
        if self._output:
            return self._output
        for name in self.profile_names[:1] or ((self.default,) if self.default else ()):
            profile = self.profiles.get(name)
            if profile and profile.output:
                return profile.output
        return "table"

    def connections(self) -> list[Connection]:
        names: tuple[str | None, ...] = self.profile_names or (None,)
        return [resolve(name, options=self.options, profiles=self.profiles, default=self.default) for name in names]

    def client(self) -> Client:
        connections = self.connections()
        if len(connections) > 1:
            raise click.UsageError("several --profile options are for 'instances watch' only")
        return self._make(connections[0])

    def _make(self, c: Connection) -> Client:
        client = Client(c.url, c.user, c.password, driver=c.driver, provider=c.provider,
                        format="xml" if c.format == "xml" else "json")
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()


def handled(func: F) -> F:
    """Run a command; an error of the library becomes a message on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except click.ClickException:
            raise
        except errors.DeltacloudError as exc:
            stderr_console().print(f"[bold red]error:[/] {exc}", highlight=False)
            raise SystemExit(exit_code(exc)) from None
        except KeyboardInterrupt:
            raise SystemExit(EXIT_CODES["interrupted"]) from None

    return wrapper  # type: ignore[return-value]


def _state() -> State:
    state = click.get_current_context().find_object(State)
    assert state is not None
    return state


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("--url", help="The server (http://host:3001 or .../api). [env DELTACLOUD_URL]")
@click.option("--user", "-u", help="User name for the cloud. [env DELTACLOUD_USER]")
@click.option("--driver", "-d", help="Driver for these requests (mock, ec2, ...). [env DELTACLOUD_DRIVER]")
@click.option("--provider", "-p", help="Provider (region, endpoint) of the driver. [env DELTACLOUD_PROVIDER]")
@click.option("--profile", "profiles", multiple=True,
              help="A profile of the config file (repeat for 'instances watch').")
@click.option("-o", "--output", type=click.Choice(["table", "json", "yaml"]), help="Output format (default: table).")
@click.option("--xml", "wire_xml", is_flag=True, help="Talk XML to the server (the API's primary format).")
@click.version_option(package_name="deltacloud-client")
@click.pass_context
def cli(ctx: click.Context, url: str | None, user: str | None, driver: str | None, provider: str | None,
        profiles: tuple[str, ...], output: str | None, wire_xml: bool) -> None:
    """Talk to a Deltacloud API server: deltacloud instances list, deltacloud blobs put B BLOB FILE, ..."""
    options = {"url": url, "user": user, "driver": driver, "provider": provider,
               "wire_format": "xml" if wire_xml else None}
    if ctx.resilient_parsing:  # shell completion: never read the config or ask for a password
        return
    state = State(profiles, options, output)  # a ConfigError is a usage error (exit 2)
    ctx.obj = state
    ctx.call_on_close(state.close)


# -- api, drivers ---------------------------------------------------------------------------------

@cli.command("api")
@handled
def api_command() -> None:
    """The entry point: driver, provider, collections and their features."""
    state = _state()
    emit(state.client().api(), state.output, "api")


def _collection_group(name: str, attribute: str, help_text: str, *, destroy: bool = True) -> click.Group:
    @click.group(name, help=help_text)
    def group() -> None:
        pass

    @group.command("list")
    @click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE", help="A query filter (state=RUNNING).")
    @handled
    def list_command(filters: tuple[str, ...]) -> None:
        """Every member."""
        state = _state()
        emit(getattr(state.client(), attribute).list(**_pairs(filters)), state.output, attribute)

    @group.command("show")
    @click.argument("resource_id")
    @handled
    def show_command(resource_id: str) -> None:
        """One member, every field."""
        state = _state()
        emit(getattr(state.client(), attribute).get(resource_id), state.output, attribute)

    if destroy:
        @group.command("destroy")
        @click.argument("resource_id")
        @handled
        def destroy_command(resource_id: str) -> None:
            """Destroy it."""
            state = _state()
            getattr(state.client(), attribute).get(resource_id).destroy()
            _done(state, f"{resource_id} destroyed")

    cli.add_command(group)
    return group


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {value!r}")
        out[key] = val
    return out


def _done(state: State, message: str, result: Any = None) -> None:
    if state.output == "table":
        stderr_console().print(message, highlight=False)
    else:
        emit(result if result is not None else {"result": message}, state.output, "")


drivers = _collection_group("drivers", "drivers", "The drivers the server has.", destroy=False)
_collection_group("realms", "realms", "Realms (regions, zones).", destroy=False)
_collection_group("hardware-profiles", "hardware_profiles", "Hardware profiles (sizes).", destroy=False)
_collection_group("metrics", "metrics", "Metrics of monitored resources.", destroy=False)
instances = _collection_group("instances", "instances", "Instances (virtual machines).")
images = _collection_group("images", "images", "Images to launch instances from.")
keys = _collection_group("keys", "keys", "SSH keys and credentials.")
volumes = _collection_group("volumes", "storage_volumes", "Storage volumes.")
snapshots = _collection_group("snapshots", "storage_snapshots", "Storage snapshots.")
buckets = _collection_group("buckets", "buckets", "Buckets of blobs.")
addresses = _collection_group("addresses", "addresses", "Public (elastic, floating) addresses.")
firewalls = _collection_group("firewalls", "firewalls", "Firewalls (security groups).")
_collection_group("load-balancers", "load_balancers", "Load balancers.")
_collection_group("networks", "networks", "Networks.")
_collection_group("subnets", "subnets", "Subnets.")
_collection_group("network-interfaces", "network_interfaces", "Network interfaces.")


# -- instances ------------------------------------------------------------------------------------

def _wait(state: State, instance: Any, target: str, timeout: float) -> Any:
    with wait_progress(stderr_console(), instance.id, target, quiet=state.output != "table") as show:
        show(instance.state)
        return instance.wait_for(target, timeout=timeout)


@instances.command("create")
@click.option("--image", required=True, help="Image id.")
@click.option("--hardware-profile", "hwp", help="Hardware profile id.")
@click.option("--realm", help="Realm id.")
@click.option("--name", help="Instance name.")
@click.option("--keyname", help="Key to install.")
@click.option("--user-data", "user_data", type=click.File("rb"), help="File of user data (sent base64-encoded).")
@click.option("--memory", help="Override the profile's memory (MB); checked against its range.")
@click.option("--cpu", help="Override the profile's CPU count.")
@click.option("--storage", help="Override the profile's storage (GB).")
@click.option("--architecture", help="Override the profile's architecture.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Any other create parameter.")
@click.option("--wait", "wait_state", is_flag=False, flag_value="RUNNING", default=None,
              help="Wait until RUNNING (or the state given).")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds --wait waits.")
@handled
def instances_create(image: str, hwp: str | None, realm: str | None, name: str | None, keyname: str | None,
                     user_data: Any, memory: str | None, cpu: str | None, storage: str | None,
                     architecture: str | None, params: tuple[str, ...], wait_state: str | None,
                     timeout: float) -> None:
    """Launch an instance."""
    state = _state()
    created = state.client().instances.create(
        image=image, hardware_profile=hwp, realm=realm, name=name, keyname=keyname,
        user_data=user_data.read() if user_data else None, memory=memory, cpu=cpu, storage=storage,
        architecture=architecture, **_pairs(params))
    if wait_state:
        created = _wait(state, created, wait_state, timeout)
    emit(created, state.output, "instances")


def _instance_action(action: str, help_text: str, default_wait: str | None) -> None:
    @instances.command(action, help=help_text)
    @click.argument("instance_id")
    @click.option("--wait", "wait_state", is_flag=False, flag_value=default_wait or "RUNNING", default=None,
                  help=f"Wait until {default_wait or 'the state given'}.")
    @click.option("--timeout", default=600.0, show_default=True, help="Seconds --wait waits.")
    @handled
    def command(instance_id: str, wait_state: str | None, timeout: float) -> None:
        state = _state()
        instance = state.client().instances.get(instance_id)
        if action == "destroy":
            instance.destroy()
            if wait_state:
                _wait(state, instance, "FINISH", timeout)
            _done(state, f"{instance_id} destroyed")
            return
        result = getattr(instance, action)()
        if wait_state:
            result = _wait(state, result, wait_state, timeout)
        emit(result, state.output, "instances")


instances.commands.pop("destroy")
_instance_action("start", "Start a stopped instance.", "RUNNING")
_instance_action("stop", "Stop a running instance.", "STOPPED")
_instance_action("reboot", "Reboot an instance.", "RUNNING")
_instance_action("destroy", "Destroy an instance (on most clouds it must be stopped first).", "FINISH")


@instances.command("wait")
@click.argument("instance_id")
@click.argument("target_state")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds to wait.")
@handled
def instances_wait(instance_id: str, target_state: str, timeout: float) -> None:
    """Wait until the instance is in TARGET_STATE (FINISH: until it is gone)."""
    state = _state()
    instance = state.client().instances.get(instance_id)
    emit(_wait(state, instance, target_state, timeout), state.output, "instances")


@instances.command("watch")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between two looks (when polling).")
@click.option("--count", type=int, default=None, help="Stop after this many changes (default: never).")
@handled
def instances_watch(interval: float, count: int | None) -> None:
    """A summary of instances by state, then every change as it happens; --profile a --profile b
    watches several clouds at once."""
    from .watch import watch_profiles

    state = _state()
    watch_profiles(state.connections(), interval=interval, count=count, output=state.output)


# -- images, keys, volumes, addresses, firewalls ----------------------------------------------------

@images.command("create")
@click.option("--instance", required=True, help="The instance to image.")
@click.option("--name", help="Image name.")
@click.option("--description", help="Image description.")
@handled
def images_create(instance: str, name: str | None, description: str | None) -> None:
    """An image of an instance."""
    state = _state()
    emit(state.client().images.create(instance=instance, name=name, description=description), state.output, "images")


@keys.command("create")
@click.argument("name")
@click.option("--public-key", "public_key", type=click.File("r"), help="Import this public key instead.")
@handled
def keys_create(name: str, public_key: Any) -> None:
    """Create (or import) a key; the private key, when the cloud made one, is printed once."""
    state = _state()
    emit(state.client().keys.create(name, public_key=public_key.read() if public_key else None), state.output, "keys")


@volumes.command("create")
@click.option("--capacity", help="Size in GB.")
@click.option("--realm", help="Realm id.")
@click.option("--snapshot", help="Snapshot to restore.")
@click.option("--name", help="Volume name.")
@handled
def volumes_create(capacity: str | None, realm: str | None, snapshot: str | None, name: str | None) -> None:
    """Create a storage volume."""
    state = _state()
    emit(state.client().storage_volumes.create(capacity=capacity, realm=realm, snapshot=snapshot, name=name),
         state.output, "storage_volumes")


@volumes.command("attach")
@click.argument("volume_id")
@click.option("--instance", required=True, help="Instance id.")
@click.option("--device", required=True, help="Device name (/dev/sdh).")
@handled
def volumes_attach(volume_id: str, instance: str, device: str) -> None:
    """Attach a volume to an instance."""
    state = _state()
    emit(state.client().storage_volumes.get(volume_id).attach(instance, device), state.output, "storage_volumes")


@volumes.command("detach")
@click.argument("volume_id")
@handled
def volumes_detach(volume_id: str) -> None:
    """Detach a volume."""
    state = _state()
    emit(state.client().storage_volumes.get(volume_id).detach(), state.output, "storage_volumes")


@snapshots.command("create")
@click.option("--volume", required=True, help="The volume to snapshot.")
@click.option("--name", help="Snapshot name.")
@click.option("--description", help="What it is.")
@handled
def snapshots_create(volume: str, name: str | None, description: str | None) -> None:
    """Snapshot a storage volume."""
    state = _state()
    emit(state.client().storage_snapshots.create(volume=volume, name=name, description=description), state.output,
         "storage_snapshots")


@addresses.command("create")
@handled
def addresses_create() -> None:
    """Allocate an address."""
    state = _state()
    emit(state.client().addresses.create(), state.output, "addresses")


@addresses.command("associate")
@click.argument("address_id")
@click.option("--instance", required=True, help="Instance id.")
@handled
def addresses_associate(address_id: str, instance: str) -> None:
    """Associate an address with an instance."""
    state = _state()
    state.client().addresses.get(address_id).associate(instance)
    _done(state, f"{address_id} associated with {instance}")


@addresses.command("disassociate")
@click.argument("address_id")
@handled
def addresses_disassociate(address_id: str) -> None:
    """Disassociate an address."""
    state = _state()
    state.client().addresses.get(address_id).disassociate()
    _done(state, f"{address_id} disassociated")


@firewalls.command("create")
@click.argument("name")
@click.option("--description", required=True, help="What it is for.")
@handled
def firewalls_create(name: str, description: str) -> None:
    """Create a firewall."""
    state = _state()
    emit(state.client().firewalls.create(name, description=description), state.output, "firewalls")


@firewalls.command("add-rule")
@click.argument("firewall_id")
@click.option("--protocol", required=True, type=click.Choice(["tcp", "udp", "icmp"]))
@click.option("--port-from", required=True, type=int)
@click.option("--port-to", required=True, type=int)
@click.option("--source", "sources", multiple=True, help="A CIDR allowed in (0.0.0.0/0: anyone).")
@handled
def firewalls_add_rule(firewall_id: str, protocol: str, port_from: int, port_to: int, sources: tuple[str, ...]) -> None:
    """Allow traffic in."""
    state = _state()
    emit(state.client().firewalls.get(firewall_id).add_rule(protocol=protocol, port_from=port_from, port_to=port_to,
                                                             sources=sources), state.output, "firewalls")


@buckets.command("create")
@click.argument("name")
@click.option("--location", help="Where (a region, when the cloud has several).")
@handled
def buckets_create(name: str, location: str | None) -> None:
    """Create a bucket."""
    state = _state()
    emit(state.client().buckets.create(name, location=location), state.output, "buckets")


# -- blobs ----------------------------------------------------------------------------------------

@cli.group("blobs")
def blobs() -> None:
    """Blobs in buckets: ls, put, get, rm."""


@blobs.command("ls")
@click.argument("bucket_id")
@handled
def blobs_ls(bucket_id: str) -> None:
    """The blobs of a bucket (one request per blob for their sizes)."""
    state = _state()
    bucket = state.client().buckets.get(bucket_id)
    emit([bucket.blob(ref.id) for ref in bucket.blobs], state.output, "blobs")


@blobs.command("put")
@click.argument("bucket_id")
@click.argument("blob_id")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--content-type", help="Content type (default: application/octet-stream).")
@click.option("--meta", "meta", multiple=True, metavar="KEY=VALUE", help="User metadata.")
@handled
def blobs_put(bucket_id: str, blob_id: str, source: str, content_type: str | None, meta: tuple[str, ...]) -> None:
    """Upload SOURCE (a file, or - for stdin) as BLOB_ID, streamed, with a progress bar on a terminal."""
    state = _state()
    bucket = state.client().buckets.get(bucket_id)
    stream = sys.stdin.buffer if source == "-" else Path(source).open("rb")
    try:
        with transfer_progress(stderr_console(), f"put {blob_id}") as progress:
            blob = bucket.put(blob_id, stream, content_type=content_type, metadata=_pairs(meta), progress=progress)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    emit(blob, state.output, "blobs")


@blobs.command("get")
@click.argument("bucket_id")
@click.argument("blob_id")
@click.argument("target", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@handled
def blobs_get(bucket_id: str, blob_id: str, target: str | None) -> None:
    """Download BLOB_ID into TARGET (default: a file named BLOB_ID; - for stdout), streamed."""
    state = _state()
    blob = state.client().buckets.get(bucket_id).blob(blob_id)
    if target == "-":
        blob.download(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    path = Path(target or blob_id)
    with transfer_progress(stderr_console(), f"get {blob_id}") as progress:
        written = blob.download(path, progress=progress)
    _done(state, f"{blob_id}: {written} bytes written to {path}",
          {"blob": blob_id, "bytes": written, "path": str(path)})


@blobs.command("rm")
@click.argument("bucket_id")
@click.argument("blob_id")
@handled
def blobs_rm(bucket_id: str, blob_id: str) -> None:
    """Delete a blob."""
    state = _state()
    state.client().buckets.get(bucket_id).blob(blob_id).destroy()
    _done(state, f"{blob_id} deleted")


# -- profiles, completion ------------------------------------------------------------------------

@cli.group("profiles")
def profiles_group() -> None:
    """The profiles of the config file."""


@profiles_group.command("list")
@handled
def profiles_list() -> None:
    """The profiles (never a password) and where the file is."""
    state = _state()
    rows = [{"name": p.name, "url": p.url, "user": p.user, "driver": p.driver, "provider": p.provider,
             "password": f"${p.password_env}" if p.password_env else ("keyring" if p.password_keyring else "prompt"),
             "default": p.name == state.default} for p in state.profiles.values()]
    if state.output == "table":
        console = stderr_console()
        console.print(f"config file: {config_path()}", highlight=False)
        for row in rows:
            mark = "*" if row["default"] else " "
            click.echo(f"{mark} {row['name']}  {row['url']}  user={row['user']}  driver={row['driver'] or '-'}  "
                       f"provider={row['provider'] or '-'}  password from {row['password']}")
    else:
        emit(rows, state.output, "")


@profiles_group.command("set-password")
@click.argument("name")
@handled
def profiles_set_password(name: str) -> None:
    """Ask for the password of profile NAME and keep it in the system keyring."""
    state = _state()
    profile = state.profiles.get(name)
    if profile is None or not profile.url or not profile.user:
        raise click.UsageError(f"profile '{name}' needs a url and a user in {config_path()}")
    try:
        import keyring
    except ImportError:
        raise click.UsageError("this needs the keyring package: pip install 'deltacloud-client[keyring]'") from None
    password = click.prompt(f"Password for {profile.user} ({name})", hide_input=True, confirmation_prompt=True,
                            err=True)
    keyring.set_password(keyring_service(profile.url), profile.user, password)
    click.echo(f"kept in the keyring for {profile.user} at {keyring_service(profile.url)}", err=True)


@cli.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the completion script: eval "$(deltacloud completion bash)" (zsh: the same;
    fish: deltacloud completion fish | source)."""
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    assert cls is not None
    click.echo(cls(cli, {}, "deltacloud", "_DELTACLOUD_COMPLETE").source())


def main() -> None:
    try:
        cli(prog_name="deltacloud")
    except KeyboardInterrupt:
        raise SystemExit(EXIT_CODES["interrupted"]) from None
