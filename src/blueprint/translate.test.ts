/**
 * Blueprint snippets → the recipe fragment they become, or the exact refusal with its line; what
 * --lenient turns into warnings; composer image types → outputs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../errors.js';
import { translateBlueprint, type BlueprintOptions } from './translate.js';

function recipeOf(toml: string, options: BlueprintOptions = {}): Record<string, unknown> {
  const recipe = { ...translateBlueprint('bp.toml', `name = "t"\n${toml}`, options).recipe };
  delete recipe.name;
  return recipe;
}

function errorOf(toml: string, options: BlueprintOptions = {}): string {
  try {
    translateBlueprint('bp.toml', `name = "t"\n${toml}`, options);
  } catch (err) {
    assert.ok(err instanceof UserError, String(err));
    return err.message;
  }
  return 'no error';
}

const KEY = '-----BEGIN PGP PUBLIC KEY BLOCK-----\\n\\nmQINBGRk\\n-----END PGP PUBLIC KEY BLOCK-----';

const TRANSLATED: [string, string, Record<string, unknown>][] = [
  ['a package, any version', '[[packages]]\nname = "tmux"\nversion = "*"\n', { packages: ['tmux'] }],
  ['a Fedora name and a pinned version', 'packages = [{ name = "httpd", version = "2.4.62-1" }, { name = "vim-enhanced" }]\n', { packages: ['apache2=2.4.62-1', 'vim'] }],
  ['kernel and dnf are not packages on Debian', '[[packages]]\nname = "kernel"\n[[packages]]\nname = "dnf"\n', {}],
  ['package groups', '[[groups]]\nname = "core"\n[[groups]]\nname = "development-tools"\n', { packages: ['build-essential'] }],
  ['an @group in packages', '[[packages]]\nname = "@container-management"\n', { packages: ['podman'] }],
  ['empty modules, groups, containers', 'modules = []\ngroups = []\ncontainers = []\n', {}],
  ['distro and architecture', 'distro = "debian-12"\narchitecture = "aarch64"\n', { distro: { name: 'debian', release: 'bookworm' }, arch: 'arm64' }],
  ['hostname', '[customizations]\nhostname = "box"\n', { hostname: 'box' }],
  ['kernel name and append', '[customizations.kernel]\nname = "kernel-rt"\nappend = "quiet  nosmt"\n', { kernel: { package: 'linux-image-rt-amd64', cmdline: ['quiet', 'nosmt'] } }],
  ['timezone and NTP', '[customizations.timezone]\ntimezone = "Europe/Paris"\nntpservers = ["ntp.example"]\n', { timezone: 'Europe/Paris', ntp: ['ntp.example'] }],
  ['locale and keyboard', '[customizations.locale]\nlanguages = ["fr_FR", "en_US.UTF-8"]\nkeyboard = "us"\n', { locale: 'fr_FR.UTF-8', keyboard: 'us' }],
  ['a console keymap with a variant', '[customizations.locale]\nkeyboard = "uk-latin1"\n', { keyboard: { layout: 'gb' } }],
  [
    'firewall',
    '[customizations.firewall]\nports = ["22:tcp", "imap:tcp", "1000-1010:udp"]\n[customizations.firewall.services]\nenabled = ["http"]\ndisabled = ["telnet"]\n',
    { firewall: { ports: ['22/tcp', '143/tcp', '1000-1010/udp'], services: { enable: ['http'], disable: ['telnet'] } } },
  ],
  [
    'services with Fedora unit names',
    '[customizations.services]\nenabled = ["sshd", "httpd.service", "nginx"]\ndisabled = ["crond"]\nmasked = ["rpcbind"]\n',
    { services: { enable: ['ssh', 'apache2.service', 'nginx'], disable: ['cron'], mask: ['rpcbind'] } },
  ],
  [
    'a user with everything, and an sshkey for it',
    '[[customizations.user]]\nname = "al"\ndescription = "Al"\npassword = "$6$s$h"\nkey = "ssh-ed25519 AAAA a@b"\nhome = "/srv/al/"\nshell = "/bin/sh"\ngroups = ["adm"]\nuid = 1500\ngid = 1500\n[[customizations.sshkey]]\nuser = "al"\nkey = "ssh-rsa BBBB c@d"\n',
    { users: [{ name: 'al', description: 'Al', password_hash: '$6$s$h', home: '/srv/al', shell: '/bin/sh', groups: ['adm'], uid: 1500, gid: 1500, ssh_keys: ['ssh-ed25519 AAAA a@b', 'ssh-rsa BBBB c@d'] }] },
  ],
  ['an sshkey creates its user', '[[customizations.sshkey]]\nuser = "bo"\nkey = "ssh-ed25519 AAAA b@c"\n', { users: [{ name: 'bo', ssh_keys: ['ssh-ed25519 AAAA b@c'] }] }],
  [
    "root's password and key",
    '[[customizations.user]]\nname = "root"\npassword = "secret"\nkey = "ssh-ed25519 AAAA r@h"\n',
    {
      root_password: 'secret',
      directories: [{ path: '/root/.ssh', mode: '0700', owner: 'root:root' }],
      files: [{ dst: '/root/.ssh/authorized_keys', content: 'ssh-ed25519 AAAA r@h\n', mode: '0600', owner: 'root:root' }],
    },
  ],
  ['groups', '[[customizations.group]]\nname = "w"\ngid = 2000\n[[customizations.group]]\nname = "v"\n', { groups: [{ name: 'w', gid: 2000 }, { name: 'v' }] }],
  [
    'files and directories',
    '[[customizations.directories]]\npath = "/srv/x"\nmode = "750"\nuser = 1000\nensure_parents = true\n[[customizations.files]]\npath = "/srv/x/y"\nmode = "0600"\ngroup = "adm"\ndata = "hi\\n"\n',
    { directories: [{ path: '/srv/x', mode: '0750', owner: '1000:root' }], files: [{ dst: '/srv/x/y', content: 'hi\n', mode: '0600', owner: 'root:adm' }] },
  ],
  [
    'sshd settings as a drop-in',
    '[customizations.sshd]\npassword_authentication = false\npermit_root_login = "no"\n',
    { files: [{ dst: '/etc/ssh/sshd_config.d/50-blueprint.conf', content: 'PasswordAuthentication no\nPermitRootLogin no\n', mode: '0644' }] },
  ],
  [
    'filesystem: sizes as strings and integers, root last',
    '[[customizations.filesystem]]\nmountpoint = "/var/log"\nminsize = "1 GB"\n[[customizations.filesystem]]\nmountpoint = "/"\nminsize = 2147483648\n',
    {
      disk: {
        partitions: [
          { name: 'esp', type: 'esp', size: '256M', fs: 'vfat', mount: '/boot/efi' },
          { name: 'var-log', type: 'linux', size: '954M', fs: 'ext4', mount: '/var/log' },
          { name: 'root', type: 'root', size: 'rest', fs: 'ext4', mount: '/' },
        ],
        size: '3260M',
      },
    },
  ],
  [
    'disk: dos table, partitions with labels, swap',
    '[customizations.disk]\ntype = "dos"\nminsize = "10 GiB"\n[[customizations.disk.partitions]]\nminsize = "1 GiB"\nfs_type = "swap"\n[[customizations.disk.partitions]]\nmountpoint = "/"\nfs_type = "ext4"\nlabel = "root"\nminsize = "2 GiB"\n',
    {
      disk: {
        table: 'mbr',
        partitions: [
          { name: 'esp', type: 'esp', size: '256M', fs: 'vfat', mount: '/boot/efi' },
          { name: 'swap', type: 'swap', size: '1G', fs: 'swap' },
          { name: 'root', type: 'root', size: 'rest', fs: 'ext4', mount: '/', label: 'root' },
        ],
        size: '10G',
      },
    },
  ],
  [
    'a repository with an armored key, a suite and components',
    `[[customizations.repositories]]\nid = "Extra Repo"\nbaseurls = ["https://deb.example/debian bookworm main contrib"]\ngpgkeys = ["${KEY}"]\n`,
    { apt: { sources: [{ name: 'extra-repo', uris: ['https://deb.example/debian'], suites: ['bookworm'], components: ['main', 'contrib'], key: `${KEY.replaceAll('\\n', '\n')}\n` }] } },
  ],
  [
    'a repository URL alone gets the release and main',
    `distro = "debian-12"\n[[customizations.repositories]]\nid = "x"\nbaseurls = ["http://deb.example/"]\ngpgkeys = ["keys/x.asc"]\n`,
    { distro: { name: 'debian', release: 'bookworm' }, apt: { sources: [{ name: 'x', uris: ['http://deb.example/'], suites: ['bookworm'], components: ['main'], key: 'keys/x.asc' }] } },
  ],
  ['fips off, raw partitioning', '[customizations]\nfips = false\npartitioning_mode = "raw"\n', {}],
];

for (const [what, toml, fragment] of TRANSLATED) {
  void test(`blueprint → recipe: ${what}`, () => assert.deepEqual(recipeOf(toml), fragment));
}

const REFUSED: [string, string, string][] = [
  ['DNF modules', 'modules = [{ name = "nodejs", version = "18" }]\n', 'bp.toml:2:1 modules: DNF modules have no Debian equivalent (list the packages you need in [[packages]])'],
  ['a version pattern', '[[packages]]\nname = "vim"\nversion = "9.*"\n', 'bp.toml:4:1 packages[0].version: "9.*": apt pins exact versions only; give a Debian version (e.g. "2.4.62-1") or "*" for any'],
  ['a name pattern', 'packages = [{ name = "kernel-*" }]\n', 'bp.toml:2:15 packages[0].name: "kernel-*": apt installs packages by exact name, not by pattern (list the packages)'],
  ['an unknown group', '[[groups]]\nname = "workstation"\n', 'bp.toml:3:1 groups[0].name: package group "workstation" has no Debian equivalent (list its Debian packages in [[packages]]; groups kiln knows: core, minimal-environment, development-tools, c-development, container-management, headless-management)'],
  ['containers', '[[containers]]\nsource = "quay.io/x/y"\n', 'bp.toml:2:1 containers: embedding container images has no kiln equivalent yet (pull them on first boot with a systemd unit, or build the image with outputs: oci)'],
  ['an unknown top-level key', 'pakages = []\n', 'bp.toml:2:1 pakages: unknown key (did you mean "packages"?)'],
  ['an unknown customization', '[customizations]\nhostnme = "x"\n', 'bp.toml:3:1 customizations.hostnme: unknown key (did you mean "hostname"?)'],
  ['an unknown key in a user', '[[customizations.user]]\nname = "a"\nshel = "/bin/sh"\n', 'bp.toml:4:1 customizations.user[0].shel: unknown key (did you mean "shell"?)'],
  ['a wrong type', '[customizations]\nhostname = 5\n', 'bp.toml:3:1 customizations.hostname: expected a string, got 5'],
  ['a wrong type in a list', '[customizations.services]\nenabled = ["ssh", 3]\n', 'bp.toml:3:19 customizations.services.enabled[1]: expected a string, got 3'],
  ['a table where a list of tables goes', '[customizations.user]\nname = "a"\n', 'bp.toml:2:1 customizations.user: expected a list of tables ([[customizations.user]]), got a table'],
  ['a forbidden mount point', '[[customizations.filesystem]]\nmountpoint = "/etc"\nminsize = "1 GiB"\n', 'bp.toml:3:1 customizations.filesystem[0].mountpoint: "/etc" cannot be a mount point: /etc must be on the root file system'],
  ['a mount point below /usr', '[[customizations.filesystem]]\nmountpoint = "/usr/bin"\nminsize = 1\n', 'bp.toml:3:1 customizations.filesystem[0].mountpoint: "/usr/bin" cannot be a mount point: only /usr itself can be mounted separately (the initramfs mounts nothing below it)'],
  ['the ESP', '[[customizations.filesystem]]\nmountpoint = "/boot/efi"\nminsize = "1 GiB"\n', 'bp.toml:3:1 customizations.filesystem[0].mountpoint: "/boot/efi" cannot be a mount point: /boot/efi is the EFI system partition, which kiln makes itself (256M, vfat)'],
  ['a bad size', '[[customizations.filesystem]]\nmountpoint = "/srv"\nminsize = "ten gigs"\n', 'bp.toml:4:1 customizations.filesystem[0].minsize: "ten gigs" is not a size (a number of bytes, or a number with kB, MB, GB, TB, KiB, MiB, GiB or TiB, e.g. "20 GiB")'],
  ['filesystem and disk together', '[[customizations.filesystem]]\nmountpoint = "/srv"\nminsize = 1\n[customizations.disk]\ntype = "gpt"\n', 'bp.toml:5:1 customizations.disk: cannot be used with [[customizations.filesystem]] (as in composer): give the partitions in one of them'],
  ['LVM', '[[customizations.disk.partitions]]\ntype = "lvm"\nminsize = "1 GiB"\n', 'bp.toml:3:1 customizations.disk.partitions[0].type: kiln writes plain partitions: LVM volume groups need device-mapper, which kiln does not use (give each logical volume as a plain partition)'],
  ['a bad file mode', '[[customizations.files]]\npath = "/etc/x"\nmode = "0999"\ndata = "x"\n', 'bp.toml:4:1 customizations.files[0].mode: "0999" is not a file mode (an octal number of 3 digits, optionally with a leading 0, e.g. "0644")'],
  ['a system file', '[[customizations.files]]\npath = "/etc/shadow"\ndata = "x"\n', 'bp.toml:3:1 customizations.files[0].path: "/etc/shadow" cannot be written by a blueprint: /etc/shadow is made from the users and disk the blueprint describes'],
  ['a directory under /usr', '[[customizations.directories]]\npath = "/usr/lib/x"\n', 'bp.toml:3:1 customizations.directories[0].path: "/usr/lib/x" cannot be written by a blueprint: /usr belongs to the system (blueprints may write below /etc, /usr/local, /var, /opt, /srv, /home, /root)'],
  ['a host file by reference', '[[customizations.files]]\npath = "/etc/x"\nref = "/home/me/x"\n', 'bp.toml:4:1 customizations.files[0].ref: reads a file of the machine that builds the image: put its text in data, or copy the file next to the recipe and name it in files: src (kiln import writes the recipe)'],
  ['a firewall port in kiln\'s form', '[customizations.firewall]\nports = ["22/tcp"]\n', 'bp.toml:3:10 customizations.firewall.ports[0]: "22/tcp" is not a port (PORT:tcp or PORT:udp, e.g. "22:tcp", "60000-60010:udp", "https:tcp")'],
  ['firewall zones', '[[customizations.firewall.zones]]\nname = "trusted"\nsources = ["10.0.0.0/8"]\n', "bp.toml:2:1 customizations.firewall.zones: firewall zones have no equivalent in kiln's firewall key (one zone: open ports and services for every source)"],
  ['a kernel kiln does not know', '[customizations.kernel]\nname = "kernel-debug"\n', 'bp.toml:3:1 customizations.kernel.name: "kernel-debug" is not a Debian kernel package (kernel is the default; kernel-rt, or a Debian name such as linux-image-cloud-amd64)'],
  ['FIPS', '[customizations]\nfips = true\n', 'bp.toml:3:1 customizations.fips: FIPS mode needs FIPS-validated crypto modules, which Debian does not ship'],
  ['OpenSCAP', '[customizations.openscap]\nprofile_id = "cis"\n', 'bp.toml:2:1 customizations.openscap: OpenSCAP profiles are written for RHEL and Fedora; Debian has no SCAP content to apply (harden with files, services and a customize hook)'],
  ['an account expiry', '[[customizations.user]]\nname = "a"\nexpiredate = 12345\n', 'bp.toml:4:1 customizations.user[0].expiredate: account expiry dates have no kiln key yet (set one with chage -E in a customize hook)'],
  ['a key URL', '[[customizations.repositories]]\nid = "x"\nbaseurls = ["http://r/"]\ngpgkeys = ["https://r/key.asc"]\n', 'bp.toml:5:12 customizations.repositories[0].gpgkeys[0]: kiln does not fetch keys from URLs: paste the armored key ("-----BEGIN PGP PUBLIC KEY BLOCK-----...") or name a key file next to the blueprint'],
  ['an unsigned repository', '[[customizations.repositories]]\nid = "x"\nbaseurls = ["http://r/"]\ngpgcheck = false\n', "bp.toml:5:1 customizations.repositories[0].gpgcheck: kiln installs only from signed repositories: give the repository's key in gpgkeys"],
  ['a mirror list', '[[customizations.repositories]]\nid = "x"\nmirrorlist = "http://r/list"\ngpgkeys = ["k.asc"]\n', 'bp.toml:4:1 customizations.repositories[0].mirrorlist: apt has no metalinks or mirror lists: give the repository in baseurls'],
  ['another distribution', 'distro = "fedora-40"\n', 'bp.toml:2:1 distro: "fedora-40": kiln builds Debian (debian-12, debian-13, debian-forky, debian-sid; or leave distro out for Debian trixie; --lenient builds that) (--lenient drops it with a warning)'],
  ['RHSM', '[customizations.rhsm.config.dnf_plugins.product_id]\nenabled = true\n', 'bp.toml:2:1 customizations.rhsm: Red Hat Subscription Manager has no meaning on Debian (--lenient drops it with a warning)'],
  ['TOML syntax', 'foo = [1,\n', 'bp.toml:3:1 invalid value (the file is not valid TOML)'],
];

for (const [what, toml, message] of REFUSED) {
  void test(`blueprint refused: ${what}`, () => assert.equal(errorOf(toml), message));
}

void test('a blueprint without a name is refused', () => {
  assert.throws(() => translateBlueprint('bp.toml', 'description = "x"\n'), { message: 'bp.toml:1:1 (blueprint): "name" is required (e.g. name = "my-image")' });
});

void test('every refusal of a blueprint is reported at once', () => {
  assert.equal(errorOf('modules = [{ name = "a" }]\n[customizations]\nfips = true\nhostnme = "x"\n').split('\n').length, 3);
});

void test('--lenient turns refusals of keys that do not change the image into warnings, and only those', () => {
  const toml = 'distro = "rhel-9"\n[customizations]\ninstallation_device = "/dev/sda"\n[customizations.rhsm.config]\n[customizations.dnf.config]\n[[customizations.repositories]]\nid = "off"\nbaseurls = ["http://r/"]\ngpgkeys = ["k.asc"]\nenabled = false\n';
  const t = translateBlueprint('bp.toml', `name = "t"\n${toml}`, { lenient: true });
  assert.deepEqual(
    t.warnings.map((w) => `${w.line}:${w.col} ${w.message}`),
    [
      '2:1 distro: "rhel-9": kiln builds Debian (debian-12, debian-13, debian-forky, debian-sid; or leave distro out for Debian trixie; --lenient builds that) (dropped: --lenient)',
      '4:1 customizations.installation_device: is for installer images; kiln writes the disk image itself (dropped: --lenient)',
      '5:1 customizations.rhsm: Red Hat Subscription Manager has no meaning on Debian (dropped: --lenient)',
      '6:1 customizations.dnf: configures DNF, which a Debian image does not have (dropped: --lenient)',
      '11:1 customizations.repositories[0].enabled: a disabled repository is not used to build the image and apt sources have no disabled state (dropped: --lenient)',
    ],
  );
  assert.deepEqual(t.recipe, { name: 't' });
  assert.equal(errorOf(toml).split('\n').length, 5, 'without --lenient each is refused');
  assert.match(errorOf('[customizations]\nfips = true\n', { lenient: true }), /FIPS mode/, '--lenient keeps refusing what changes the image');
  const xfs = recipeOf('[[customizations.disk.partitions]]\nmountpoint = "/srv"\nfs_type = "xfs"\nminsize = "1 GiB"\n', { lenient: true });
  assert.deepEqual((xfs.disk as { partitions: { fs: string }[] }).partitions.map((p) => p.fs), ['vfat', 'ext4', 'ext4'], 'xfs becomes ext4');
});

void test('--type maps composer image types onto outputs and refuses the others with the list', () => {
  assert.deepEqual(recipeOf('', { type: 'qcow2' }), { outputs: ['qcow2'] });
  assert.deepEqual(recipeOf('', { type: 'guest-image' }), { outputs: ['qcow2'] });
  assert.deepEqual(recipeOf('', { type: 'image' }), { outputs: ['raw'] });
  assert.deepEqual(recipeOf('', { type: 'vhd' }), { outputs: ['vhdx'] });
  assert.deepEqual(recipeOf('', { type: 'tar' }), { outputs: ['tar'] });
  assert.deepEqual(recipeOf('', { type: 'container' }), { outputs: ['oci'], kernel: { package: 'none' }, bootloader: 'none' });
  const list = 'supported: qcow2, guest-image, openstack, raw, image, minimal-raw, ami, ec2, vmdk, vhd, tar, container, oci';
  assert.throws(() => recipeOf('', { type: 'floppy' }), { message: `--type floppy: not an image type kiln makes from a blueprint (${list})` });
  assert.throws(() => recipeOf('', { type: 'ova' }), { message: `--type ova: kiln has no OVA output (use vmdk) (${list})` });
});
