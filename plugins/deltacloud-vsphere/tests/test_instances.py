"""Instances against the simulator, checked behind the driver's back with pyVmomi: what create
makes (sizes, realm, guestinfo, user ISO), what each action asks of vSphere, what bad input leaves
(nothing), and how vSphere's own refusals come back."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from conftest import Admin, Seeded, admin_of, iso_image, seeded_vcsim
from deltacloud_core import MethodNotAllowed, NotSupportedError, ObjectNotFound, ProviderError, ValidationError
from deltacloud_core.errors import PayloadTooLarge
from pyVmomi import vim

from deltacloud_vsphere import VSphereDriver


def _vm_names(admin: Admin) -> set[str]:
    return set(admin.vms())


@pytest.fixture
def made(vcsim: Seeded, admin: Admin):
    """Instances a test creates, destroyed at its end (stopped first) even when it fails."""
    ids: list[str] = []
    yield ids
    for vm_id in ids:
        driver = vcsim.driver()
        instance = driver.get_instance(vm_id)
        if instance is None:
            continue
        if instance.state != "STOPPED":
            vcsim.driver().stop_instance(vm_id)
        vcsim.driver().destroy_instance(vm_id)


def test_realms_are_the_compute_resources(driver: VSphereDriver, vcsim: Seeded) -> None:
    realms = {r.id: r for r in driver.list_realms()}
    assert set(realms) == {vcsim.cluster, vcsim.host}
    cluster = realms[vcsim.cluster]
    assert (cluster.name, cluster.state) == ("DC0_C0", "AVAILABLE")
    assert cluster.extra["hosts"] == 3
    assert cluster.extra["datastore"] == "LocalDS_0"
    assert isinstance(cluster.limit, int)
    assert cluster.limit > 0  # free GB of its datastore
    assert driver.get_realm(vcsim.host).name == "DC0_H0"
    assert driver.get_realm("domain-c999") is None


def test_hardware_profile_ranges_come_from_the_hosts(driver: VSphereDriver) -> None:
    (profile,) = driver.list_hardware_profiles()
    cpu, memory, arch = (profile.property(n) for n in ("cpu", "memory", "architecture"))
    assert (cpu.kind, cpu.first, cpu.last) == ("range", 1, 2)  # the simulator's hosts: 2 threads
    assert (memory.kind, memory.first, memory.last) == ("range", 128, 4092)  # 4095 MiB, in 4 MiB steps
    assert arch.values == ("x86_64", "i386")
    assert driver.list_hardware_profiles(architecture="i386") == [profile]
    assert driver.list_hardware_profiles(architecture="sparc") == []


def test_images_are_templates(driver: VSphereDriver, vcsim: Seeded) -> None:
    images = {i.id: i for i in driver.list_images()}
    assert set(images) == {vcsim.template, vcsim.template_i386}
    assert images[vcsim.template].architecture == "x86_64"
    assert images[vcsim.template_i386].architecture == "i386"
    assert [i.id for i in driver.list_images(architecture="i386")] == [vcsim.template_i386]
    instance_ids = {i.id for i in driver.list_instances()}
    assert instance_ids.isdisjoint(images)
    assert driver.get_image(next(iter(instance_ids))) is None  # a VM is no image
    assert driver.get_instance(vcsim.template) is None  # a template is no instance


def test_create_clones_reconfigures_and_powers_on(vcsim: Seeded, admin: Admin, made: list[str]) -> None:
    instance = vcsim.driver().create_instance(image_id=vcsim.template, hwp_id="default", realm_id=vcsim.cluster,
                                              hwp_overrides={"cpu": "2", "memory": "512"}, name="web-1")
    made.append(instance.id)
    assert (instance.name, instance.state, instance.realm_id, instance.image_id) == (
        "web-1", "RUNNING", vcsim.cluster, vcsim.template)
    assert instance.instance_profile.overrides == {"cpu": "2", "memory": "512"}
    assert instance.owner_id == vcsim.sim.user
    assert instance.launch_time is not None
    vm = admin.by_id(instance.id)
    assert (vm.name, vm.config.hardware.numCPU, vm.config.hardware.memoryMB) == ("web-1", 2, 512)
    assert vm.runtime.powerState == "poweredOn"
    assert vm.resourcePool._moId == admin.vm("DC0_C0_RP0_VM0").resourcePool._moId  # the cluster's pool
    assert vcsim.driver().get_instance(instance.id) == instance


def test_create_without_a_realm_takes_the_templates(vcsim: Seeded, made: list[str]) -> None:
    instance = vcsim.driver().create_instance(image_id=vcsim.template)
    made.append(instance.id)
    assert instance.realm_id == vcsim.host  # the template lives on the standalone host
    assert instance.name.startswith("deltacloud-")
    assert instance.instance_profile.overrides == {"cpu": "1", "memory": "32"}  # the template's own sizes


def test_user_data_goes_to_guestinfo_for_cloud_init(vcsim: Seeded, admin: Admin, made: list[str]) -> None:
    data = b"#cloud-config\npackages: [nginx]\n"
    instance = vcsim.driver().create_instance(image_id=vcsim.template, name="cloudy", user_data=data)
    made.append(instance.id)
    config = admin.extra_config(instance.id)
    assert base64.b64decode(config["guestinfo.userdata"]) == data
    assert config["guestinfo.userdata.encoding"] == "base64"
    meta = json.loads(base64.b64decode(config["guestinfo.metadata"]))
    assert meta["local-hostname"] == "cloudy"
    assert meta["instance-id"].startswith("deltacloud-")


def test_user_iso_is_uploaded_attached_and_deleted_with_the_instance(vcsim: Seeded, admin: Admin) -> None:
    image = iso_image(b"seed for cloudy2")
    instance = vcsim.driver().create_instance(image_id=vcsim.template, name="cloudy2",
                                              user_iso=base64.b64encode(gzip.compress(image)).decode())
    path = admin.extra_config(instance.id)["deltacloud.user-iso"]
    assert path.startswith("[LocalDS_0] deltacloud-iso/cloudy2-")
    (stored,) = vcsim.sim.datastores.glob("govcsim-*/deltacloud-iso/cloudy2-*.iso")
    assert stored.read_bytes() == image
    drives = [d for d in admin.by_id(instance.id).config.hardware.device if isinstance(d, vim.vm.device.VirtualCdrom)]
    assert any(getattr(d.backing, "fileName", None) == path for d in drives), [d.backing for d in drives]
    vcsim.driver().stop_instance(instance.id)
    vcsim.driver().destroy_instance(instance.id)
    assert not stored.exists()


def test_failure_after_the_clone_leaves_nothing(fresh_vcsim: Seeded) -> None:
    """The user ISO cannot be written (a file stands where its folder goes): the create answers
    vSphere's failure, and the clone it made is gone again."""
    blocker = next(fresh_vcsim.sim.datastores.glob("govcsim-*")) / "deltacloud-iso"
    with admin_of(fresh_vcsim.sim) as admin:
        before = _vm_names(admin)
        blocker.write_bytes(b"not a folder")
        with pytest.raises(ProviderError, match="answered 500 to the upload of the user_iso"):
            fresh_vcsim.driver().create_instance(image_id=fresh_vcsim.template, name="doomed",
                                                 user_iso=base64.b64encode(iso_image()).decode())
        assert _vm_names(admin) == before


@pytest.mark.parametrize(("params", "words"), [
    ({"image_id": "vm-99999"}, "Image 'vm-99999' does not exist"),
    ({"image_id": "DC0_H0_VM0"}, "does not exist"),  # a name, not an id
    ({"realm_id": "domain-c999"}, "Realm 'domain-c999' does not exist"),
    ({"hwp_id": "large"}, "Hardware profile 'large' does not exist"),
    ({"hwp_overrides": {"memory": "130"}}, "multiple of 4 MiB"),
    ({"hwp_overrides": {"architecture": "i386"}}, "does not fit it"),
    ({"name": "x" * 81}, "1 to 80 characters"),
    ({"user_iso": "not base64!"}, "base64"),
    ({"user_iso": base64.b64encode(gzip.compress(b"a text file")).decode()}, "not an ISO 9660 image"),
])
def test_bad_input_is_400_and_changes_nothing(vcsim: Seeded, admin: Admin, params, words) -> None:
    before = _vm_names(admin)
    with pytest.raises(ValidationError, match=words):
        vcsim.driver().create_instance(**{"image_id": vcsim.template, "hwp_id": "default", **params})
    assert _vm_names(admin) == before


def test_an_instance_is_no_image(vcsim: Seeded, driver: VSphereDriver) -> None:
    vm_id = next(i.id for i in driver.list_instances())
    with pytest.raises(ValidationError, match=f"Image '{vm_id}' does not exist"):
        vcsim.driver().create_instance(image_id=vm_id)


def test_huge_user_iso_is_413(vcsim: Seeded, admin: Admin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELTACLOUD_VSPHERE_MAX_ISO_MB", "1")
    before = _vm_names(admin)
    with pytest.raises(PayloadTooLarge, match="DELTACLOUD_VSPHERE_MAX_ISO_MB"):
        vcsim.driver().create_instance(image_id=vcsim.template,
                                       user_iso=base64.b64encode(gzip.compress(iso_image(b"\0" * 2**21))).decode())
    assert _vm_names(admin) == before


def test_stop_start_reboot_without_vmware_tools(vcsim: Seeded, admin: Admin, made: list[str]) -> None:
    """The simulator's VMs run no VMware Tools: stop is a power-off, reboot a reset."""
    vm_id = vcsim.driver().create_instance(image_id=vcsim.template).id
    made.append(vm_id)
    assert vcsim.driver().stop_instance(vm_id).state == "STOPPED"
    assert admin.by_id(vm_id).runtime.powerState == "poweredOff"
    assert vcsim.driver().start_instance(vm_id).state == "RUNNING"
    assert "VirtualMachine.reset" not in _tasks(admin, vm_id)
    assert vcsim.driver().reboot_instance(vm_id).state == "RUNNING"
    assert "VirtualMachine.reset" in _tasks(admin, vm_id)
    assert admin.by_id(vm_id).runtime.powerState == "poweredOn"


def _tasks(admin: Admin, vm_id: str) -> list[str]:
    """What vCenter was asked to do to a VM: its tasks' descriptions (``VirtualMachine.reset``)."""
    return [d for d, entity in admin.tasks() if entity == vm_id]


def _events(admin: Admin, vm_id: str) -> list[type]:
    spec = vim.event.EventFilterSpec(entity=vim.event.EventFilterSpec.ByEntity(entity=admin.by_id(vm_id),
                                                                               recursion="self"))
    return [type(e) for e in admin.content.eventManager.QueryEvents(spec)]


def test_stop_with_vmware_tools_is_a_guest_shutdown(vcsim: Seeded, admin: Admin, made: list[str]) -> None:
    vm_id = vcsim.driver().create_instance(image_id=vcsim.template).id
    made.append(vm_id)
    admin.set_tools_running(vm_id)
    assert vcsim.driver().get_instance(vm_id).extra["tools"] == "guestToolsRunning"
    stopped = vcsim.driver().stop_instance(vm_id)
    assert stopped.state == "STOPPED"  # the simulator's guest shuts down at once
    assert vim.event.VmGuestShutdownEvent in _events(admin, vm_id)


def test_vspheres_power_state_refusal_is_405(vcsim: Seeded, made: list[str]) -> None:
    """The driver called for an action the VM's real state refuses (it changed since the core
    looked): vSphere's InvalidPowerState is the state machine's 405, with vSphere's words."""
    vm_id = vcsim.driver().create_instance(image_id=vcsim.template).id
    made.append(vm_id)
    with pytest.raises(MethodNotAllowed) as caught:
        vcsim.driver().start_instance(vm_id)
    assert caught.value.backend_code == "InvalidPowerState"
    with pytest.raises(MethodNotAllowed):
        vcsim.driver().destroy_instance(vm_id)
    assert vcsim.driver().get_instance(vm_id).state == "RUNNING"


def test_destroy_removes_the_vm(vcsim: Seeded, admin: Admin) -> None:
    vm_id = vcsim.driver().create_instance(image_id=vcsim.template, name="short-lived").id
    vcsim.driver().stop_instance(vm_id)
    vcsim.driver().destroy_instance(vm_id)
    assert "short-lived" not in _vm_names(admin)
    assert vcsim.driver().get_instance(vm_id) is None
    with pytest.raises(ObjectNotFound):
        vcsim.driver().start_instance(vm_id)


def test_filters(vcsim: Seeded, driver: VSphereDriver) -> None:
    everything = driver.list_instances()
    assert {i.realm_id for i in everything} == {vcsim.cluster, vcsim.host}
    assert {i.id for i in vcsim.driver().list_instances(realm_id=vcsim.host)} == {
        i.id for i in everything if i.realm_id == vcsim.host}
    assert vcsim.driver().list_instances(state="stopped") == [i for i in everything if i.state == "STOPPED"]
    one = everything[0]
    assert vcsim.driver().list_instances(id=one.id) == [one]
    assert vcsim.driver().list_instances(id="vm-99999") == []


def test_a_datacenter_in_the_provider(vcsim: Seeded) -> None:
    """``;DC0`` (lower-cased by the server: matched without case) keeps to that datacenter."""
    scoped = vcsim.driver(provider=f"{vcsim.provider};dc0")
    assert {r.id for r in scoped.list_realms()} == {vcsim.cluster, vcsim.host}
    assert {i.id for i in scoped.list_instances()} == {i.id for i in vcsim.driver().list_instances()}
    assert scoped.get_image(vcsim.template) is not None
    with pytest.raises(ValidationError, match=r"Datacenter 'dc9' .* the datacenters are: DC0"):
        vcsim.driver(provider=f"{vcsim.provider};dc9").list_realms()


def test_an_esxi_host_as_provider(vcsim_binary) -> None:
    """govmomi's ESX() model: one host, its datacenter ``ha-datacenter``: realm, profile and VMs are
    read as from a vCenter; volumes (vCenter's first-class disks) are a 501 that says what to do."""
    with seeded_vcsim(vcsim_binary, model="esx", templates=False) as esx:
        driver = esx.driver(provider=f"{esx.provider};ha-datacenter")
        (realm,) = driver.list_realms()
        assert realm.state == "AVAILABLE"
        (profile,) = driver.list_hardware_profiles()
        assert profile.property("cpu").last >= 1
        instances = driver.list_instances()
        assert instances
        assert all(i.realm_id == realm.id for i in instances)
        assert driver.get_instance(instances[0].id) == instances[0]
        with pytest.raises(NotSupportedError, match="name the vCenter that manages it"):
            esx.driver().list_storage_volumes()
        with admin_of(esx.sim) as admin:  # a disk outside the VM's folder: a volume? not on ESXi
            vm = admin.by_id(instances[0].id)
            admin.content.fileManager.MakeDirectory("[LocalDS_0] elsewhere", admin.content.rootFolder.childEntity[0])
            controller = next(d for d in vm.config.hardware.device
                              if isinstance(d, vim.vm.device.VirtualSCSIController))
            disk = vim.vm.device.VirtualDisk(key=-1, controllerKey=controller.key, unitNumber=5, capacityInKB=1024,
                                             backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
                                                 fileName="[LocalDS_0] elsewhere/extra.vmdk", diskMode="persistent"))
            admin.wait(vm.ReconfigVM_Task(vim.vm.ConfigSpec(deviceChange=[vim.vm.device.VirtualDeviceSpec(
                operation="add", fileOperation="create", device=disk)])))
        assert esx.driver().get_instance(instances[0].id).storage_volumes == ()
        assert len(esx.driver().list_instances()) == len(instances)


def test_two_datacenters_keep_apart(vcsim_binary) -> None:
    """With ``;DC1`` only DC1 is seen: its realms, VMs and templates; DC0's VM is not found by id.
    An instance made there lands in DC1, and its user ISO (on DC1's ``LocalDS_0``, a name DC0's
    datastore has too) is deleted from DC1's datastore with it."""
    with seeded_vcsim(vcsim_binary, datacenters=2) as two, admin_of(two.sim) as admin:
        dc1_template = admin.make_template("DC1_H0_VM1", "ubuntu64Guest")
        dc1 = two.driver(provider=f"{two.provider};dc1")
        assert {r.name for r in dc1.list_realms()} == {"DC1_C0", "DC1_H0"}
        assert {i.name for i in dc1.list_instances()} == {"DC1_H0_VM0", "DC1_C0_RP0_VM0", "DC1_C0_RP0_VM1"}
        assert [i.id for i in dc1.list_images()] == [dc1_template]
        dc0_vm = admin.vm("DC0_H0_VM0")._moId
        assert dc1.get_instance(dc0_vm) is None
        assert two.driver(provider=f"{two.provider};DC0").get_instance(dc0_vm) is not None
        with pytest.raises(ValidationError, match="Image"):
            two.driver(provider=f"{two.provider};dc1").create_instance(image_id=two.template)  # DC0's template
        made = two.driver(provider=f"{two.provider};dc1").create_instance(
            image_id=dc1_template, user_iso=base64.b64encode(iso_image()).decode())
        assert made.realm_id == admin.realm_id("DC1_H0")
        (iso,) = two.sim.datastores.glob("govcsim-DC1-*/deltacloud-iso/*.iso")
        two.driver(provider=f"{two.provider};dc1").stop_instance(made.id)
        two.driver(provider=f"{two.provider};dc1").destroy_instance(made.id)
        assert not iso.exists()
